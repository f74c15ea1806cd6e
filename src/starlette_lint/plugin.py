"""flake8 adapter: options in, ``(line, col, message, type)`` out. Nothing else.

Importing this module is cheap: flake8 imports every installed plugin on
every run, so LibCST and the rules are imported only when a file passes the
prefilter (it imports starlette, fastapi or uvicorn): projects without web
code never pay for them.

One entry point, ``STL``. An opt-in rule (``codes.OPT_IN_CODES``) runs only when its exact
code is chosen: by flake8 (``--select``/``--extend-select``, or ``--enable-extensions`` as
before the single entry point) or by the file's ``[tool.starlette-lint]`` table
(``select``/``extend-select``). A prefix (``--select STL``, ``--extend-select STL5``) never
turns one on. The plugin never reports an opt-in code it was not asked for, so flake8's
own select and ignore then decide as for any code (no default-ignore list is needed, and
no table has to be found before flake8 starts).
"""

from __future__ import annotations

import ast
import functools
import gc
import importlib
import os
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Optional

from . import __version__
from .cache import clear_places, store_directory
from .codes import OPT_IN_CODES
from .config import Config, ConfigError, load, parse_blocking_calls, parse_timeout, with_releases
from .config import clear as clear_config_files
from .prefilter import is_relevant

if TYPE_CHECKING:
    from .cache import Cache
    from .finding import Finding

OPT_IN = OPT_IN_CODES  # generated from the rules' ``opt_in`` flags (codes.py)


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
    importlib.import_module(f"{__package__}.engine")  # LibCST and the engine, before the freeze
    from .rules import all_rules

    all_rules()
    gc.freeze()
    _loaded.append(True)


class StarletteLintChecker:
    name = "starlette-lint"
    version = __version__
    # the configuration of flake8's working directory, with flake8's own options applied
    config: ClassVar[Optional[Config]] = None
    # flake8's options, applied on top of each file's own [tool.starlette-lint] (Config.merged keywords)
    overrides: ClassVar[Optional[dict[str, Any]]] = None
    # the opt-in codes flake8's own options name exactly (set by parse_options)
    chosen: ClassVar[frozenset[str]] = frozenset()

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
        project = sys.modules.get("starlette_lint.project")  # loaded only by a project-mode run
        if project is not None:
            project.clear()
        _PROJECTS.clear()  # files may have changed since an earlier run in this process
        _SETTINGS.clear()
        clear_places()
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
        _select_opt_in(options)

    def _config(self) -> Config:
        """The configuration for this file: the nearest [tool.starlette-lint] above it (as the
        command reads it), with flake8's options applied; a bad nested table is STL000 there."""
        mine = self.__dict__.get("_own_config")
        if isinstance(mine, Config):  # set by an earlier call for this file
            return mine
        if StarletteLintChecker.config is None:
            StarletteLintChecker.config = load(".")
        found = _config_in(self._directory())
        mine = self._own_config = found if isinstance(found, Config) else StarletteLintChecker.config
        return mine

    def _directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.filename)) if self.filename not in ("-", "stdin") else "."

    def _opt_in_on(self, code: str) -> bool:
        """An opt-in code runs when flake8's options or this file's table name it exactly."""
        return code in StarletteLintChecker.chosen or self._config().enabled(code, opt_in=True)

    def _findings(self) -> list["Finding"]:
        config = self._config()
        source = "".join(self.lines)
        if not is_relevant(source, config):
            return []
        key, project = _result_key(self.filename, source, config, _config_in(self._directory()))
        cache = _result_cache(config) if key is not None else None
        if cache is not None and key is not None:
            hit = cache.get(key)
            if hit is not None and self._holds(hit, project, config):
                from .finding import Finding

                if project is not None and hit.get("project") != project:  # held after an edit elsewhere
                    cache.put(key, hit["findings"], project, hit.get("asked"))  # the next run needs no index
                return [Finding(line, col, code, message) for line, col, code, message, _ in hit["findings"]]
        findings, unfinished, asked = self._analyzed(config, source)
        if cache is not None and key is not None and not unfinished:  # a file that ran out of time: tried again
            cache.put(key, [[f.line, f.col, f.code, f.message, False] for f in findings], project, asked)
        return findings

    def _holds(self, hit: dict[str, Any], project: Optional[str], config: Config) -> bool:
        """A cached result holds for the project as it is now (:func:`.answers.holds`)."""
        if project is not None and hit.get("project") != project:
            _load_engine()  # the index's modules import LibCST: frozen with it, as for an analysis
        from .answers import holds

        return holds(hit, project, self.filename, store_directory(config), config)

    def _analyzed(self, config: Config, source: str) -> tuple[list["Finding"], bool, Optional[list[list[Any]]]]:
        """The file's findings, whether its analysis ran out of time (before any code is ignored),
        and in project mode what it asked of the project (:mod:`.answers`)."""
        _load_engine()
        from .engine import analyze_source, gc_paused
        from .framework import NOWHERE
        from .rules import all_rules

        tree = self.tree if isinstance(self.tree, ast.Module) else None
        # the selected rules; an opt-in one only when it is chosen
        rules = [r for r in all_rules() if (self._opt_in_on(r.code) if r.opt_in else config.enabled(r.code))]
        recorder = None
        with gc_paused():  # until the tree is freed: the collector never walks it
            elsewhere = NOWHERE
            if config.project_mode:
                from .answers import Recorder
                from .project import view_for

                elsewhere = recorder = Recorder(view_for(self.filename, store_directory(config)))
            analysis = analyze_source(source, self.filename, config, rules=rules, on_parse_error="internal",
                                      tree=tree, elsewhere=elsewhere)
            findings = analysis.findings
            analysis.release()
            del analysis
        from .engine import timed_out

        unfinished = timed_out(findings)
        skip = config.ignored_for(self.filename) + config.ignore
        if skip:
            findings = [f for f in findings if not f.code.startswith(skip)]
        error = _config_in(self._directory())
        if isinstance(error, str):
            from .finding import Finding

            findings = [Finding(1, 0, "STL000", f"configuration not used: {error}"), *findings]
        return findings, unfinished, recorder.log() if recorder is not None else None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for f in self._findings():
            if f.code not in OPT_IN or self._opt_in_on(f.code):
                yield f.line, f.col, f.text, type(self)


# ------------------------------------------------------------------ result cache
# A file's findings, kept by content under the summary store's directory, so that a later run
# over unchanged files (pre-commit --all-files, a rerun in CI with the cache restored) skips
# their analysis. The key holds what the command's result cache holds (the package's source,
# the configuration, the releases), the opt-in codes flake8's options name and a configuration
# error reported on the file. In project mode the entry also holds the project's fingerprint and
# what the analysis asked of the other modules: another module's edit may change this file's
# findings, and they hold when every answer is the same (.answers).
_CACHES: dict[str, "Cache"] = {}
_SETTINGS: dict[Config, str] = {}  # a configuration -> its fingerprint
_PROJECTS: dict[str, Optional[str]] = {}  # folder (and package root) -> its project's fingerprint


def _result_cache(config: Config) -> Optional["Cache"]:
    directory = store_directory(config)
    if directory is None:
        return None
    found = _CACHES.get(directory)
    if found is None:
        from pathlib import Path

        from .cache import Cache

        found = _CACHES[directory] = Cache(Path(directory))
    return found


def _result_key(filename: str, source: str, config: Config,
                error: "Config | str") -> tuple[Optional[str], Optional[str]]:
    """The file's result cache key (None when its result is not kept: stdin, a project too large
    to fingerprint) and, in project mode, its project's fingerprint (None outside it). The key
    holds no fingerprint of the project: a result made before an edit elsewhere may still hold
    (:mod:`.answers`)."""
    if filename in ("-", "stdin") or filename.startswith("<"):
        return None, None
    from .cache import config_fingerprint, entry_key

    known = _SETTINGS.get(config)
    if known is None:
        known = _SETTINGS[config] = config_fingerprint(config)
    from . import versions

    # the releases this file targets (under flake8 they are found per file, from the project's files)
    target = repr(versions.releases_for(config, filename)) if config.target is None else ""
    project = None
    if config.project_mode:
        from .layout import project_fingerprint

        project = project_fingerprint(filename, _PROJECTS)
        if project is None:
            return None, None
    parts = "\0".join([known, "flake8", ",".join(sorted(StarletteLintChecker.chosen)),
                       error if isinstance(error, str) else "", target])
    return entry_key(source.encode("utf-8", "surrogatepass"), filename, parts), project


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


def _select_opt_in(options: Any) -> None:
    """The opt-in codes flake8's options name exactly: ``select``/``extend-select`` (command
    line or flake8 configuration) and ``--enable-extensions``."""
    named = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
    StarletteLintChecker.chosen = frozenset(c for c in [*named, *_enabled_extensions()] if c in OPT_IN)


def _enabled_extensions() -> frozenset[str]:
    """The names given to flake8's ``--enable-extensions`` (command line, else flake8 config).

    flake8 reads that option before it loads plugins (it decides which off-by-default plugins
    to load) and it never reaches the options namespace plugins get. What flake8 decided is the
    ``plugin_opts`` of its ``parse_args`` (flake8.options.parse_args, flake8 6 and 7), which is
    calling this plugin's ``parse_options``: taken from that frame; nothing when it is absent.
    """
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "parse_args" and os.path.basename(code.co_filename) == "parse_args.py":
            names = getattr(frame.f_locals.get("plugin_opts"), "enable_extensions", None)
            return frozenset(names or ())
        frame = frame.f_back
    return frozenset()
