"""Expected-finding markers in fixture files.

* ``# error: STL101`` at the end of a line: that line must report STL101
  (several codes: ``# error: STL201, STL203``; a column, 1-based as flake8
  prints it: ``# error: STL101:5``).
* ``# ok: STL101`` marks a look-alike that must not report STL101 (the exact
  comparison already forbids any unexpected finding; the marker documents the
  case and lets a test check that every rule has negative cases).
* Leading ``# config: <toml>`` lines form a ``[tool.starlette-lint]`` table for
  the file (e.g. ``# config: extend-select = ["STL306"]``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from starlette_lint.config import Config, from_mapping

FIXTURES = Path(__file__).parent / "fixtures"
_ERROR = re.compile(r"#\s*error:\s*([A-Z0-9:, ]+)")
_OK = re.compile(r"#\s*ok:\s*([A-Z0-9, ]+)")


@dataclass(frozen=True)
class Expected:
    line: int
    code: str
    col: int | None  # 1-based, when the marker gives one


def parse_markers(text: str) -> tuple[list[Expected], dict[str, int]]:
    expected: list[Expected] = []
    ok: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _ERROR.search(line)
        if m:
            for item in m.group(1).split(","):
                item = item.strip()
                if not item:
                    continue
                code, _, col = item.partition(":")
                expected.append(Expected(lineno, code.strip(), int(col) if col.strip() else None))
        m = _OK.search(line)
        if m:
            for code in m.group(1).split(","):
                code = code.strip()
                if code:
                    ok[code] = ok.get(code, 0) + 1
    return expected, ok


def fixture_config(text: str) -> Config:
    lines = []
    for line in text.splitlines():
        if line.startswith("# config:"):
            lines.append(line[len("# config:"):].strip())
        elif line.strip() and not line.startswith("#"):
            break
    # tests/fixtures/pyproject.toml makes the fixtures folder the configuration root
    return from_mapping(tomllib.loads("\n".join(lines)), root=str(FIXTURES))


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py") if not p.name.startswith("_"))
