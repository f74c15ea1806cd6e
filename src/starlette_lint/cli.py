"""The ``starlette-lint`` command: ``check`` (with ``--fix``/``--diff``), ``rule CODE``, ``rules``.

It runs the same rule engine as the flake8 plugin (:mod:`starlette_lint.engine`)
and reads the same ``[tool.starlette-lint]`` configuration.

Exit codes: 0 no problems, 1 problems found (or, with ``--diff``, fixes to
apply; or a file whose analysis ran past ``file-timeout`` and was not fully
checked, even when its STL000 finding is ignored), 2 usage or configuration
error (or an internal error: one line, the traceback with ``--debug``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, TextIO

from . import __version__, versions
from . import config as config_files
from .cache import DIRNAME, config_fingerprint
from .config import (DEFAULT, Config, ConfigError, check_codes, from_mapping, load, parse_timeout, project_config,
                     targeting)
from .discovery import PathError, excluded_file, iter_files
from .output import FORMATS, PSEUDO_RULES, Item, render
from .runner import FileResult, Job, Settings, run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The rule registry, the docs and the fixers import LibCST and every rule: they
# are imported where needed, so that `check` on cached or irrelevant files never
# loads them (the warm run's time is then start-up, hashing and cache reads).

PROGRESS_MIN_FILES = 20


class UsageError(Exception):
    """Bad command-line input: exit code 2."""


# ------------------------------------------------------------------ arguments
def _codes_arg(value: str) -> list[str]:
    return [v.strip() for v in value.replace(" ", ",").split(",") if v.strip()]


def _seconds_arg(value: str) -> float:
    try:
        return parse_timeout("--file-timeout", value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="starlette-lint",
        description="Find what breaks or endangers Starlette and FastAPI apps (the flake8 plugin's rules, standalone).",
    )
    parser.add_argument("--version", action="version", version=f"starlette-lint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check files and directories (default: .)",
                           description="Check Python files for Starlette/FastAPI problems.")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or directories (default: .); - reads one file from standard input")
    check.add_argument("--stdin-filename", metavar="PATH",
                       help="the path of the file read from standard input (its configuration, project and "
                            "name in the report); with --fix the fixed source is written to standard output")
    check.add_argument("--show-fixes", action="store_true",
                       help="with --fix or --diff, list the problems fixed (or that would be), per file")
    check.add_argument("--add-noqa", action="store_true",
                       help="write '# noqa: STLxxx' on the line of every problem found (to adopt the tool on an "
                            "existing code base), then report how many were added")
    check.add_argument("--statistics", action="store_true",
                       help="show how many problems each code has instead of each problem")
    check.add_argument("--select", type=_codes_arg, metavar="CODES",
                       help="comma-separated code prefixes to check (replaces the configured select)")
    check.add_argument("--extend-select", type=_codes_arg, default=[], metavar="CODES",
                       help="add codes to select; opt-in rules need their exact code")
    check.add_argument("--ignore", type=_codes_arg, default=[], metavar="CODES",
                       help="comma-separated code prefixes to skip (added to the configured ignore)")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--output-file", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff instead of writing them (exit 1 when there are any)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    check.add_argument("--cache-dir", metavar="DIR",
                       help=f"cache directory (default: {DIRNAME}/ beside the configuration, or in the working directory)")
    check.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                       help="processes for large trees (default: all cores; 1 = no pool)")
    check.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                       help="glob pattern of paths not to walk into (repeatable; added to extend-exclude)")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply the exclusions to files named on the command line too (for pre-commit)")
    check.add_argument("--config", metavar="PYPROJECT", help="read [tool.starlette-lint] from this file only")
    check.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    check.add_argument("--quiet", "-q", action="store_true", help="no summary and no progress on stderr")
    check.add_argument("--verbose", "-v", action="store_true", help="show files, cache hits and timing on stderr")
    check.add_argument("--debug", action="store_true", help="tracebacks in internal-error findings")
    check.add_argument("--file-timeout", type=_seconds_arg, default=None, metavar="SECONDS",
                       help="stop a file's analysis after SECONDS and report STL000 (default: file-timeout "
                            "in [tool.starlette-lint], else 10; 0: no limit)")
    check.add_argument("--timings", metavar="FILE",
                       help="write each file's analysis time (seconds, JSON) to FILE, slowest first")
    check.add_argument("--show-settings", action="store_true",
                       help="print the settings that apply to each PATH and where they come from "
                            "(configuration file, Starlette/FastAPI releases), then exit")
    check.set_defaults(func=cmd_check)

    rule = sub.add_parser("rule", help="show a rule's documentation", description="Show a rule's documentation.")
    rule.add_argument("code", metavar="CODE", help="e.g. STL101")
    rule.set_defaults(func=cmd_rule)

    rules = sub.add_parser("rules", help="list the rules", description="List every rule.")
    rules.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    rules.set_defaults(func=cmd_rules)

    server = sub.add_parser("server", help="run the language server (LSP, over stdio) for editors",
                            description="Serve diagnostics, quick fixes and hover over the Language Server "
                                        "Protocol on standard input and output (needs the 'server' extra: "
                                        "pip install 'starlette-lint[server]').")
    server.set_defaults(func=cmd_server)
    return parser


# ------------------------------------------------------------------ configuration
def _validate_cli_codes(option: str, codes: Sequence[str], known: bool = True) -> tuple[str, ...]:
    try:
        return check_codes(option, codes, known)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _explicit_config(path: str) -> Config:
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--config {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("starlette-lint", {})
    return from_mapping(table, source=str(file), root=str(file.resolve().parent))


def _config_for(path: str, args: argparse.Namespace) -> Config:
    p = Path(path)
    directory = p if p.is_dir() else p.parent
    if args.isolated:
        base = DEFAULT  # no configuration and no project files: the installed releases, else the latest
    elif args.config:
        base = project_config(_explicit_config(args.config))
    else:
        base = load(directory)  # memoised per folder and per file by config.py
    select = tuple(args.select) if args.select is not None else base.select
    timeout = args.file_timeout if args.file_timeout is not None else base.file_timeout
    return base.merged(select=select, extend_select=base.extend_select + tuple(args.extend_select),
                       ignore=base.ignore + tuple(args.ignore), file_timeout=timeout)


def _validate_cli_args(args: argparse.Namespace) -> None:
    """The code options, checked once per run (_config_for then runs once per folder)."""
    if args.select is not None:
        args.select = _validate_cli_codes("--select", args.select)
    args.extend_select = _validate_cli_codes("--extend-select", args.extend_select)
    args.ignore = _validate_cli_codes("--ignore", args.ignore, known=False)


def _cache_dir(config: Config, args: argparse.Namespace, cwd: Path) -> Optional[str]:
    if args.no_cache:
        return None
    if args.cache_dir:
        return str(Path(args.cache_dir).resolve())
    env = os.environ.get("STARLETTE_LINT_CACHE_DIR")
    if env:
        return str(Path(env).resolve())
    base = Path(config.root) if config.root else cwd
    return str((base / DIRNAME).resolve())


def settings_lines(path: str, config: Config) -> list[str]:
    """What ``--show-settings`` prints for one path: every setting, then the target releases."""
    from .rules import all_rules

    probe = os.path.join(path, "__init__.py") if os.path.isdir(path) else path  # a file in the directory
    target = versions.releases_for(config, probe)
    enabled = [r.code for r in all_rules() if config.enabled(r.code, r.opt_in)]
    out = [
        f"{path}:",
        f"  configuration: {config.source or 'none (defaults)'}",
        f"  root (relative paths start here): {config.root or os.getcwd()}",
        f"  select: {list(config.select)}",
        f"  extend-select: {list(config.extend_select)}",
        f"  ignore: {list(config.ignore)}",
        f"  per-file-ignores: {dict((p, list(c)) for p, c in config.per_file_ignores)}",
        f"  extend-blocking-calls: {[f'{n}={a}' if a else n for n, a in config.extend_blocking_calls]}",
        f"  safe-calls: {sorted(config.safe_calls)}",
        f"  endpoint-decorators: {list(config.endpoint_decorators)}",
        f"  extend-exclude: {list(config.extend_exclude)}",
        f"  file-timeout: {config.file_timeout:g}",
        f"  test-paths: {list(config.test_paths)}",
        f"  docs-paths: {list(config.docs_paths)}",
        f"  project-mode: {'true' if config.project_mode else 'false'}",
        f"  rules enabled ({len(enabled)}): {' '.join(enabled)}",
        "  target releases:",
    ]
    out += [f"    {line}" for line in target.describe()]
    return out


def show_settings(paths: Sequence[str], args: argparse.Namespace) -> int:
    for arg in paths:
        if not os.path.lexists(arg):
            raise UsageError(f"{arg}: no such file or directory")
        print("\n".join(settings_lines(arg, _config_for(arg, args))))
    return 0


# ------------------------------------------------------------------ progress
def progress_wanted(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Only for a person at a terminal: never in CI logs or piped output."""
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.done = 0
        self.last = 0.0
        self.shown = False

    def update(self, _result: FileResult) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done == 1 or self.done == self.total or now - self.last >= 0.1:
            self.last = now
            self.stream.write(f"\rstarlette-lint: {self.done}/{self.total} files")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ------------------------------------------------------------------ commands
def cmd_check(args: argparse.Namespace) -> int:
    config_files.clear()  # configuration and project files are read afresh by every run
    versions.clear()
    project = sys.modules.get("starlette_lint.project")  # loaded only by a project-mode run
    if project is not None:
        project.clear()
    _validate_cli_args(args)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.fix and args.diff:
        args.fix = False  # --diff shows what --fix would write, and writes nothing
    if args.add_noqa and (args.fix or args.diff or "-" in args.paths):
        raise UsageError("--add-noqa goes alone: not with --fix, --diff or - (standard input)")
    cwd = Path.cwd()
    mode = "diff" if args.diff else ("fix" if args.fix else "check")
    paths = args.paths or ["."]
    warnings: list[str] = []
    settings: list[Settings] = []
    index: dict[Config, int] = {}
    jobs_in: list[Job] = []
    if args.show_settings:
        return show_settings(paths, args)
    per_folder: dict[str, Config] = {}
    stdin = "-" in paths
    if stdin:
        if len(paths) > 1:
            raise UsageError("- (standard input) is checked alone: name no other path")
        paths = []
        job = _stdin_job(args, settings, index, cwd, mode)
        config = settings[job.settings].config
        if args.force_exclude and args.stdin_filename and \
                excluded_file(args.stdin_filename, [*config.extend_exclude, *args.exclude], config.root):
            # as the file would be skipped in a walk: nothing to report, the source back as it came
            if mode == "fix":
                sys.stdout.buffer.write(job.content or b"")
            return 0
        jobs_in.append(job)
    elif args.stdin_filename:
        raise UsageError("--stdin-filename goes with - (read the file from standard input)")
    for arg in paths:
        if not os.path.lexists(arg):
            raise UsageError(f"{arg}: no such file or directory")
        config = _config_for(arg, args)
        exclude = [*config.extend_exclude, *args.exclude]
        for path in iter_files([arg], exclude=exclude, warn=warnings.append, cwd=cwd,
                               force_exclude=args.force_exclude):
            # each file's own nearest table (a monorepo's projects keep theirs), as under flake8, and
            # the releases of its own project: one Settings per distinct result, one lookup per folder
            folder = os.path.dirname(path)
            file_config = per_folder.get(folder)
            if file_config is None:
                file_config = targeting(config if args.isolated or args.config else _config_for(path, args), path)
                per_folder[folder] = file_config
            if file_config not in index:
                index[file_config] = len(settings)
                cache_dir = _cache_dir(file_config, args, cwd)
                # project mode: the project's module summaries are stored in the same directory
                settings.append(Settings(file_config, config_fingerprint(file_config), cache_dir, mode, args.debug,
                                         index_dir=cache_dir if file_config.project_mode else None))
            jobs_in.append(Job(path, index[file_config]))
    # the same file named twice (``check a.py .``): once
    seen: set[str] = set()
    unique = []
    for job in jobs_in:
        key = os.path.normcase(os.path.abspath(job.path))
        if key not in seen:
            seen.add(key)
            unique.append(job)
    jobs_in = unique

    for w in warnings:
        print(f"starlette-lint: warning: {w}", file=sys.stderr)
    progress = None
    if not args.quiet and len(jobs_in) >= PROGRESS_MIN_FILES and progress_wanted(sys.stderr):
        progress = Progress(len(jobs_in), sys.stderr)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    try:
        results, stats = run(jobs_in, settings, jobs=jobs, on_result=progress.update if progress else None)
    finally:
        if progress is not None:
            progress.close()

    items = sorted(
        (Item(r.path, *row) for r in results for row in r.rows),
        key=lambda i: (i.path, i.line, i.col, i.code),
    )
    for r in results:
        for note in r.notes:
            print(f"starlette-lint: {note}", file=sys.stderr)
    fixed = sum(r.fixed for r in results)
    fixed_files = sum(1 for r in results if r.fixed)

    if args.add_noqa:
        return _add_noqa(items)
    out_text: str
    if mode == "diff":
        out_text = "".join(r.diff for r in sorted(results, key=lambda r: r.path) if r.diff)
    elif args.statistics and args.format == "text":
        out_text = statistics(items)
    else:
        out_text = render(args.format, items, cwd)
    listing = show_fixes(results, mode) if args.show_fixes and mode != "check" else ""
    if listing and mode == "fix" and args.format == "text" and not args.output_file and not stdin:
        out_text, listing = out_text + listing, ""
    if stdin and mode == "fix":
        # the fixed source (or the source as it came) on stdout, the report on stderr or in the file
        sys.stdout.buffer.write(results[0].output or b"")
        sys.stdout.flush()
        if args.output_file:
            _emit(out_text, args.output_file)
        else:
            sys.stderr.write(out_text)
    else:
        _emit(out_text, args.output_file)
    if listing:  # stdout is a patch, a machine-readable report or the fixed source: the list goes to stderr
        sys.stderr.write(listing)

    slowest = sorted((r for r in results if not r.cached and r.seconds), key=lambda r: -r.seconds)
    if args.timings:
        _emit(json.dumps([{"path": r.path, "seconds": round(r.seconds, 4), "timed_out": r.timed_out}
                          for r in slowest], indent=1) + "\n", args.timings, "--timings")
    if args.verbose:
        print(f"starlette-lint: {stats.files} files, {stats.cached} from cache, {stats.analysed} analysed "
              f"in {stats.seconds:.2f}s", file=sys.stderr)
        for r in slowest[:5]:
            print(f"starlette-lint:   {r.seconds:6.2f}s {r.path}", file=sys.stderr)
    unfinished = [r.path for r in results if r.timed_out]
    if unfinished:
        # also when STL000 is ignored: the exit status must not claim these files were checked
        names = ", ".join(unfinished[:5]) + (f" and {len(unfinished) - 5} more" if len(unfinished) > 5 else "")
        print(f"starlette-lint: {len(unfinished)} file{'' if len(unfinished) == 1 else 's'} not fully checked "
              f"(analysis stopped at the file-timeout): {names}", file=sys.stderr)
    if not args.quiet:
        print(_summary(mode, items, len(results), fixed, fixed_files), file=sys.stderr)
    if args.exit_zero:
        return 0
    if mode == "diff":
        return 1 if fixed or unfinished else 0
    return 1 if items or unfinished else 0


def _stdin_job(args: argparse.Namespace, settings: list[Settings], index: dict[Config, int], cwd: Path,
               mode: str) -> Job:
    """The file read from standard input, checked as ``--stdin-filename`` (its folder's configuration,
    its project in project mode); never written to disk."""
    name = args.stdin_filename or "-"
    where = name if args.stdin_filename else str(cwd / "stdin.py")
    config = targeting(_config_for(where if os.path.lexists(where) else str(Path(where).parent), args), where)
    index[config] = len(settings)
    settings.append(Settings(config, config_fingerprint(config), None, "diff" if mode == "fix" else mode, args.debug,
                             index_dir=_cache_dir(config, args, cwd) if config.project_mode else None))
    return Job(name, 0, sys.stdin.buffer.read(), stdin=True)


def _add_noqa(items: list[Item]) -> int:
    """``--add-noqa``: a ``# noqa: STLxxx`` on the line of each finding (internal errors aside)."""
    import tokenize

    from .noqa import NoqaIndex
    from .runner import _decode, read_bytes, write_atomic

    marks: dict[str, dict[int, set[str]]] = {}
    # not syntax and read errors (E999, E902) nor internal errors: a noqa hides nothing there; nor
    # STL901: its fix is to remove a stale code, and marking it would keep that code for good
    for item in items:
        if item.code.startswith("STL") and item.code not in ("STL000", "STL901"):
            marks.setdefault(os.path.realpath(item.path), {}).setdefault(item.line, set()).add(item.code)
    added = files = 0
    for path, lines in sorted(marks.items()):
        try:
            content = read_bytes(path)
            encoding, _ = tokenize.detect_encoding(io.BytesIO(content).readline)
        except (OSError, SyntaxError) as exc:
            print(f"starlette-lint: {path}: not changed: {exc}", file=sys.stderr)
            continue
        text, decoded = _decode(content)
        new_text, count = NoqaIndex(text).with_codes(text, lines) if decoded else (text, 0)
        if not count:
            print(f"starlette-lint: {path}: not changed (its lines cannot be read, or a string on a finding's line "
                  f"holds '# noqa')", file=sys.stderr)
            continue
        error = write_atomic(path, new_text.encode(encoding), content)
        if error is not None:
            print(f"starlette-lint: {error}", file=sys.stderr)
            continue
        added, files = added + count, files + 1
    print(f"starlette-lint: added {added} noqa comment{'' if added == 1 else 's'} in {files} "
          f"file{'' if files == 1 else 's'}", file=sys.stderr)
    return 0


def show_fixes(results: Sequence[FileResult], mode: str) -> str:
    """``Fixed 3 problems:`` then, per file, how many of each code (``would fix`` with --diff)."""
    from .rules import get_rule

    done = [r for r in sorted(results, key=lambda r: r.path) if r.fixes]
    total = sum(len(r.fixes) for r in done)
    if not total:
        return "No problems fixed.\n" if mode == "fix" else "No problems to fix.\n"
    lines = [f"{'Fixed' if mode == 'fix' else 'Would fix'} {total} problem{'' if total == 1 else 's'}:\n"]
    for r in done:
        lines.append(f"- {r.path}:\n")
        counts: dict[str, int] = {}
        for code in r.fixes:
            counts[code] = counts.get(code, 0) + 1
        for code, n in sorted(counts.items()):
            rule = get_rule(code)
            lines.append(f"    {n} x {code} ({rule.name if rule is not None else code})\n")
    return "".join(lines)


def statistics(items: list[Item]) -> str:
    """One line per code: how many problems, whether they can be fixed, the rule's name."""
    from .output import PSEUDO_RULES
    from .rules import get_rule

    counts: dict[str, list[Item]] = {}
    for item in items:
        counts.setdefault(item.code, []).append(item)
    width = len(str(max((len(v) for v in counts.values()), default=0)))
    code_width = max((len(code) for code in counts), default=0)
    lines = []
    for code, found in sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        rule = get_rule(code)
        name = rule.name if rule is not None else PSEUDO_RULES.get(code, ("",))[0]
        fix = "[*]" if any(i.fixable for i in found) else "   "
        lines.append(f"{len(found):>{width}}  {code:<{code_width}}  {fix} {name}\n")
    return "".join(lines)


def _summary(mode: str, items: list[Item], files: int, fixed: int, fixed_files: int) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    if mode == "diff":
        return (f"starlette-lint: would fix {n(fixed, 'problem')} in {n(fixed_files, 'file')}" if fixed
                else "starlette-lint: nothing to fix")
    head = f"starlette-lint: fixed {n(fixed, 'problem')} in {n(fixed_files, 'file')}; " if mode == "fix" and fixed else \
        "starlette-lint: "
    if not items:
        return head + f"no problems in {n(files, 'file')}" if not fixed else head + "nothing left"
    in_files = len({i.path for i in items})
    text = head + f"{n(len(items), 'problem')} in {n(in_files, 'file')}"
    fixable = sum(1 for i in items if i.fixable)
    if fixable and mode == "check":
        text += f" ({fixable} fixable with `starlette-lint check --fix`)"
    return text


def _emit(text: str, output_file: Optional[str], option: str = "--output-file") -> None:
    if output_file:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{option} {output_file}: {exc.strerror or exc}") from None
        return
    sys.stdout.write(text)
    sys.stdout.flush()


def cmd_rule(args: argparse.Namespace) -> int:
    from .docs import rule_doc

    code = args.code.strip().upper()
    doc = rule_doc(code)
    if doc is None:
        if code in PSEUDO_RULES:
            name, short, full = PSEUDO_RULES[code]
            print(f"# {code} ({name})\n\n{short}.\n\n{full}")
            return 0
        raise UsageError(f"unknown rule code {args.code!r} (see `starlette-lint rules`)")
    sys.stdout.write(doc)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from .docs import rule_table
    from .rules import all_rules

    rules = all_rules()
    if args.format == "markdown":
        print(rule_table())
    elif args.format == "json":
        print(json.dumps([{"code": r.code, "name": r.name, "summary": r.summary, "opt_in": r.opt_in,
                           "fixable": r.fixable} for r in rules], indent=2))
    else:
        fixable = {r.code for r in rules if r.fixable}
        width = max((len(r.name) for r in rules), default=4)
        print(f"{'code':<7} {'name':<{width}} {'default':<7} {'fix':<3} summary")
        for r in rules:
            print(f"{r.code:<7} {r.name:<{width}} {'opt-in' if r.opt_in else 'on':<7} "
                  f"{'yes' if r.code in fixable else '':<3} {r.summary}")
    return 0


def cmd_server(_args: argparse.Namespace) -> int:
    try:
        from .server import main as serve
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls ({exc}): pip install 'starlette-lint[server]'") from None
    return serve()


# ------------------------------------------------------------------ entry point
def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_usage(sys.stderr)
        print("starlette-lint: error: a command is required (check, rule, rules, server)", file=sys.stderr)
        return 2
    try:
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except (UsageError, PathError) as exc:
        print(f"starlette-lint: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"starlette-lint: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``| head``): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, the traceback only with --debug
        if getattr(args, "debug", False):
            raise
        print(f"starlette-lint: internal error: {type(exc).__name__}: {exc} (--debug shows the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
