"""The Starlette and FastAPI releases a project targets, and what each rule claims about them.

Several rules report APIs that changed at one release: removed in Starlette 1.0, renamed in
0.48, escaped differently since 1.0. What is true depends on the releases the project allows,
so every such claim is a :class:`Claim` tied to the release that changed it, and a finding is
worded for the project's :class:`Target`:

* a target entirely after the change gets the "after" claim (``removed in Starlette 1.0``);
* a target entirely before it gets the "before" claim (``deprecated since 0.26 ...``), or no
  finding at all where nothing is wrong on those releases;
* a target on both sides gets the "after" claim with a note (``your project allows 1.x``).

Where the target comes from (first that applies; see :func:`detect`):

1. ``starlette-version`` / ``fastapi-version`` in ``[tool.starlette-lint]``;
2. the project's own declarations, in the nearest directory (at or above the checked path, up
   to the git root) that declares dependencies:
   ``pyproject.toml`` (PEP 621 dependencies and extras, PEP 735 dependency groups, Poetry),
   else ``requirements*.txt`` (and ``requirements/*.txt``), else a lock file (``uv.lock``,
   ``poetry.lock``, ``pdm.lock``);
3. the releases installed where the linter runs;
4. the latest releases this table knows.

A FastAPI range implies a Starlette range through :data:`FASTAPI_STARLETTE` (each FastAPI
release pins the Starlette releases it supports), and the other way round.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from .config import Config

Version = tuple[int, ...]

# The newest releases this table knows; "latest" when nothing else says.
LATEST = {"starlette": (1, 10), "fastapi": (0, 165)}


# ------------------------------------------------------------------ versions and ranges
def parse_version(text: str) -> Optional[Version]:
    """The release segment of a version: ``"0.47.3"`` -> (0, 47, 3); ``"1.0.0rc1"`` -> (1, 0, 0)."""
    m = re.match(r"\s*v?(?:\d+!)?(\d+(?:\.\d+)*)", text)
    if m is None:
        return None
    return _trim(tuple(int(p) for p in m.group(1).split(".")))


def _trim(v: Version) -> Version:
    """Drop trailing zeros so that 1.0 == 1.0.0 compare equal as tuples."""
    end = len(v)
    while end > 1 and v[end - 1] == 0:
        end -= 1
    return v[:end]


def show(v: Version) -> str:
    return ".".join(str(p) for p in (v if len(v) >= 2 else (*v, 0)))


def _bump(v: Version, index: int) -> Version:
    """The first release after every ``v[:index + 1].*``: (0, 47, 3) at 1 -> (0, 48)."""
    head = list(v[: index + 1]) + [0] * (index + 1 - len(v[: index + 1]))
    head[index] += 1
    return _trim(tuple(head))


@dataclass(frozen=True)
class Range:
    """An interval of releases: ``low`` (inclusive) up to ``high`` (exclusive unless ``high_inclusive``).

    ``low == (0,)`` is no lower bound, ``high is None`` no upper bound. Exclusions (``!=``) are not
    kept: they only punch holes, and a claim about a whole side of a change does not need them.
    """

    low: Version = (0,)
    high: Optional[Version] = None
    high_inclusive: bool = False

    @property
    def empty(self) -> bool:
        if self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and not self.high_inclusive)

    def allows_below(self, v: Version) -> bool:
        """Some allowed release is older than ``v``."""
        return self.low < _trim(v) and not self.empty

    def allows_from(self, v: Version) -> bool:
        """Some allowed release is ``v`` or newer."""
        v = _trim(v)
        if self.empty:
            return False
        if self.high is None:
            return True
        return self.high > v or (self.high == v and self.high_inclusive)

    def allows_between(self, low: Version, high: Version) -> bool:
        """Some allowed release is in ``[low, high)``."""
        return not self.intersect(Range(_trim(low), _trim(high))).empty

    def at_least(self, v: Version) -> bool:
        """Every allowed release is ``v`` or newer."""
        return self.low >= _trim(v)

    def intersect(self, other: "Range") -> "Range":
        low = max(self.low, other.low)
        if self.high is None:
            high, inclusive = other.high, other.high_inclusive
        elif other.high is None or self.high < other.high:
            high, inclusive = self.high, self.high_inclusive
        elif other.high < self.high:
            high, inclusive = other.high, other.high_inclusive
        else:
            high, inclusive = self.high, self.high_inclusive and other.high_inclusive
        return Range(low, high, inclusive)

    def hull(self, other: "Range") -> "Range":
        """The smallest range holding both."""
        if self.empty:
            return other
        if other.empty:
            return self
        low = min(self.low, other.low)
        if self.high is None or other.high is None:
            return Range(low, None)
        if self.high > other.high:
            return Range(low, self.high, self.high_inclusive)
        if other.high > self.high:
            return Range(low, other.high, other.high_inclusive)
        return Range(low, self.high, self.high_inclusive or other.high_inclusive)

    def __str__(self) -> str:
        if self.high is not None and self.high_inclusive and self.low == self.high:
            return f"=={show(self.low)}"
        parts = []
        if self.low != (0,):
            parts.append(f">={show(self.low)}")
        if self.high is not None:
            parts.append(f"{'<=' if self.high_inclusive else '<'}{show(self.high)}")
        return ",".join(parts) or "any"


ANY = Range()


def exactly(v: Version) -> Range:
    return Range(_trim(v), _trim(v), True)


def _clause(op: str, text: str) -> Optional[Range]:
    """One comparison of a PEP 440 or Poetry specifier, as a range (None: not understood)."""
    wildcard = text.endswith(".*")
    v = parse_version(text[:-2] if wildcard else text)
    if v is None:
        return None
    raw = tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[: max(1, text.count(".") + 1)])
    if op in ("==", "===", "") and wildcard:
        return Range(v, _bump(raw, len(raw) - 1))
    if op in ("==", "==="):
        return exactly(v)
    if op == "":  # Poetry: a bare version is an exact pin
        return exactly(v)
    if op in (">=", ">"):
        return Range(low=v)  # ">X" keeps X: a claim about a side of a change never hinges on X itself
    if op == "<":
        return Range(high=v)
    if op == "<=":
        return Range(high=v, high_inclusive=True)
    if op == "!=":
        return ANY
    if op == "~=":  # compatible release: ~=1.4.2 is >=1.4.2,<1.5
        if len(raw) < 2:
            return None
        return Range(v, _bump(raw, len(raw) - 2))
    if op == "^":  # Poetry caret: the leftmost non-zero part may not change
        nonzero = next((i for i, p in enumerate(raw) if p != 0), len(raw) - 1)
        return Range(v, _bump(raw, nonzero))
    if op in ("~", "~="):  # Poetry tilde: ~1.2.3 and ~1.2 are <1.3, ~1 is <2
        return Range(v, _bump(raw, 0 if len(raw) == 1 else 1))
    return None


_CLAUSE = re.compile(r"(===|==|!=|~=|<=|>=|<|>|\^|~)?\s*(v?\d[\w.*+!-]*)")


def parse_specifier(text: str) -> Optional[Range]:
    """A PEP 440 (``>=0.40,<0.48``, ``~=0.47.0``, ``==0.47.*``) or Poetry (``^0.47``, ``~0.47``,
    ``>=0.40 <0.48``, ``0.47.3``, ``*``, ``a || b``) specifier, as a range; None when not understood."""
    text = text.strip()
    if text in ("", "*"):
        return ANY
    out: Optional[Range] = None
    for alternative in re.split(r"\|\|?", text):
        rng = ANY
        alternative = re.sub(r"(===|==|!=|~=|<=|>=|<|>|\^|~)\s+", r"\1", alternative)
        clauses = [c for c in re.split(r"[,\s]+(?=[<>=!~^\d*v])", alternative.strip()) if c.strip()]
        for clause in clauses:
            clause = clause.strip().rstrip(",")
            if clause == "*":
                continue
            m = _CLAUSE.fullmatch(clause)
            if m is None:
                return None
            part = _clause(m.group(1) or "", m.group(2))
            if part is None:
                return None
            rng = rng.intersect(part)
        out = rng if out is None else out.hull(rng)
    return out


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(line: str) -> Optional[tuple[str, Optional[Range]]]:
    """``fastapi[standard]>=0.115,<0.116 ; python_version >= "3.9"`` -> ("fastapi", range).

    The range is None when the requirement names no version (``starlette @ git+...``, or a
    specifier that is not understood): the package is declared, its releases unknown.
    """
    line = line.split(" #", 1)[0].strip()
    m = _NAME.match(line)
    if m is None:
        return None
    rest = m.group(3).split(";", 1)[0].strip()
    if rest.startswith("@"):
        return normalize(m.group(1)), None
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    return normalize(m.group(1)), parse_specifier(rest) if rest else ANY


# ------------------------------------------------------------------ FastAPI -> Starlette
# Each FastAPI release's own ``starlette`` requirement, one row per run of consecutive releases
# that share it: (first FastAPI release of the run, its Starlette specifier). Regenerate with
# ``python scripts/fastapi_starlette_table.py``.
FASTAPI_STARLETTE: tuple[tuple[str, str], ...] = (
    ("0.1.0", ">=0.9.7"),
    ("0.1.18", ">=0.9.7,<0.9.11"),
    ("0.1.19", ">=0.9.11,<=0.10.1"),
    ("0.6.0", "==0.11.1"),
    ("0.23.0", ">=0.11.1,<=0.12.0"),
    ("0.34.0", ">=0.11.1,<=0.12.7"),
    ("0.38.0", ">=0.11.1,<=0.12.8"),
    ("0.41.0", ">=0.12.9,<=0.12.9"),
    ("0.50.0", "==0.13.2"),
    ("0.57.0", "==0.13.4"),
    ("0.60.1", "==0.13.6"),
    ("0.65.0", "==0.14.2"),
    ("0.69.0", "==0.15.0"),
    ("0.70.0", "==0.16.0"),
    ("0.71.0", "==0.17.1"),
    ("0.76.0", "==0.18.0"),
    ("0.77.0", "==0.19.0"),
    ("0.77.1", "==0.19.1"),
    ("0.85.0", "==0.20.4"),
    ("0.87.0", "==0.21.0"),
    ("0.88.0", "==0.22.0"),
    ("0.90.0", ">=0.22.0,<=0.23.0"),
    ("0.90.1", ">=0.22.0,<0.24.0"),
    ("0.91.0", ">=0.24.0,<0.25.0"),
    ("0.92.0", ">=0.25.0,<0.26.0"),
    ("0.94.0", ">=0.26.0,<0.27.0"),
    ("0.94.1", ">=0.26.1,<0.27.0"),
    ("0.95.2", ">=0.27.0,<0.28.0"),
    ("0.107.0", ">=0.28.0,<0.29.0"),
    ("0.108.0", ">=0.29.0,<0.33.0"),
    ("0.109.0", ">=0.35.0,<0.36.0"),
    ("0.109.2", ">=0.36.3,<0.37.0"),
    ("0.110.1", ">=0.37.2,<0.38.0"),
    ("0.112.1", ">=0.37.2,<0.39.0"),
    ("0.115.2", ">=0.37.2,<0.41.0"),
    ("0.115.3", ">=0.40.0,<0.42.0"),
    ("0.115.7", ">=0.40.0,<0.46.0"),
    ("0.115.10", ">=0.40.0,<0.47.0"),
    ("0.116.1", ">=0.40.0,<0.48.0"),
    ("0.116.2", ">=0.40.0,<0.49.0"),
    ("0.120.1", ">=0.40.0,<0.50.0"),
    ("0.121.3", ">=0.40.0,<0.51.0"),
    ("0.128.3", ">=0.40.0,<1.0.0"),
    ("0.133.0", ">=0.40.0"),
    ("0.134.0", ">=0.46.0"),
    ("0.164.0", ">=1.6.0"),
)


@functools.lru_cache(maxsize=None)
def _fastapi_rows() -> tuple[tuple[Range, Range], ...]:
    """(FastAPI releases, the Starlette range they allow) per row of the table."""
    rows = []
    parsed = [(parse_version(v), parse_specifier(s)) for v, s in FASTAPI_STARLETTE]
    for i, (first, starlette) in enumerate(parsed):
        if first is None or starlette is None:
            continue
        nxt = parsed[i + 1][0] if i + 1 < len(parsed) else None
        rows.append((Range(first, nxt), starlette))
    return tuple(rows)


def starlette_for_fastapi(fastapi: Range) -> Optional[Range]:
    """The Starlette releases some FastAPI release in ``fastapi`` allows (None: the table has none)."""
    out: Optional[Range] = None
    for releases, starlette in _fastapi_rows():
        if not releases.intersect(fastapi).empty:
            out = starlette if out is None else out.hull(starlette)
    return out


def fastapi_for_starlette(starlette: Range) -> Optional[Range]:
    """The FastAPI releases that allow some Starlette release in ``starlette``."""
    out: Optional[Range] = None
    for releases, allowed in _fastapi_rows():
        if not allowed.intersect(starlette).empty:
            out = releases if out is None else out.hull(releases)
    return out


# ------------------------------------------------------------------ the target
@dataclass(frozen=True)
class Target:
    """The Starlette and FastAPI releases a project may run on, and where that was learnt."""

    starlette: Range
    fastapi: Range
    origin: str  # "config", "project", "installed" or "latest"
    sources: tuple[str, ...] = ()  # what decided, for --show-settings: "pyproject.toml [project.dependencies]: ..."

    def range(self, package: str) -> Range:
        return self.starlette if package == "starlette" else self.fastapi

    def at_least(self, package: str, v: Version) -> bool:
        """Every targeted release of ``package`` is ``v`` or newer (a fix using what ``v`` added is safe)."""
        return self.range(package).at_least(v)

    def describe(self) -> list[str]:
        out = [f"starlette: {self.starlette}", f"fastapi: {self.fastapi}", f"from: {ORIGINS[self.origin]}"]
        out += [f"  {s}" for s in self.sources]
        return out


ORIGINS = {
    "config": "[tool.starlette-lint] starlette-version / fastapi-version",
    "project": "the project's dependency declarations",
    "installed": "the releases installed where starlette-lint runs (no declaration found up to the git root)",
    "latest": "the latest releases starlette-lint knows (none declared, none installed)",
}


def make_target(starlette: Optional[Range], fastapi: Optional[Range], origin: str,
                sources: Iterable[str] = ()) -> Target:
    """Complete a target from what was declared: FastAPI's range implies Starlette's and back."""
    notes = list(sources)
    if fastapi is not None:
        implied = starlette_for_fastapi(fastapi)
        if implied is None and starlette is None:
            starlette = ANY  # a FastAPI the table does not know: any Starlette, not the latest
        if implied is not None:
            if starlette is None:
                starlette = implied
                notes.append(f"fastapi {fastapi} allows starlette {implied}")
            elif not starlette.intersect(implied).empty:
                narrowed = starlette.intersect(implied)
                if narrowed != starlette:
                    notes.append(f"fastapi {fastapi} narrows starlette {starlette} to {narrowed}")
                starlette = narrowed
    elif starlette is not None:
        fastapi = fastapi_for_starlette(starlette)
        if fastapi is not None:
            notes.append(f"starlette {starlette} allows fastapi {fastapi}")
        else:
            fastapi = ANY
    return Target(
        starlette=starlette if starlette is not None else Range(LATEST["starlette"]),
        fastapi=fastapi if fastapi is not None else Range(LATEST["fastapi"]),
        origin=origin, sources=tuple(notes),
    )


def from_settings(starlette: Optional[str], fastapi: Optional[str], where: str) -> Target:
    """The target given in the configuration (specifiers already validated)."""
    s = parse_specifier(starlette) if starlette else None
    f = parse_specifier(fastapi) if fastapi else None
    given = [f"{where} {k} = {v!r}" for k, v in (("starlette-version", starlette), ("fastapi-version", fastapi)) if v]
    return make_target(s, f, "config", given)


@functools.lru_cache(maxsize=1)
def environment_target() -> Target:
    """What is installed where the linter runs; the latest releases for what is not."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, Range] = {}
    for package in ("starlette", "fastapi"):
        try:
            v = parse_version(version(package))
        except (PackageNotFoundError, ValueError):
            continue
        if v is not None:
            found[package] = exactly(v)
    if not found:
        return make_target(None, None, "latest")
    return make_target(found.get("starlette"), found.get("fastapi"), "installed",
                       [f"{p} {r} installed" for p, r in found.items()])


# ------------------------------------------------------------------ reading the project
_DISTRIBUTIONS = {"fastapi-slim": "fastapi"}  # other distributions of the same package


@dataclass
class _Found:
    """Declarations of starlette and fastapi in one source (a file, or a section of it)."""

    ranges: dict[str, Range] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def add(self, name: str, rng: Optional[Range], where: str, text: str) -> None:
        name = _DISTRIBUTIONS.get(name, name)
        if name not in ("starlette", "fastapi"):
            return
        rng = rng if rng is not None else ANY
        self.ranges[name] = self.ranges[name].hull(rng) if name in self.ranges else rng
        self.lines.append(f"{where}: {text.strip()}")


def _requirements_of(items: Any, found: _Found, where: str) -> None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, str):
                req = parse_requirement(item)
                if req is not None:
                    found.add(req[0], req[1], where, item)


def _poetry_of(table: Any, found: _Found, where: str) -> None:
    if not isinstance(table, dict):
        return
    for name, spec in table.items():
        if _DISTRIBUTIONS.get(normalize(name), normalize(name)) not in ("starlette", "fastapi"):
            continue
        text = spec.get("version") if isinstance(spec, dict) else spec
        if isinstance(spec, list):  # multiple-constraints: one table per Python or platform
            texts = [s.get("version", "*") for s in spec if isinstance(s, dict)]
            rngs = [parse_specifier(t) for t in texts]
            rng: Optional[Range] = None
            for r in rngs:
                rng = None if r is None else (r if rng is None else rng.hull(r))
            found.add(normalize(name), rng, where, f"{name} = {texts!r}")
        elif isinstance(text, str):
            found.add(normalize(name), parse_specifier(text), where, f"{name} = {text!r}")
        else:  # a git or path dependency
            found.add(normalize(name), None, where, f"{name} = {spec!r}")


def _read_toml(path: Path) -> Optional[dict[str, Any]]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return data


def _pyproject(path: Path) -> tuple[bool, _Found]:
    """(declares dependencies at all, what it says of starlette and fastapi).

    The main dependencies are read first; extras and groups only when those name neither."""
    data = _read_toml(path)
    found = _Found()
    if data is None:
        return False, found
    project: dict[str, Any] = data["project"] if isinstance(data.get("project"), dict) else {}
    tool = data.get("tool")
    poetry: dict[str, Any] = tool["poetry"] if isinstance(tool, dict) and isinstance(tool.get("poetry"), dict) else {}
    groups = data.get("dependency-groups")
    declares = (any(k in project for k in ("dependencies", "optional-dependencies"))
                or any(k in poetry for k in ("dependencies", "group", "dev-dependencies")) or isinstance(groups, dict))
    _requirements_of(project.get("dependencies"), found, "pyproject.toml [project.dependencies]")
    _poetry_of(poetry.get("dependencies"), found, "pyproject.toml [tool.poetry.dependencies]")
    if found.ranges:
        return declares, found
    extras = project.get("optional-dependencies")
    if isinstance(extras, dict):
        for extra, items in extras.items():
            _requirements_of(items, found, f"pyproject.toml [project.optional-dependencies] {extra}")
    if isinstance(groups, dict):
        for group, items in groups.items():
            _requirements_of(items, found, f"pyproject.toml [dependency-groups] {group}")
    for key in ("dev-dependencies",):
        _poetry_of(poetry.get(key), found, f"pyproject.toml [tool.poetry.{key}]")
    poetry_groups = poetry.get("group")
    if isinstance(poetry_groups, dict):
        for group, table in poetry_groups.items():
            if isinstance(table, dict):
                _poetry_of(table.get("dependencies"), found, f"pyproject.toml [tool.poetry.group.{group}.dependencies]")
    return declares, found


def _requirement_files(directory: Path) -> list[Path]:
    out = sorted(directory.glob("requirements*.txt"))
    sub = directory / "requirements"
    if sub.is_dir():
        out += sorted(sub.glob("*.txt"))
    return [p for p in out if p.is_file()]


def _requirements(files: list[Path], root: Path) -> _Found:
    """What requirement files say; ``-r`` files are read too, ``-c`` constraint files narrow them."""
    found = _Found()
    constraints = _Found()
    seen: set[Path] = set()
    todo = [(p, found) for p in files]
    while todo and len(seen) < 100:
        path, into = todo.pop(0)
        try:
            key = path.resolve()
        except OSError:
            continue
        if key in seen:
            continue
        seen.add(key)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        try:
            where = path.relative_to(root).as_posix()
        except ValueError:
            where = str(path)
        for raw in text.replace("\\\n", " ").splitlines():
            line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
            if not line:
                continue
            include = re.match(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
            if include:
                todo.append((path.parent / include.group(2), constraints if "c" in include.group(1) else into))
                continue
            if line.startswith("-"):
                continue  # -e, --hash, --index-url ...
            line = re.sub(r"\s--hash(?:=|\s+)\S+", "", line)
            req = parse_requirement(line)
            if req is not None:
                into.add(req[0], req[1], where, line)
    for name, limit in constraints.ranges.items():
        if name in found.ranges and not found.ranges[name].intersect(limit).empty:
            found.ranges[name] = found.ranges[name].intersect(limit)
            found.lines += [line for line in constraints.lines if line.split(": ", 1)[-1].lower().startswith(name)]
    return found


def _lock(path: Path) -> _Found:
    """``uv.lock``, ``poetry.lock`` and ``pdm.lock`` all list ``[[package]]`` tables with name and version."""
    found = _Found()
    data = _read_toml(path)
    packages = data.get("package") if data is not None else None
    if not isinstance(packages, list):
        return found
    for pkg in packages:
        if isinstance(pkg, dict) and isinstance(pkg.get("name"), str) and isinstance(pkg.get("version"), str):
            v = parse_version(pkg["version"])
            found.add(normalize(pkg["name"]), exactly(v) if v is not None else None, path.name,
                      f"{pkg['name']} {pkg['version']}")
    return found


LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")


def _lock_source(path: Path) -> tuple[bool, _Found]:
    """A lock file as a source of :func:`_declarations` (it always declares dependencies)."""
    return True, _lock(path)


@functools.lru_cache(maxsize=4096)
def _declarations(directory: Path) -> tuple[bool, Optional[_Found]]:
    """(this directory declares dependencies, what the first source naming starlette/fastapi says).

    A source that names them without a version (``fastapi`` alone) is kept only until a later one
    in the same directory (a lock file) gives versions."""
    declares = False
    unversioned: Optional[_Found] = None
    sources: list[Callable[[], tuple[bool, _Found]]] = []
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        sources.append(lambda: _pyproject(pyproject))
    requirements = _requirement_files(directory)
    if requirements:
        sources.append(lambda: (True, _requirements(requirements, directory)))
    for name in LOCK_FILES:
        lock = directory / name
        if lock.is_file():
            sources.append(functools.partial(_lock_source, lock))
    for read in sources:
        has_deps, found = read()
        declares = declares or has_deps
        if not found.ranges:
            continue
        if any(r != ANY for r in found.ranges.values()):
            return True, found
        unversioned = unversioned or found
    return declares or unversioned is not None, unversioned


def project_directories(start: Path) -> Iterator[Path]:
    """``start`` and its parents, up to and including the git root."""
    for directory in (start, *start.parents):
        yield directory
        if (directory / ".git").exists():
            return


@functools.lru_cache(maxsize=4096)
def detect(start: str) -> Target:
    """The target for code at or below the directory ``start`` (see the module docstring)."""
    path = Path(start).resolve()
    if path.is_file():
        path = path.parent
    for directory in project_directories(path):
        declares, found = _declarations(directory)
        if found is not None:
            return make_target(found.ranges.get("starlette"), found.ranges.get("fastapi"), "project",
                               [f"{directory}: {line}" for line in found.lines])
        if declares:
            break  # the nearest project declares dependencies, neither of them
    return environment_target()


@functools.lru_cache(maxsize=4096)
def python_range(start: str) -> Optional[Range]:
    """The Python releases the nearest ``pyproject.toml`` at or above the directory ``start`` (up to
    the git root) declares: ``[project] requires-python``, else poetry's ``python`` dependency.
    None when it declares neither, or there is none."""
    path = Path(start).resolve()
    if path.is_file():
        path = path.parent
    for directory in project_directories(path):
        pyproject = directory / "pyproject.toml"
        data = _read_toml(pyproject) if pyproject.is_file() else None
        if data is None:
            continue
        project = data.get("project")
        spec = project.get("requires-python") if isinstance(project, dict) else None
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
        if spec is None and isinstance(deps, dict):
            spec = deps.get("python")
        return parse_specifier(spec) if isinstance(spec, str) else None
    return None


def python_for(config: Optional[Config], filename: str) -> Optional[Range]:
    """The Python releases the code in ``filename`` may run on, when its project says (None:
    not declared, or a configuration that does not read the project)."""
    if config is None or not config.detect_releases or not filename or filename.startswith("<"):
        return None
    return python_range(os.path.dirname(os.path.abspath(filename)))


def releases_for(config: Optional[Config], filename: str) -> Target:
    """The releases the code in ``filename`` targets under ``config`` (a config.Config or None):
    the configured ones, else (for a configuration read from the project) those its files
    declare, else the installed ones."""
    if config is not None and config.target is not None:
        return config.target
    if config is not None and config.detect_releases:
        return detect(os.path.dirname(os.path.abspath(filename)))
    return environment_target()


def clear() -> None:
    """Forget what was read (the command reads project files afresh on every run)."""
    detect.cache_clear()
    _declarations.cache_clear()
    python_range.cache_clear()


# ------------------------------------------------------------------ claims
@dataclass(frozen=True)
class Claim:
    """What a rule says about one API on each side of the release that changed it.

    ``after`` is said when the target allows ``at`` or later, ``before`` when it allows only
    earlier releases, from ``before_from`` on (where a deprecation started); None means nothing
    is reported on that side. A target on both sides gets ``after`` with a note saying so.
    """

    package: str
    at: Version
    after: Optional[str]
    before: Optional[str] = None
    before_from: Version = (0,)
    note: bool = True  # a target on both sides gets "(your project allows ...)" (not for a deprecation)

    def side(self, target: Target) -> Optional[str]:
        """"after", "both", "before" or None (nothing to report for this target)."""
        rng = target.range(self.package)
        if self.after is not None and rng.allows_from(self.at):
            return "both" if rng.allows_below(self.at) else "after"
        if self.before is not None and rng.allows_between(self.before_from, self.at):
            return "before"
        return None

    def text(self, target: Target, **fields: str) -> Optional[str]:
        """The claim worded for ``target`` (``{field}`` filled in); None when it does not apply to it."""
        side = self.side(target)
        if side is None:
            return None
        text = self.before if side == "before" else self.after
        assert text is not None
        if "{" in text:
            text = text.format(warning=warning_kind(target), **fields)
        if side == "both" and self.note:
            text += f" (your project allows {_NAMES[self.package]} {label(self.at)})"
        return text

    def doc(self) -> str:
        """One line for the rule's documentation."""
        name = _NAMES[self.package]
        before = self.before.format_map(_Shown()) if self.before is not None else "not reported"
        if self.before is not None and self.before_from != (0,):
            before += f" (from {show(self.before_from)}; not reported earlier)"
        after = self.after.format_map(_Shown()) if self.after is not None else "not reported"
        return f"{name} < {show(self.at)}: {before}. {name} >= {show(self.at)}: {after}."


class _Shown(dict[str, str]):
    """Placeholders of a claim as the documentation shows them."""

    def __missing__(self, key: str) -> str:
        return "a deprecation warning" if key == "warning" else f"<{key}>"


def label(v: Version) -> str:
    """``(1, 0)`` -> "1.x"; ``(0, 48)`` -> ">=0.48"."""
    return f"{v[0]}.x" if len(_trim(v)) == 1 and v[0] > 0 else f">={show(v)}"


_NAMES = {"starlette": "Starlette", "fastapi": "FastAPI"}

# Starlette's deprecations were DeprecationWarnings attributed to starlette.* modules, which
# Python's default filters hide; from 1.3.1 most are StarletteDeprecationWarning, a UserWarning
# (shown by default, but not caught by -W error::DeprecationWarning).
VISIBLE_WARNINGS = (1, 3, 1)


def warning_kind(target: Target) -> str:
    """How a Starlette deprecation warns on the target's releases."""
    rng = target.starlette
    if rng.at_least(VISIBLE_WARNINGS):
        return "StarletteDeprecationWarning, a UserWarning that -W error::DeprecationWarning misses"
    if not rng.allows_from(VISIBLE_WARNINGS):
        return "a DeprecationWarning, hidden by default"
    return "a hidden DeprecationWarning, a StarletteDeprecationWarning from 1.3.1"
