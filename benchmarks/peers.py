"""Recall on the peers' own annotated test cases, and what we report where they report nothing.

    python benchmarks/peers.py                        # flake8-async's eval files (downloaded with pip)
    python benchmarks/peers.py --ruff ~/src/ruff      # also ruff's FAST, ASYNC and RUF006 fixtures
    python benchmarks/peers.py --json out.json        # the per-case verdicts

Sources, never committed here (the peers' licences are theirs):

* **flake8-async**: its sdist (pinned, ``_common.PINS``) carries ``tests/eval_files``; an
  expected error is a ``# ASYNCnnn: ...`` or ``# error: ...`` marker on the line, as flake8-async's
  own test harness reads them. Downloaded into ``benchmarks/.corpus/peers/`` (ignored).
* **ruff**: its sdist leaves the fixtures out, so ``--ruff`` takes a checkout of the ruff
  repository (``git clone``). The expected errors are the ``-->`` locations of ruff's snapshots,
  which is what ruff itself asserts.
* **semgrep-rules**: not measured here. Its asyncpg/aiopg test files are not Python that runs
  (``await`` in plain functions, undefined names), and the rules report any formatted SQL whatever
  its source, where STL508 reports request data only: the equivalent cases are our own fixtures
  (``tests/fixtures/stl508_*.py``).

Each peer rule maps to the rule (or family) of ours that reports the same problem. A blocking
call must sit in request-path code for STL101-107, so the top-level ``async def`` s of the
ASYNC files are made FastAPI path operations: one ``@_peer_app.get(...)`` decorator line is
inserted above each, and a header binds ``_peer_app`` and imports the modules a file uses without
importing them (flake8-async matches text, we resolve names). Line numbers are mapped back.

A case is **found** when one of our findings of the mapped codes is on its line (FAST001 and
FAST003, which ruff reports on the decorator and we on the path or keyword, count per path
operation). An **extra** is a finding of ours on a line the peer reports nothing on: each must be
listed in ``DISAGREEMENTS`` with the reason we are right, or it counts against us.
``tests/test_peers.py`` (slow) holds the flake8-async figures; ruff's need the checkout.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from starlette_lint.config import from_mapping  # noqa: E402
from starlette_lint.engine import check_source  # noqa: E402

PEERS_DIR = BENCH / ".corpus" / "peers"
FLAKE8_ASYNC = "26.8.1"  # as _common.PINS
TARGET = 0.90

BLOCKING = ("STL101", "STL102", "STL103", "STL104", "STL105", "STL106", "STL107")


@dataclass(frozen=True)
class Suite:
    """One peer rule: where its cases are, and our rule(s) for it."""

    peer: str  # "ruff" or "flake8-async"
    code: str  # the peer's code
    files: tuple[str, ...]  # fixture names
    ours: tuple[str, ...]  # our codes that report the same problem
    per_definition: bool = False  # count per path operation, not per line
    decorate: bool = False  # make the top-level async defs path operations


RUFF_FIXTURES = "crates/ruff_linter/resources/test/fixtures"
RUFF_SUITES = [
    Suite("ruff", "FAST001", ("fastapi/FAST001.py",), ("STL611",), per_definition=True),
    Suite("ruff", "FAST002", ("fastapi/FAST002_0.py", "fastapi/FAST002_1.py", "fastapi/FAST002_2.py"),
          ("STL612",)),
    Suite("ruff", "FAST003", ("fastapi/FAST003.py",), ("STL610",), per_definition=True),
    Suite("ruff", "ASYNC110", ("flake8_async/ASYNC110.py",), ("STL110",), decorate=True),
    Suite("ruff", "ASYNC116", ("flake8_async/ASYNC116.py",), ("STL111",), decorate=True),
    Suite("ruff", "ASYNC210", ("flake8_async/ASYNC210.py",), BLOCKING, decorate=True),
    Suite("ruff", "ASYNC212", ("flake8_async/ASYNC212.py",), BLOCKING, decorate=True),
    Suite("ruff", "ASYNC22x", ("flake8_async/ASYNC22x.py",), BLOCKING, decorate=True),
    Suite("ruff", "ASYNC230", ("flake8_async/ASYNC230.py",), BLOCKING, decorate=True),
    Suite("ruff", "ASYNC250", ("flake8_async/ASYNC250.py",), BLOCKING, decorate=True),
    Suite("ruff", "ASYNC251", ("flake8_async/ASYNC251.py",), BLOCKING, decorate=True),
    Suite("ruff", "RUF006", ("ruff/RUF006.py",), ("STL108",), decorate=True),
]
FLAKE8_ASYNC_SUITES = [
    Suite("flake8-async", "ASYNC110", ("async110.py",), ("STL110",), decorate=True),
    Suite("flake8-async", "ASYNC116", ("async116.py",), ("STL111",), decorate=True),
    Suite("flake8-async", "ASYNC210", ("async210.py",), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC211", ("async211.py",), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC212", ("async212.py",), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC22x", ("async22x.py", "async22x_asyncio.py"), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC23x", ("async23x.py", "async23x_asyncio.py"), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC250", ("async250.py",), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC251", ("async251.py",), BLOCKING, decorate=True),
    Suite("flake8-async", "ASYNC300", ("async300.py",), ("STL108",), decorate=True),
]

# Where the peer's expectation is wrong, or is text matching we do not do on purpose, and where
# we report and the peer does not and we are right: (peer, fixture, line) -> reason. Each was
# checked by reading the case (and, where it says so, by running it). They count neither way.
_NOT_IMPORTED = "a name the file never imports: the peer matches text, we resolve names through imports"
_INF_TODO = "ruff's own fixture says this one definitely never wakes up (a TODO of theirs); flake8-async reports it"
_TEXT = "flake8-async reports any .inf attribute; this one names nothing that is infinity"
_ARITHMETIC = ("arithmetic on literals, over a day: the peers leave expressions unevaluated (ruff's fixture: "
               "'don't evaluate expressions (TODO)')")
_URLLIB3 = ("PoolManager.request() makes a request whatever its arguments; flake8-async matches only a "
            "literal HTTP verb")
DISAGREEMENTS: dict[tuple[str, str, int], str] = {
    ("ruff", "fastapi/FAST003.py", 171): "FastAPI 0.105 and later use the last Depends() in Annotated "
                                         "(tests/runtime: the first one never runs): {thing_id} is dropped",
    **{("ruff", "flake8_async/ASYNC116.py", k): _INF_TODO for k in (25, 26, 27, 78, 79, 80)},
    **{("ruff", "flake8_async/ASYNC116.py", k): _ARITHMETIC for k in (34, 35, 87, 88)},
    ("flake8-async", "async116.py", 30): _ARITHMETIC,
    ("flake8-async", "async116.py", 31): _ARITHMETIC,
    ("flake8-async", "async116.py", 39): "np is not imported in the file: " + _NOT_IMPORTED,
    ("flake8-async", "async116.py", 40): _TEXT,
    ("flake8-async", "async116.py", 41): _TEXT,
    ("flake8-async", "async116.py", 42): _TEXT,
    ("flake8-async", "async116.py", 48): "trio.sleep() has no parameter delay: a TypeError, not a long sleep",
    ("flake8-async", "async116.py", 49): "trio.sleep() has no parameter anything: a TypeError, not a long sleep",
    ("flake8-async", "async210.py", 50): _NOT_IMPORTED,
    ("flake8-async", "async210.py", 51): _NOT_IMPORTED,
    **{("flake8-async", "async211.py", k): _URLLIB3 for k in (19, 20, 22, 23, 24, 25, 26)},
    ("flake8-async", "async212.py", 49):
        "glob_client is rebound to 4 at module level: by the time the function runs, it is an int",
    ("flake8-async", "async212.py", 98):
        "Client imported from httpx is httpx.Client (flake8-async: 'not implemented')",
    ("flake8-async", "async300.py", 60): "a generator expression thrown away never runs: no task is started",
    ("flake8-async", "async300.py", 73):
        "create_task imported in the function is asyncio.create_task (flake8-async: 'not tracked')",
    ("flake8-async", "async300.py", 77):
        "boo = asyncio.create_task, then boo(): the same call (flake8-async: 'nor is assigning it')",
}

# Cases we miss, known and left (they count as missed): (peer, fixture, line) -> why.
KNOWN_MISSES: dict[tuple[str, str, int], str] = {
    ("ruff", "flake8_async/ASYNC230.py", 53): "an async function nested in another, never called nor registered: "
                                              "not request-path code",
    **{("flake8-async", "async212.py", k): "one name annotated with ten types in one function: a name is typed "
                                           "only when its bindings agree" for k in range(104, 123, 2)},
}

# flake8-async's eval files use these modules without importing them (it matches text)
_MODULES = ("asyncio", "anyio", "trio", "time", "os", "io", "subprocess", "requests", "httpx", "httpx2",
            "urllib", "urllib3", "pathlib", "sqlite3", "socket", "shutil", "builtins")
_MARKER = re.compile(r"(error|ASYNC...)(_.*)?:([^#]*)(?=#|$)")
_GROUPED = re.compile(r"in this function: lines? ([\d, ]+)\)")
_SNAPSHOT_LOCATION = re.compile(r"^\s*--> (?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+)")


@dataclass
class Result:
    suite: Suite
    fixture: str
    expected: set[int] = field(default_factory=set)
    found: set[int] = field(default_factory=set)
    extra: dict[int, str] = field(default_factory=dict)  # line -> our finding
    missed: dict[int, str] = field(default_factory=dict)  # line -> source
    explained: dict[int, str] = field(default_factory=dict)  # line -> reason (from DISAGREEMENTS)
    error: Optional[str] = None


# ----------------------------------------------------------------------------- sources
def flake8_async_dir(refresh: bool = False) -> Path:
    """flake8-async's eval files, downloaded once (pip, the pinned sdist)."""
    target = PEERS_DIR / f"flake8_async-{FLAKE8_ASYNC}"
    if target.is_dir() and not refresh:
        return target / "tests" / "eval_files"
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "--dest", str(PEERS_DIR), f"flake8-async=={FLAKE8_ASYNC}"], check=True)
    sdist = PEERS_DIR / f"flake8_async-{FLAKE8_ASYNC}.tar.gz"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/tests/eval_files/" in m.name and m.isfile()]
        try:
            tar.extractall(PEERS_DIR, members=members, filter="data")
        except TypeError:  # Python 3.10 before 3.10.12: no extraction filters (a pinned, known sdist)
            tar.extractall(PEERS_DIR, members=members)
    return target / "tests" / "eval_files"


def flake8_async_expected(text: str, code: str) -> set[int]:
    """Lines flake8-async's harness expects an error on (``# ASYNC210: 4, ...``, ``# error: ...``)."""
    out = set()
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "#" not in stripped:
            continue
        for err, _alt, _args in _MARKER.findall(stripped):
            if err == "error" or err == code or code.endswith("x") and err.startswith(code[:-1]):
                out.add(lineno)
    return out


def ruff_expected(checkout: Path, fixture: str) -> set[int]:
    """Lines ruff's snapshots for ``fixture`` report with its default settings.

    Some fixtures' plain snapshot is taken under the newest target version (deferred annotations,
    where ruff resolves no annotation and reports nothing); the ``deferred_annotations_diff``
    snapshot then lists, under "Removed", what ruff reports on older versions: those count too.
    """
    rules_dir = checkout / "crates" / "ruff_linter" / "src" / "rules"
    name = fixture.rsplit("/", 1)[1]
    out: set[int] = set()
    snap_dir = rules_dir / fixture.split("/")[0] / "snapshots"
    for snap in sorted(snap_dir.glob(f"*{name}.snap")):
        if "_py38" in snap.name or "preview" in snap.name:
            continue  # variants under other settings
        diff = "deferred_annotations_diff" in snap.name
        section = None
        for line in snap.read_text(encoding="utf-8").splitlines():
            if line.startswith("--- ") and line.endswith(" ---"):
                section = line.strip("- ")
            m = _SNAPSHOT_LOCATION.match(line)
            if m and m.group("file") == name and (not diff or section == "Removed"):
                out.add(int(m.group("line")))
    return out


# ----------------------------------------------------------------------------- the cases in a web module
def prepare(text: str, decorate: bool) -> tuple[str, list[int]]:
    """The file as we check it, and for each of its lines the original line (0: added)."""
    lines = text.split("\n")
    if not decorate:
        return text, list(range(1, len(lines) + 1))
    tree = ast.parse(text)
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    header = [f"import {m}" for m in _MODULES if m in used and m not in bound and m != "builtins"]
    header += ["from fastapi import FastAPI as _PeerFastAPI", "_peer_app = _PeerFastAPI()"]
    after = 0  # after the module docstring and __future__ imports
    for stmt in tree.body:
        is_doc = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
        if is_doc and stmt is tree.body[0] or isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            after = stmt.end_lineno or after
        else:
            break
    inserts: dict[int, list[str]] = {after: header}  # insert before original line k+1
    n = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.AsyncFunctionDef):
            first = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
            inserts.setdefault(first - 1, []).append(f'@_peer_app.get("/_peer/{n}")')
            n += 1
    out: list[str] = []
    origin: list[int] = []
    for i, line in enumerate(lines):
        for added in inserts.get(i, ()):
            out.append(added)
            origin.append(0)
        out.append(line)
        origin.append(i + 1)
    return "\n".join(out), origin


def definition_lines(text: str) -> dict[int, int]:
    """Each line of a decorated function's header (decorators to ``def`` line) -> the ``def`` line."""
    out: dict[int, int] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
            first = min(d.lineno for d in node.decorator_list)
            end = node.body[0].lineno - 1 if node.body[0].lineno > node.lineno else node.lineno
            for k in range(first, end + 1):
                out[k] = node.lineno
    return out


def judge(suite: Suite, fixture: str, text: str, expected: set[int]) -> Result:
    result = Result(suite, fixture)
    try:
        checked, origin = prepare(text, suite.decorate)
    except SyntaxError as exc:  # a fixture for newer Python than ours
        result.error = f"not parsed by this Python: {exc.msg} (line {exc.lineno})"
        return result
    config = from_mapping({"extend-select": [c for c in suite.ours if c in _OPT_IN]})
    ours: dict[int, str] = {}
    for f in check_source(checked, f"app/{fixture.rsplit('/', 1)[-1]}", config):
        if f.code == "STL000":  # a rule failed: never acceptable
            result.error = f"line {origin[f.line - 1] if f.line <= len(origin) else f.line}: {f.message}"
        if f.code not in suite.ours:
            continue
        # a function's further calls of one kind are listed in its first finding's message
        grouped = _GROUPED.search(f.message)
        for k in [f.line] + ([int(n) for n in grouped.group(1).split(", ")] if grouped else []):
            if k <= len(origin) and origin[k - 1]:
                ours.setdefault(origin[k - 1], f"{f.code} {f.message}")
    unit = definition_lines(text) if suite.per_definition else {}
    lines = text.split("\n")

    def of(line: int) -> int:
        return unit.get(line, line)

    got = {of(k) for k in ours}
    result.expected = {of(k) for k in expected}
    for k in sorted(result.expected):
        reason = DISAGREEMENTS.get((suite.peer, fixture, k))
        if k in got:
            result.found.add(k)
        elif reason is not None:
            result.explained[k] = reason
        else:
            result.missed[k] = lines[k - 1].strip()
    for k, message in sorted(ours.items()):
        if of(k) in result.expected:
            continue
        reason = DISAGREEMENTS.get((suite.peer, fixture, k))
        if reason is not None:
            result.explained[k] = reason
        else:
            result.extra[k] = message
    return result


_OPT_IN = {"STL110", "STL111", "STL611", "STL612"}


def run(ruff: Optional[Path] = None) -> list[Result]:
    results: list[Result] = []
    if ruff is not None:
        base = ruff / RUFF_FIXTURES
        for suite in RUFF_SUITES:
            for fixture in suite.files:
                text = (base / fixture).read_text(encoding="utf-8")
                results.append(judge(suite, fixture, text, ruff_expected(ruff, fixture)))
    evals = flake8_async_dir()
    for suite in FLAKE8_ASYNC_SUITES:
        for fixture in suite.files:
            text = (evals / fixture).read_text(encoding="utf-8")
            results.append(judge(suite, fixture, text, flake8_async_expected(text, suite.code)))
    return results


def stale(results: Iterable[Result], ruff_checked: bool) -> list[tuple[str, str, int]]:
    """DISAGREEMENTS and KNOWN_MISSES entries that no longer match a case (a file or a rule changed)."""
    results = list(results)
    used = {(r.suite.peer, r.fixture, k) for r in results for k in r.explained}
    missed = {(r.suite.peer, r.fixture, k) for r in results for k in r.missed}
    return [key for key in DISAGREEMENTS if key not in used and (ruff_checked or key[0] != "ruff")] + \
        [key for key in KNOWN_MISSES if key not in missed and (ruff_checked or key[0] != "ruff")]


def by_rule(results: Iterable[Result]) -> dict[str, float]:
    """Recall per rule of ours (the blocking family STL101-107 as one)."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        name = "STL101-107" if r.suite.ours == BLOCKING else ", ".join(r.suite.ours)
        groups.setdefault(name, []).append(r)
    return {name: recall(rs) for name, rs in sorted(groups.items())}


def table(results: list[Result]) -> str:
    rows = ["| peer | rule | ours | cases | found | explained | missed | extra |",
            "|---|---|---|---:|---:|---:|---:|---:|"]
    by_suite: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        by_suite.setdefault((r.suite.peer, r.suite.code), []).append(r)
    for (peer, code), rs in by_suite.items():
        ours = ", ".join(rs[0].suite.ours) if len(rs[0].suite.ours) < 3 else "STL101-107"
        cases = sum(len(r.expected) for r in rs)
        rows.append(f"| {peer} | {code} | {ours} | {cases} | {sum(len(r.found) for r in rs)} | "
                    f"{sum(len(r.explained) for r in rs)} | {sum(len(r.missed) for r in rs)} | "
                    f"{sum(len(r.extra) for r in rs)} |")
    return "\n".join(rows)


def recall(results: Iterable[Result]) -> float:
    """Found / (found + missed): explained cases are not counted (no such problem on our frameworks)."""
    found = sum(len(r.found) for r in results)
    missed = sum(len(r.missed) for r in results)
    return found / (found + missed) if found + missed else 1.0


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ruff", type=Path, help="a checkout of the ruff repository")
    ap.add_argument("--json", type=Path, help="write every case's verdict here")
    args = ap.parse_args(argv)
    results = run(args.ruff)
    print(table(results))
    for r in results:
        if r.error:
            print(f"\n{r.fixture}: {r.error}")
        for k, src in r.missed.items():
            known = KNOWN_MISSES.get((r.suite.peer, r.fixture, k))
            print(f"missed {r.suite.peer} {r.fixture}:{k}: {src}" + (f"  [known: {known}]" if known else ""))
        for k, msg in r.extra.items():
            print(f"extra  {r.suite.peer} {r.fixture}:{k}: {msg}")
    for key in stale(results, args.ruff is not None):
        print(f"stale disagreement: {key}")
    rules = by_rule(results)
    print("\nrecall per rule: " + ", ".join(f"{name} {value:.1%}" for name, value in rules.items()))
    print(f"recall {recall(results):.1%} (target {TARGET:.0%} for every rule); "
          f"extras {sum(len(r.extra) for r in results)} (target 0)")
    if args.json:
        args.json.write_text(json.dumps([
            {"peer": r.suite.peer, "rule": r.suite.code, "fixture": r.fixture, "found": sorted(r.found),
             "missed": r.missed, "extra": r.extra, "explained": r.explained, "error": r.error}
            for r in results], indent=1), encoding="utf-8")
    ok = min(rules.values()) >= TARGET and not any(r.extra or r.error for r in results) \
        and not stale(results, args.ruff is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
