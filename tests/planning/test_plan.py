"""The content plan: validation per row, bad rows reported and skipped, write-back ranges."""

from __future__ import annotations

from icop.planning.plan import parse_csv, parse_rows, status_updates, subtopic_updates


def test_bad_rows_are_reported_and_skipped_and_the_rest_go_on() -> None:
    values = [
        ["Home coffee", "beginners", "en", ""],
        ["", "notes without a topic", "en"],
        ['=HYPERLINK("http://evil")', "", "en"],
        ["Korean tea", "", "ko", "pending"],
        ["Some topic", "", "klingon"],
        ["x" * 201, "", "en"],
        ["+cmd", "", ""],
        ["@SUM(A1)", "", ""],
        ["-2 tips", "", ""],
        [],  # blank line: not an error
        ["Done topic", "", "en", "done", "https://example.com/a"],
        ["Notes too long", "n" * 2001, "en"],
    ]
    plan = parse_rows(values)
    assert [r.topic for r in plan.rows] == ["Home coffee", "Korean tea", "Done topic"]
    assert [r.row_number for r in plan.pending] == [2, 5]
    problems = {(p.row_number, p.column): p.reason for p in plan.problems}
    assert set(problems) == {(3, "A"), (4, "A"), (6, "C"), (7, "A"), (8, "A"), (9, "A"), (10, "A"), (13, "B")}
    assert "empty" in problems[(3, "A")]
    assert "formula" in problems[(4, "A")]
    assert "klingon" in problems[(6, "C")] and "ko" in problems[(6, "C")]
    assert "201 characters" in problems[(7, "A")]
    assert all(str(p).startswith(f"row {p.row_number}") for p in plan.problems)


def test_default_language_and_csv() -> None:
    plan = parse_csv("topic,notes,language\nCoffee,,\n커피 원두,초보자,ko\n", default_language="en")
    assert [(r.row_number, r.topic, r.language) for r in plan.rows] == [
        (2, "Coffee", "en"),
        (3, "커피 원두", "ko"),
    ]


def test_write_back_ranges_are_one_per_row_and_never_formulas() -> None:
    ups = status_updates({5: ("done", "https://x/a"), 2: ("error: bad", "=evil")})
    assert [u.range for u in ups] == ["ContentPlan!D2:E2", "ContentPlan!D5:E5"]
    assert ups[0].values == [["error: bad", "'=evil"]]
    subs = subtopic_updates(
        7, [(2, "Coffee", "Grinders", "planned", ""), (2, "Coffee", "Espresso", "planned", "")]
    )
    assert [u.range for u in subs] == ["Subtopics!A7:E8"]
    assert subs[0].values[1] == ["2", "Coffee", "Espresso", "planned", ""]
