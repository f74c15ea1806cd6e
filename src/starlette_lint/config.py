"""Configuration: ``[tool.starlette-lint]`` in pyproject.toml, shared by both front ends.

Each checked file gets the nearest table at or above its folder (``load``), in the command and
under flake8 alike; every code and prefix is validated (``check_codes``) and every error is one
``ConfigError`` whose message names the key.

Keys (all optional)::

    [tool.starlette-lint]
    select = ["STL"]                    # code prefixes to enable (default: every default-on rule)
    ignore = ["STL402"]                 # code prefixes to disable
    extend-select = ["STL306"]          # add to select; opt-in rules need their exact code here
    per-file-ignores = { "tests/*" = ["STL101"] }
    extend-blocking-calls = ["mylib.fetch_sync=mylib.fetch"]   # qualified name [= async alternative]
    safe-calls = ["mylib.cached_open"]  # never report these calls
    endpoint-decorators = ["myapp.routing.route"]  # extra decorators that make a request-path function
    extend-exclude = ["migrations", "scripts/*.py"]  # starlette-lint check: paths not walked into
    file-timeout = 10                   # seconds one file's analysis may take (0: no limit)
    test-paths = ["tests/", "test_*.py"]  # what is test code (replaces the defaults, see classify.py)
    docs-paths = ["docs/", "examples/"]   # what is documentation and example code (likewise)
    starlette-version = ">=0.40,<0.48"  # the Starlette releases the project runs on (see versions.py)
    fastapi-version = "~=0.116.0"        # likewise for FastAPI (it implies a Starlette range)
    project-mode = true                 # follow calls into the project's other modules (project.py)

Without ``starlette-version`` / ``fastapi-version`` the releases are read from the project's
dependency declarations (pyproject.toml, requirements*.txt, lock files), else from what is
installed; ``starlette-lint check --show-settings`` prints what was decided and from where.

flake8 users may set the same lists in their flake8 config instead
(``starlette-extend-blocking-calls``, ``starlette-safe-calls``,
``starlette-endpoint-decorators``); both sources are merged. ``--starlette-file-timeout``
(flake8) and ``--file-timeout`` (the command) override ``file-timeout``.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Optional

from .classify import DOCS_PATHS, TEST_PATHS
from .versions import Target, from_settings, parse_specifier

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTION = "starlette-lint"
_CODE = re.compile(r"^(ALL|[A-Z]{1,3}[0-9]{0,3})$")


class ConfigError(ValueError):
    """A bad key or value in the configuration; the message names the key."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("STL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extend_blocking_calls: tuple[tuple[str, str], ...] = ()  # (qualified name, alternative)
    safe_calls: frozenset[str] = frozenset()
    endpoint_decorators: tuple[str, ...] = ()
    source: Optional[str] = None  # the file the config came from
    root: Optional[str] = None  # directory per-file-ignores patterns are relative to
    extend_exclude: tuple[str, ...] = ()  # extra glob patterns the standalone command does not walk into
    file_timeout: float = 10.0  # seconds per file's analysis before it is stopped (STL000); 0 = no limit
    test_paths: tuple[str, ...] = TEST_PATHS  # see classify.py
    docs_paths: tuple[str, ...] = DOCS_PATHS
    starlette_version: Optional[str] = None  # specifiers as configured (None: detected)
    fastapi_version: Optional[str] = None
    # the releases the rules judge against, when configured (versions.py); else, with detect_releases,
    # read from the project's files per checked file's directory; else those installed, else the latest
    target: Optional[Target] = None
    detect_releases: bool = False  # set for configurations read from the project (not --isolated)
    # follow calls into the project's other modules (project.py; experimental, off by default)
    project_mode: bool = True

    # ------------------------------------------------------------ selection
    def enabled(self, code: str, opt_in: bool = False) -> bool:
        """Whether a rule code is on (opt-in codes need an exact select)."""
        chosen = self.select + self.extend_select
        if opt_in:
            if code not in chosen:
                return False
        elif not any(code.startswith(p) or p == "ALL" for p in chosen):
            return False
        return not any(code.startswith(p) for p in self.ignore)

    def ignored_for(self, filename: str) -> tuple[str, ...]:
        """Code prefixes ignored for this file by per-file-ignores."""
        if not self.per_file_ignores:
            return ()
        path = Path(filename)
        try:
            rel = path.resolve().relative_to(Path(self.root).resolve()) if self.root else path
        except ValueError:
            rel = path
        text = rel.as_posix()
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if (fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern)
                    or text.startswith(pattern.rstrip("/") + "/")):
                out.extend(codes)
        return tuple(out)

    @property
    def prefilter_tokens(self) -> tuple[str, ...]:
        """Packages a file must import to be worth parsing (see prefilter)."""
        extra = {d.split(".", 1)[0] for d in self.endpoint_decorators if d}
        return ("starlette", "fastapi", "uvicorn", *sorted(extra))

    def merged(self, **changes: Any) -> "Config":
        return replace(self, **changes)


DEFAULT = Config()


def _as_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.{SECTION}] {key}: expected a list of strings, got {value!r}")
    return [v.strip() for v in value if v.strip()]


# codes no rule has, which select/ignore may still name: internal errors and timeouts, and the
# command's syntax and read errors (runner.SYNTAX, runner.IO_ERROR)
FRONT_END_CODES = ("STL000", "E999", "E902")


def known_code(code: str) -> bool:
    """``code`` is ALL or a prefix of some rule's (or front end's) code."""
    from .codes import RULE_CODES

    # codes.py is generated from the rule registry (tests/test_docs.py keeps it current)
    return code == "ALL" or any(c.startswith(code) for c in (*RULE_CODES, *FRONT_END_CODES))


def check_codes(key: str, items: Iterable[str], known: bool = True) -> tuple[str, ...]:
    """Validated codes or prefixes: the same check, and message, for both front ends.

    ``known``: each must match one of our codes (select, extend-select: a typo there would turn
    rules off). Lists that only remove findings (ignore, per-file-ignores) may also name other
    tools' codes (``E501``), which simply match nothing here, but not an ``STL`` code no rule has."""
    out = tuple(items)
    for item in out:
        if not _CODE.match(item):
            raise ConfigError(f"{key}: {item!r} is not a rule code or prefix (like 'STL' or 'STL101')")
        if (known or item.startswith("STL")) and not known_code(item):
            raise ConfigError(f"{key}: {item!r} matches no rule (see `starlette-lint rules`)")
    return out


def _codes(key: str, value: Any, known: bool = True) -> tuple[str, ...]:
    return check_codes(f"[tool.{SECTION}] {key}", _as_list(key, value), known)


def parse_timeout(key: str, value: Any) -> float:
    """A file-timeout value: a number of seconds, 0 for no limit."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
    if (isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number)
            or number < 0):
        raise ConfigError(f"{key}: expected a number of seconds (0 for no limit), got {value!r}")
    return float(number)


def parse_blocking_calls(key: str, items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        name, _, alt = item.partition("=")
        name = name.strip()
        if not re.match(r"^[A-Za-z_][\w.]*(\(\))?(\.[\w*]+)*$", name):
            raise ConfigError(f"[tool.{SECTION}] {key}: {item!r} is not 'module.function' or 'module.function=alternative'")
        out.append((name, alt.strip()))
    return tuple(out)


def from_mapping(data: dict[str, Any], source: Optional[str] = None, root: Optional[str] = None) -> Config:
    """Build a Config from the ``[tool.starlette-lint]`` table; bad keys raise ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(f"[tool.{SECTION}] must be a table")
    kw: dict[str, Any] = {"source": source, "root": root}
    for key, value in data.items():
        if key == "select":
            kw["select"] = _codes(key, value)
        elif key == "ignore":
            kw["ignore"] = _codes(key, value, known=False)
        elif key == "extend-select":
            kw["extend_select"] = _codes(key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"[tool.{SECTION}] per-file-ignores: expected a table of pattern = [codes]")
            kw["per_file_ignores"] = tuple((str(p), _codes(f"per-file-ignores.{p}", c, known=False))
                                           for p, c in value.items())
        elif key == "extend-blocking-calls":
            kw["extend_blocking_calls"] = parse_blocking_calls(key, _as_list(key, value))
        elif key == "safe-calls":
            kw["safe_calls"] = frozenset(_as_list(key, value))
        elif key == "endpoint-decorators":
            kw["endpoint_decorators"] = tuple(_as_list(key, value))
        elif key == "extend-exclude":
            kw["extend_exclude"] = tuple(_as_list(key, value))
        elif key == "file-timeout":
            kw["file_timeout"] = parse_timeout(f"[tool.{SECTION}] {key}", value)
        elif key == "test-paths":
            kw["test_paths"] = tuple(_as_list(key, value))
        elif key == "docs-paths":
            kw["docs_paths"] = tuple(_as_list(key, value))
        elif key in ("starlette-version", "fastapi-version"):
            kw[key.replace("-", "_")] = _specifier(f"[tool.{SECTION}] {key}", value)
        elif key == "project-mode":
            if not isinstance(value, bool):
                raise ConfigError(f"[tool.{SECTION}] {key}: expected true or false, got {value!r}")
            kw["project_mode"] = value
        else:
            known = ("select, ignore, extend-select, per-file-ignores, extend-blocking-calls, safe-calls, "
                     "endpoint-decorators, extend-exclude, file-timeout, test-paths, docs-paths, "
                     "starlette-version, fastapi-version, project-mode")
            raise ConfigError(f"unknown key {key!r} in [tool.{SECTION}] (known keys: {known})")
    config = Config(**kw)
    if config.starlette_version or config.fastapi_version:
        config = with_releases(config, config.starlette_version, config.fastapi_version,
                               f"{source or 'configuration'} [tool.{SECTION}]")
    return config


def _specifier(key: str, value: Any) -> str:
    rng = parse_specifier(value) if isinstance(value, str) else None
    if not isinstance(value, str) or rng is None or rng.empty:
        raise ConfigError(f"{key}: expected a version specifier like \">=0.40,<0.48\" or \"^0.47\", got {value!r}")
    return value.strip()


def with_releases(config: Config, starlette: Optional[str], fastapi: Optional[str], where: str) -> Config:
    """``config`` targeting the given Starlette/FastAPI specifiers (validated; ConfigError names the key)."""
    starlette = _specifier(f"{where} starlette-version", starlette) if starlette else config.starlette_version
    fastapi = _specifier(f"{where} fastapi-version", fastapi) if fastapi else config.fastapi_version
    return replace(config, starlette_version=starlette, fastapi_version=fastapi,
                   target=from_settings(starlette, fastapi, where))


def project_config(config: Config) -> Config:
    """``config`` as read from a project: the releases are detected from the project's files (per
    checked file, versions.releases_for) unless the configuration names them."""
    return replace(config, detect_releases=True)


def targeting(config: Config, path: str) -> Config:
    """``config`` with the releases the project of ``path`` declares, unless it names them."""
    if config.target is None and config.detect_releases:
        from .versions import releases_for

        return config.merged(target=releases_for(config, path))
    return config


def find_pyproject(start: str | os.PathLike[str]) -> Optional[Path]:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.starlette-lint] table."""
    path = Path(start).resolve()
    if path.is_file():
        path = path.parent
    return _nearest(path)


@functools.lru_cache(maxsize=4096)
def _nearest(directory: Path) -> Optional[Path]:
    """find_pyproject for a resolved directory, memoised: a tree of many folders reads each
    pyproject.toml once (clear() forgets)."""
    candidate = directory / "pyproject.toml"
    if candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if f"[tool.{SECTION}" in text or f'[tool."{SECTION}"' in text:
            return candidate
    if (directory / ".git").exists() or directory.parent == directory:
        return None
    return _nearest(directory.parent)


@functools.lru_cache(maxsize=256)
def _parsed(path: Path) -> Config:
    """The configuration in one pyproject.toml, parsed once (clear() forgets)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    tool = data.get("tool")
    table = tool.get(SECTION, {}) if isinstance(tool, dict) else {}
    return project_config(from_mapping(table, source=str(path), root=str(path.parent)))


def load(start: str | os.PathLike[str] = ".") -> Config:
    """The configuration that applies below ``start`` (defaults when there is none)."""
    path = find_pyproject(start)
    if path is None:
        return project_config(DEFAULT)
    return _parsed(path)


def clear() -> None:
    """Forget the files read (the command reads them afresh on every run)."""
    _nearest.cache_clear()
    _parsed.cache_clear()
