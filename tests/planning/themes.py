"""A seeded candidate set with known themes (what an LLM's "many angles" answer looks like)."""

from __future__ import annotations

import random

THEMES: dict[str, list[str]] = {
    "espresso": ["espresso machine", "espresso shot pulling", "espresso crema", "espresso extraction pressure"],
    "pour-over": ["pour-over coffee with a V60", "pour-over bloom", "Chemex pour-over", "pour-over kettle pouring"],
    "roasting": ["roasting coffee beans at home", "light versus dark roast", "home roaster machines", "roast level"],
    "grinder": ["burr grinder", "blade grinder versus burr grinder", "grind size", "grinder calibration"],
    "latte-art": ["latte art with milk foam", "steaming milk for latte art", "latte art heart", "milk frothing"],
    "cold-brew": ["cold brew concentrate", "cold brew steeping time", "iced coffee versus cold brew", "cold brew jar"],
}
FRAMES = [
    "A beginner's guide to {}", "Common mistakes with {}", "{} explained simply", "How to improve your {}",
    "The science behind {}", "{}: tips from baristas", "Budget options for {}", "Why {} matters",
    "{} in five minutes", "Troubleshooting {}", "The history of {}", "Advanced techniques for {}",
]


def candidates(per_theme: int, seed: int = 7, themes: dict[str, list[str]] = THEMES) -> tuple[list[str], list[str]]:
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
