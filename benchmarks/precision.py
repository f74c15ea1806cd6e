"""Precision of the default rules on real code: the labelled findings of corpus (p).

    python benchmarks/build_corpus.py --corpus p --skip-venvs   # once: ten real projects, ~860k lines
    python benchmarks/precision.py                              # the table, per rule
    python benchmarks/precision.py --markdown                   # the same, for benchmarks/README.md

Every finding the default rules report on corpus (p) was read by a reviewer and judged true,
false or debatable, with a reason: ``tests/data/precision_labels.jsonl`` (one JSON object a
line: project, path, line, code, verdict, reason, ``message_wrong`` where the finding is
right but its message states something false, and ``grouped_into`` (a line) where the call is
now listed in the message of the function's first finding of that code instead of reported).
Precision is true / (true + false), debatable
findings left out; the findings column counts them all. ``tests/test_precision.py`` (``pytest -m
slow``) fails when a finding judged false comes back, when one judged true disappears, or when
a finding nobody has judged appears: a rule change comes with the verdicts on what it changes.

Each project is checked as its users would check it: the command from the project's folder,
with the defaults (``--isolated``), so that its tests/, docs_src/, examples/ are classed as such.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "benchmarks" / ".corpus" / "p"
LABELS = ROOT / "tests" / "data" / "precision_labels.jsonl"
TARGET = 0.95


class Key(NamedTuple):
    project: str
    path: str
    line: int
    code: str


def load_labels(path: Path = LABELS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def key(row: dict) -> Key:
    return Key(row["project"], row["path"], int(row["line"]), row["code"])


def projects(corpus: Path = CORPUS) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir()) if corpus.is_dir() else []


def findings(project: Path) -> list[dict]:
    """The default rules' findings on one project, as its users would run the command."""
    proc = subprocess.run(
        [sys.executable, "-m", "starlette_lint.cli", "check", "--isolated", "--no-cache", "--exit-zero", "-q",
         "--file-timeout", "0", "--format", "json", "."],  # no budget: a busy machine must not change findings
        cwd=project, capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{project.name}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    out = []
    for row in json.loads(proc.stdout):
        rel = Path(row["path"])
        rel = rel.relative_to(project) if rel.is_absolute() else rel
        out.append({"project": project.name, "path": rel.as_posix(), "line": row["line"], "code": row["code"],
                    "message": row["message"]})
    return out


class Comparison(NamedTuple):
    found: Counter  # Key -> count, as reported now
    verdicts: dict  # Key -> verdict
    came_back: list  # findings judged false that are reported
    disappeared: list  # findings judged true that are not
    unlabelled: list  # findings nobody judged


def compare(labels: Iterable[dict], found_rows: Iterable[dict], projects_run: Iterable[str]) -> Comparison:
    ran = set(projects_run)
    labelled: Counter = Counter()
    verdicts: dict = {}
    for row in labels:
        if row["project"] in ran:
            labelled[key(row)] += 1
            verdicts[key(row)] = row["verdict"]
    found_rows = list(found_rows)
    found = Counter(key(row) for row in found_rows)
    # a call reported inside another finding's message ("... (and 2 more blocking file I/O calls
    # in this function: lines 145, 171)") is present when that finding lists its line
    listed = {key(row): set(re.findall(r"\d+", row["message"].rpartition(": line")[2]))
              for row in found_rows if "more blocking" in row["message"]}
    heads = {key(row): key({**row, "line": row["grouped_into"]}) for row in labels
             if row["project"] in ran and row.get("grouped_into")}
    came_back = sorted(k for k in found if verdicts.get(k) == "false")
    disappeared = sorted(k for k, n in labelled.items() if verdicts[k] == "true" and found[k] < n
                         and not (k in heads and str(k.line) in listed.get(heads[k], ())))
    unlabelled = sorted(k for k in found if k not in verdicts)
    return Comparison(found, verdicts, came_back, disappeared, unlabelled)


def per_rule(comparison: Comparison) -> dict[str, Counter]:
    """code -> Counter(true=, false=, debatable=, unlabelled=) over what is reported now."""
    table: dict[str, Counter] = {}
    for k, n in comparison.found.items():
        verdict = comparison.verdicts.get(k, "unlabelled")
        table.setdefault(k.code, Counter())[verdict] += n
    return table


def precision(counts: Counter) -> float | None:
    judged = counts["true"] + counts["false"]
    return counts["true"] / judged if judged else None


def render(table: dict[str, Counter], markdown: bool) -> str:
    rows = [("rule", "findings", "true", "false", "debatable", "unlabelled", "precision")]
    total: Counter = Counter()
    for code in sorted(table):
        c = table[code]
        total.update(c)
        p = precision(c)
        rows.append((code, str(sum(c.values())), str(c["true"]), str(c["false"]), str(c["debatable"]),
                     str(c["unlabelled"]), "n/a" if p is None else f"{p:.0%}" + ("" if p >= TARGET else " (< 95%)")))
    p = precision(total)
    rows.append(("all", str(sum(total.values())), str(total["true"]), str(total["false"]), str(total["debatable"]),
                 str(total["unlabelled"]), "n/a" if p is None else f"{p:.0%}"))
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument("--show", choices=("came-back", "disappeared", "unlabelled"), action="append", default=[],
                        help="list these findings too")
    args = parser.parse_args(argv)
    dirs = projects()
    if not dirs:
        print("corpus (p) is not built: python benchmarks/build_corpus.py --corpus p --skip-venvs", file=sys.stderr)
        return 2
    rows = [row for project in dirs for row in findings(project)]
    comparison = compare(load_labels(), rows, [p.name for p in dirs])
    print(render(per_rule(comparison), args.markdown))
    for what in args.show:
        items = {"came-back": comparison.came_back, "disappeared": comparison.disappeared,
                 "unlabelled": comparison.unlabelled}[what]
        print(f"\n{what}: {len(items)}")
        messages = {key(r): r["message"] for r in rows}
        for k in items:
            print(f"  {k.project}/{k.path}:{k.line} {k.code} {messages.get(k, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
