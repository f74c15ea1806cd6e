"""Every verdict on real code holds: the labelled findings of corpus (p) (``pytest -m slow``).

``tests/data/precision_labels.jsonl`` holds a reviewer's verdict (true, false, debatable, with a
reason) on every finding the default rules report on the ten real projects of corpus (p)
(``python benchmarks/build_corpus.py --corpus p --skip-venvs``). This test runs the command over
each project as its users would and fails when

* a finding judged false comes back,
* a finding judged true disappears,
* a finding appears that nobody has judged: a rule change comes with its verdicts
  (``python benchmarks/precision.py --show unlabelled`` lists them),
* a default rule falls below 95% precision there.

It prints the table of ``benchmarks/precision.py``. Skipped when the corpus is not built.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import precision  # noqa: E402

needs_corpus = [
    pytest.mark.slow,
    pytest.mark.skipif(not precision.projects(), reason="corpus (p) not built (benchmarks/build_corpus.py --corpus p)"),
]


@pytest.fixture(scope="module")
def comparison() -> precision.Comparison:
    dirs = precision.projects()
    rows = [row for project in dirs for row in precision.findings(project)]
    result = precision.compare(precision.load_labels(), rows, [p.name for p in dirs])
    print("\n" + precision.render(precision.per_rule(result), markdown=False))
    return result


@needs_corpus[0]
@needs_corpus[1]
def test_no_finding_judged_false_comes_back(comparison):
    assert comparison.came_back == []


@needs_corpus[0]
@needs_corpus[1]
def test_every_finding_judged_true_remains(comparison):
    assert comparison.disappeared == []


@needs_corpus[0]
@needs_corpus[1]
def test_every_finding_has_a_verdict(comparison):
    assert comparison.unlabelled == [], "label them: python benchmarks/precision.py --show unlabelled"


@needs_corpus[0]
@needs_corpus[1]
def test_every_default_rule_is_at_least_95_percent_precise(comparison):
    low = {code: round(p, 3) for code, counts in precision.per_rule(comparison).items()
           if (p := precision.precision(counts)) is not None and p < precision.TARGET}
    assert low == {}


def test_labels_are_well_formed():
    seen: dict = {}
    for row in precision.load_labels():
        assert row["verdict"] in ("true", "false", "debatable"), row
        assert row["reason"].strip(), row
        assert row["code"].startswith("STL") and int(row["line"]) >= 1, row
        # two findings of one code on one line share their verdict (the comparison keys on the line)
        assert seen.setdefault(precision.key(row), row["verdict"]) == row["verdict"], row


def _row(line, code="STL104", verdict=None, message="m", **extra):
    row = {"project": "p", "path": "a.py", "line": line, "code": code, "message": message, **extra}
    if verdict:
        row.update(verdict=verdict, reason="r")
    return row


def test_compare_on_synthetic_rows():
    labels = [_row(1, verdict="false"), _row(2, verdict="true"), _row(3, verdict="true", grouped_into=2),
              _row(4, verdict="true", grouped_into=2), _row(5, verdict="debatable")]
    head = "blocking open() (and 1 more blocking file I/O call in this function: line 3)"
    found = [_row(1), _row(2, message=head), _row(6), _row(5)]
    result = precision.compare(labels, found, ["p"])
    assert [k.line for k in result.came_back] == [1]
    assert [k.line for k in result.disappeared] == [4]  # 3 is listed by the head, 4 is not
    assert [k.line for k in result.unlabelled] == [6]
    table = precision.per_rule(result)["STL104"]
    assert (table["true"], table["false"], table["debatable"], table["unlabelled"]) == (1, 1, 1, 1)
    assert precision.precision(table) == 0.5
    assert "STL104" in precision.render(precision.per_rule(result), markdown=True)
