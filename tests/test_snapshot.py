"""Findings snapshot over the benchmark corpora: optimisations must not change a single finding.

Runs ``check_source`` with every rule (opt-in rules included) over each ``.py`` file of the
corpora that ``benchmarks/build_corpus.py`` builds (``benchmarks/.corpus/{a,b,c}``) and compares
``(path, line, column, code)`` with ``tests/data/corpus_findings.json``. Messages are left out:
their wording is not what an optimisation may change, and it changes with rule work.

On demand only (``pytest -m slow``; ~30 s). Skipped when the corpora are not built. The snapshot
is per package folder (``b/sqladmin-0.32.0``): packages of the snapshot that are not on disk
are skipped, packages on disk that the snapshot does not know are ignored (a changed
composition of the corpora needs a new snapshot, see below), and every file of a compared
package must match exactly.

Regenerate after an intended change of findings (a rule fixed or added, the corpora rebuilt)::

    STARLETTE_LINT_SNAPSHOT=update python -m pytest -m slow tests/test_snapshot.py
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from starlette_lint.config import DEFAULT
from starlette_lint.engine import check_source
from starlette_lint.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "benchmarks" / ".corpus"
SNAPSHOT = Path(__file__).resolve().parent / "data" / "corpus_findings.json"
CORPORA = ("a", "b", "b0", "c")  # b0: benchmarks/build_corpus.py --corpus b0
UPDATE = os.environ.get("STARLETTE_LINT_SNAPSHOT", "").strip().lower() == "update"

pytestmark = pytest.mark.slow


def _packages() -> list[Path]:
    return [p for c in CORPORA if (CORPUS / c).is_dir() for p in sorted((CORPUS / c).iterdir()) if p.is_dir()]


def _package_findings(package: Path) -> list[list]:
    """``[path relative to the corpus folder, line, column (0-based), code]``, sorted."""
    rules = all_rules()
    rows = []
    for file in sorted(package.rglob("*.py")):
        rel = file.relative_to(CORPUS).as_posix()
        for f in check_source(file.read_bytes(), rel, DEFAULT, rules=rules):
            rows.append([rel, f.line, f.col, f.code])
    return sorted(rows)


def _key(package: Path) -> str:
    return package.relative_to(CORPUS).as_posix()


def test_corpus_findings_unchanged() -> None:
    packages = _packages()
    if not packages:
        pytest.skip("benchmark corpora not built (python benchmarks/build_corpus.py)")
    if UPDATE:
        data = {
            "about": "findings of check_source with every rule over benchmarks/.corpus; see tests/test_snapshot.py",
            "packages": {_key(p): _package_findings(p) for p in packages},
        }
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"snapshot written: {SNAPSHOT}")
    if not SNAPSHOT.exists():
        pytest.fail(f"no snapshot {SNAPSHOT}; create it with STARLETTE_LINT_SNAPSHOT=update")
    expected: dict[str, list] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["packages"]
    compared = [p for p in packages if _key(p) in expected]
    if not compared:
        pytest.skip("none of the snapshot's packages is in the built corpora")
    problems = []
    for package in compared:
        want = Counter(tuple(r) for r in expected[_key(package)])
        got = Counter(tuple(r) for r in _package_findings(package))
        if want != got:
            missing = sorted((want - got).elements())
            extra = sorted((got - want).elements())
            problems.append(f"{_key(package)}: {len(missing)} missing, {len(extra)} new\n"
                            + "".join(f"  - {m}\n" for m in missing[:20])
                            + "".join(f"  + {e}\n" for e in extra[:20]))
    assert not problems, "findings changed (regenerate with STARLETTE_LINT_SNAPSHOT=update if intended):\n" + "".join(problems)
