"""flake8 adapter: options in, ``(line, col, message, type)`` out. Nothing else.

Importing this module is cheap: flake8 imports every installed plugin on
every run, so LibCST and the rules are imported only when a file passes the
prefilter (it imports starlette, fastapi or uvicorn): projects without web
code never pay for them.
"""

from __future__ import annotations

import ast
import functools
import gc
import os
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Optional

from . import __version__
from .codes import OPT_IN_CODES
from .config import Config, ConfigError, load, parse_blocking_calls, parse_timeout, with_releases
from .config import clear as clear_config_files
from .prefilter import is_relevant

if TYPE_CHECKING:
    from .finding import Finding

# Opt-in codes: each has its own off-by-default entry point (pyproject.toml);
# generated from the rules' ``opt_in`` flags (codes.py).
OPT_IN = OPT_IN_CODES


class _LastFile:
    """One analysis per file, shared by the main plugin and the opt-in entry points."""

    tree: Optional[ast.AST] = None
    findings: list["Finding"] = []


_loaded: list[bool] = []


def _load_engine() -> None:
    """Import LibCST and the rules (once per process), then freeze what exists.

    The import leaves ~25,000 long-lived objects (LibCST's node classes and
    their functions, the rules' tables) in the host's cyclic GC, which walks
    all of them again on each of its full collections; flake8's own garbage
    (pyflakes' trees are cyclic) triggers one every few thousand lines, which
    made flake8's collections about twice as long. ``gc.freeze()`` moves every
    object alive at this moment to the permanent generation, which those
    collections skip. Frozen objects are still freed by reference counting;
    only a cycle among them (at most the current file's pyflakes tree) is kept
    until the process ends.
    """
    if _loaded:
        return
    from . import engine  # noqa: F401
    from .rules import all_rules

    all_rules()
    gc.freeze()
    _loaded.append(True)


class StarletteLintChecker:
    name = "starlette-lint"
    version = __version__
    off_by_default: ClassVar[bool] = False
    # the configuration of flake8's working directory, with flake8's own options applied
    config: ClassVar[Optional[Config]] = None
    # flake8's options, applied on top of each file's own [tool.starlette-lint] (Config.merged keywords)
    overrides: ClassVar[Optional[dict[str, Any]]] = None

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        for name, what in (
            ("extend-blocking-calls", "extra blocking calls: module.func or module.func=async_alternative"),
            ("safe-calls", "calls never reported as blocking (qualified names)"),
            ("endpoint-decorators", "extra decorators that make a function request-path code"),
        ):
            manager.add_option(
                f"--starlette-{name}",
                default="",
                parse_from_config=True,
                comma_separated_list=True,
                help=f"starlette-lint: {what} (comma separated; merged with [tool.starlette-lint])",
            )
        manager.add_option(
            "--starlette-file-timeout",
            default="",
            parse_from_config=True,
            metavar="SECONDS",
            help="starlette-lint: stop a file's analysis after SECONDS and report STL000 "
                 "(default: file-timeout in [tool.starlette-lint], else 10; 0: no limit)",
        )
        for package in ("starlette", "fastapi"):
            manager.add_option(
                f"--{package}-version",
                default="",
                parse_from_config=True,
                metavar="SPECIFIER",
                help=f"starlette-lint: the {package} releases the project runs on, e.g. '>=0.40,<0.48' "
                     f"(default: {package}-version in [tool.starlette-lint], else the project's dependencies)",
            )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        blocking = list(getattr(options, "starlette_extend_blocking_calls", None) or [])
        safe = list(getattr(options, "starlette_safe_calls", None) or [])
        decorators = list(getattr(options, "starlette_endpoint_decorators", None) or [])
        timeout = str(getattr(options, "starlette_file_timeout", "") or "").strip()
        releases = {p: str(getattr(options, f"{p}_version", "") or "").strip() for p in ("starlette", "fastapi")}
        clear_config_files()
        try:
            extra = parse_blocking_calls("starlette-extend-blocking-calls", blocking)
            seconds = parse_timeout("--starlette-file-timeout", timeout) if timeout else None
            StarletteLintChecker.overrides = {
                "extend_blocking_calls": extra, "safe_calls": frozenset(safe), "endpoint_decorators": tuple(decorators),
                "file_timeout": seconds,
                "releases": (releases["starlette"] or None, releases["fastapi"] or None)
                if any(releases.values()) else None,
            }
            _config_in.cache_clear()
            # a bad [tool.starlette-lint] value or release option: one line naming the key, no traceback
            StarletteLintChecker.config = _apply(load("."), StarletteLintChecker.overrides)
        except ConfigError as exc:
            raise SystemExit(f"starlette-lint: {exc}") from None

    def _config(self) -> Config:
        """The configuration for this file: the nearest [tool.starlette-lint] above it (as the
        command reads it), with flake8's options applied; a bad nested table is STL000 there."""
        mine = self.__dict__.get("_own_config")
        if mine is not None:
            return mine
        if StarletteLintChecker.config is None:
            StarletteLintChecker.config = load(".")
        found = _config_in(self._directory())
        mine = self._own_config = found if isinstance(found, Config) else StarletteLintChecker.config
        return mine

    def _directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.filename)) if self.filename not in ("-", "stdin") else "."

    def _findings(self) -> list["Finding"]:
        if _LastFile.tree is self.tree:
            return _LastFile.findings
        config = self._config()
        source = "".join(self.lines)
        if not is_relevant(source, config):
            _LastFile.tree, _LastFile.findings = self.tree, []
            return []
        _load_engine()
        from .engine import analyze_source, gc_paused
        from .rules import all_rules

        tree = self.tree if isinstance(self.tree, ast.Module) else None
        # the selected rules, and every opt-in one (flake8's --enable-extensions decides on those)
        rules = [r for r in all_rules() if r.opt_in or config.enabled(r.code)]
        with gc_paused():  # until the tree is freed: the collector never walks it
            analysis = analyze_source(source, self.filename, config, rules=rules, on_parse_error="internal",
                                      tree=tree)
            findings = analysis.findings
            if analysis.model is not None:
                analysis.model.release()
            del analysis
        skip = config.ignored_for(self.filename) + config.ignore
        if skip:
            findings = [f for f in findings if not f.code.startswith(skip)]
        error = _config_in(self._directory())
        if isinstance(error, str):
            from .finding import Finding

            findings = [Finding(1, 0, "STL000", f"configuration not used: {error}"), *findings]
        _LastFile.tree, _LastFile.findings = self.tree, findings
        return findings

    def _wanted(self, code: str) -> bool:
        config = self._config()
        if code in OPT_IN:
            # pyproject extend-select turns an opt-in code on for flake8 too
            return config is not None and code in config.select + config.extend_select
        return True

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for f in self._findings():
            if self._wanted(f.code):
                yield f.line, f.col, f.text, type(self)


def _apply(config: Config, overrides: Optional[dict[str, Any]]) -> Config:
    """A [tool.starlette-lint] configuration with flake8's own options applied on top."""
    if not overrides:
        return config
    if overrides["releases"] is not None:
        starlette, fastapi = overrides["releases"]
        config = with_releases(config, starlette, fastapi, "flake8 options")
    return config.merged(
        extend_blocking_calls=config.extend_blocking_calls + overrides["extend_blocking_calls"],
        safe_calls=config.safe_calls | overrides["safe_calls"],
        endpoint_decorators=config.endpoint_decorators + overrides["endpoint_decorators"],
        file_timeout=overrides["file_timeout"] if overrides["file_timeout"] is not None else config.file_timeout,
    )


@functools.lru_cache(maxsize=1024)
def _config_in(directory: str) -> "Config | str":
    """The configuration for files in ``directory``, or the error that made it unusable."""
    try:
        return _apply(load(directory), StarletteLintChecker.overrides)
    except (ConfigError, OSError, ValueError) as exc:
        return str(exc)


class _OptIn(StarletteLintChecker):
    """An opt-in rule: flake8 runs it only with ``--enable-extensions CODE``."""

    off_by_default = True
    code: ClassVar[str] = ""

    # The main plugin registers and parses the shared options; registering them
    # again from a subclass makes flake8's argparse fail with "conflicting option".
    @classmethod
    def add_options(cls, manager: Any) -> None:
        pass

    @classmethod
    def parse_options(cls, options: Any) -> None:
        pass

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        config = self._config()
        if self.code in config.select + config.extend_select:
            return  # the main plugin already reports it
        for f in self._findings():
            if f.code == self.code:
                yield f.line, f.col, f.text, type(self)


class OptInSTL306(_OptIn):
    code = "STL306"


class OptInSTL406(_OptIn):
    code = "STL406"


class OptInSTL501(_OptIn):
    code = "STL501"


class OptInSTL703(_OptIn):
    code = "STL703"
