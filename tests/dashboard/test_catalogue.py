"""The message catalogues: the Korean one is Korean (no value left in English but names every language
shares), and every stable code the API sends (problem codes, row reasons, post errors and waits) has its
wording in both. The codes are read from the sources that raise them, so a new code without a wording
fails here rather than showing English in the Korean UI."""

from __future__ import annotations

import re
import typing

import pytest

from icop.images.errors import RejectReason
from icop.runs.admission import Refusal

from .catalogue import SHARED, Catalogues, compile_catalogues
from .conftest import ROOT

# Where codes are made: a ``code=`` argument, a DomainError class's ``code`` attribute, and the homes of
# the quota waits, the plan-row checks and the plan-file errors (codes as positional arguments).
KWARG = re.compile(r'\bcode\s*=\s*"([a-z0-9_.]+)"')
CLASS_ATTR = re.compile(r'^\s+status, title, code = [^\n]*"([a-z0-9_.]+)"\s*$', re.M)
HOMES = {
    "icop/social/quota.py": "quota",
    "icop/planning/plan.py": "row",
    "icop/planning/files.py": "plan_file",
    "icop/insights/collector.py": "insights",
    "icop/insights/budget.py": "insights",  # why a post's engagement is no longer (or not yet) collected
    "icop/modelkeys/rules.py": "model_key",  # why a tenant's own model key is paused or not used
}
# Row checks are worded by the plan form's own keys (dashboard/src/lib/problems.ts planProblem).
PLAN_FORM_CODES = {"row.empty_topic", "row.formula", "row.too_long", "row.unknown_language"}


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalogues:
    return compile_catalogues(tmp_path_factory.mktemp("i18n"))


def codes_in_sources() -> set[str]:
    found: set[str] = set()
    for folder in ("gateway", "icop", "workflows"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            found |= set(KWARG.findall(text)) | set(CLASS_ATTR.findall(text))
            prefix = HOMES.get(str(path.relative_to(ROOT)))
            if prefix:
                found |= set(re.findall(rf'"({prefix}\.[a-z0-9_]+)"', text))
    found |= {f"run.{r.value}" for r in Refusal}
    found |= {f"image.{r}" for r in typing.get_args(RejectReason)}
    return found


def test_the_korean_catalogue_is_korean(cat: Catalogues) -> None:
    english = {}
    for key, value in cat.ko.items():
        words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}", "", value))
        if words and not re.search(r"[가-힣]", value) and value not in SHARED:
            english[key] = value
    assert not english, english
    assert cat.en.keys() == cat.ko.keys()


def test_every_code_the_api_sends_is_worded(cat: Catalogues) -> None:
    codes = codes_in_sources()
    assert {"plan_limit.accounts", "post.refused", "quota.window", "run.budget", "plan_file.not_utf8",
            "row.planning_failed", "sheet.not_found", "image.corrupt"} <= codes  # fmt: skip
    worded = {k.split(".", 2)[2] for k in cat.en if k.startswith(("problems.codes.", "problems.rows.",
                                                                   "problems.posts."))}  # fmt: skip
    missing = sorted(c for c in codes - PLAN_FORM_CODES if c not in worded)
    assert not missing, missing
