"""A seeded candidate set with known themes (what an LLM's "many angles" answer looks like)."""

from __future__ import annotations

import random

THEMES: dict[str, list[str]] = {
    "espresso": [
        "espresso machine",
        "espresso shot pulling",
        "espresso crema",
        "espresso extraction pressure",
    ],
    "pour-over": [
        "pour-over coffee with a V60",
        "pour-over bloom",
        "Chemex pour-over",
        "pour-over kettle pouring",
    ],
    "roasting": [
        "roasting coffee beans at home",
        "light versus dark roast",
        "home roaster machines",
        "roast level",
    ],
    "grinder": ["burr grinder", "blade grinder versus burr grinder", "grind size", "grinder calibration"],
    "latte-art": [
        "latte art with milk foam",
        "steaming milk for latte art",
        "latte art heart",
        "milk frothing",
    ],
    "cold-brew": [
        "cold brew concentrate",
        "cold brew steeping time",
        "iced coffee versus cold brew",
        "cold brew jar",
    ],
}
FRAMES = [
    "A beginner's guide to {}",
    "Common mistakes with {}",
    "{} explained simply",
    "How to improve your {}",
    "The science behind {}",
    "{}: tips from baristas",
    "Budget options for {}",
    "Why {} matters",
    "{} in five minutes",
    "Troubleshooting {}",
    "The history of {}",
    "Advanced techniques for {}",
]


def candidates(
    per_theme: int, seed: int = 7, themes: dict[str, list[str]] = THEMES
) -> tuple[list[str], list[str]]:
    """(candidates, theme of each), shuffled the way a model's answer would interleave them."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for theme, subjects in themes.items():
        combos = [(f, s) for f in FRAMES for s in subjects]
        rng.shuffle(combos)
        for frame, subject in combos[:per_theme]:
            out.append((frame.format(subject), theme))
    rng.shuffle(out)
    return [c for c, _ in out], [t for _, t in out]


# A harder set (the planning benchmark's): ten themes of one hobby, with twelve framings and twelve
# audiences that every theme shares, so what tells two candidates' themes apart is a few words.
WIDE_THEMES: dict[str, list[str]] = {
    "espresso": ["espresso machine", "espresso crema", "espresso extraction", "espresso shot timing"],
    "pour-over": ["pour-over with a V60", "pour-over bloom", "Chemex pour-over",
                  "pour-over kettle technique"],
    "roasting": ["home coffee roasting", "light versus dark roast", "roast profiles", "roasting green beans"],
    "grinder": ["burr grinder", "grind size", "grinder calibration", "hand grinder"],
    "latte-art": ["latte art", "steaming milk", "milk foam texture", "latte art tulip"],
    "cold-brew": ["cold brew concentrate", "cold brew steeping", "iced coffee versus cold brew",
                  "cold brew ratio"],
    "decaf": ["decaf coffee", "Swiss water decaf process", "caffeine-free coffee", "decaf taste"],
    "storage": ["storing coffee beans", "coffee bean freshness", "airtight coffee canister",
                "freezing coffee beans"],
    "water": ["water for brewing coffee", "water hardness and coffee", "filtered water for espresso",
              "brew water temperature"],
    "origins": ["Ethiopian coffee origins", "Colombian coffee beans", "single-origin coffee",
                "coffee growing regions"],
}  # fmt: skip
WIDE_FRAMES = ["A beginner's guide to {}", "Common mistakes with {}", "{} explained",
               "How to improve your {}", "The science of {}", "{}: tips from baristas",
               "Budget options for {}", "Why {} matters", "{} in five minutes", "Troubleshooting {}",
               "The history of {}", "Advanced {}"]  # fmt: skip
AUDIENCES = ["", " for beginners", " for cafes", " at home", " on a budget", " for enthusiasts", " in 2026",
             " for students", " for busy mornings", " for small kitchens", " for travellers",
             " for gift buyers"]  # fmt: skip


def wide_candidates(n: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """About ``n`` candidates of the wide set, shuffled, with the theme of each."""
    rng = random.Random(seed)
    per = n // len(WIDE_THEMES)
    out = []
    for theme, subjects in WIDE_THEMES.items():
        combos = [(f, s, a) for f in WIDE_FRAMES for s in subjects for a in AUDIENCES]
        rng.shuffle(combos)
        out += [(f.format(s) + a, theme) for f, s, a in combos[:per]]
    rng.shuffle(out)
    return [c for c, _ in out], [t for _, t in out]
