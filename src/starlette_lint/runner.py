"""Checking (and fixing) files for the standalone command: one file, or many in parallel.

The rule engine is :mod:`starlette_lint.engine`, the same one the flake8
plugin runs; this module adds what a standalone front end needs around it:
reading files (encoding, BOM, newlines kept), ``# noqa`` as flake8 applies
it, per-file-ignores, syntax errors as ``E999`` findings, unreadable files as
``E902`` findings, the result cache, the fix loop with atomic writes, and a
process pool for large trees.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .cache import Cache, clear_places, entry_key, replace_file
from .config import Config
from .finding import Finding
from .layout import project_fingerprint
from .noqa import NoqaIndex, split_lines
from .prefilter import is_relevant
from .stack import call_with_big_stack

if TYPE_CHECKING:
    from .engine import Analysis
    from .finding import Report

# LibCST, the rules and the fixers (engine, fixes) are imported only when a file
# is analysed: a run whose files are all cached or irrelevant never loads them.
INTERNAL = "STL000"  # engine.INTERNAL (tests/test_perf_paths.py keeps them equal)

SYNTAX = "E999"
IO_ERROR = "E902"
MAX_FIX_ROUNDS = 5
POOL_THRESHOLD = 8  # uncached files before a process pool pays for itself

# (line, column 0-based, code, message, fixable)
Row = tuple[int, int, str, str, bool]


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs for the files of one configuration (picklable)."""

    config: Config
    fingerprint: str
    cache_dir: Optional[str]
    mode: str = "check"  # check | fix | diff
    debug: bool = False
    index_dir: Optional[str] = None  # project mode: where module summaries are stored


@dataclass
class FileResult:
    path: str
    rows: list[Row] = field(default_factory=list)
    cached: bool = False
    diff: str = ""
    notes: list[str] = field(default_factory=list)  # messages for stderr
    timed_out: bool = False  # the analysis ran past file-timeout: the file was not fully checked
    seconds: float = 0.0  # time spent on this file (0 when answered from the cache)
    output: Optional[bytes] = None  # standard input (``-``): the source, fixed with --fix, for stdout
    fixes: list[str] = field(default_factory=list)  # the code of each problem fixed, in the order fixed
    # project mode: what the analysis of the content reported asked of the other modules (.answers)
    asked: Optional[list[list[Any]]] = None
    # Job.detail (the language server): by (line, col, code) of a row, where its node ends
    # (1-based line, 0-based column) and, for a fixable row, what its fix writes
    ends: dict[tuple[int, int, str], tuple[int, int]] = field(default_factory=dict)
    fix_titles: dict[tuple[int, int, str], str] = field(default_factory=dict)

    @property
    def fixed(self) -> int:
        return len(self.fixes)


@dataclass
class Job:
    path: str
    settings: int  # index into the settings list
    content: Optional[bytes] = None
    error: Optional[str] = None
    # project mode: a fingerprint of the project's other modules, part of the result's cache key
    # (their findings depend on those modules); None when the tree is too large to fingerprint
    depends: Optional[str] = ""
    stdin: bool = False  # read from standard input: never read from nor written to ``path``
    detail: bool = False  # also where each finding's node ends and what its fix writes (FileResult.ends)
    only: Optional[tuple[int, int, str]] = None  # fix/diff mode: fix this finding (line, col, code) alone


# ------------------------------------------------------------------ one file
def decode(content: bytes) -> str:
    """Text as flake8 reads it: PEP 263 / BOM encoding, latin-1 when that fails."""
    return _decode(content)[0]


def _decode(content: bytes) -> tuple[str, bool]:
    """:func:`decode`, and whether the declared (or default) encoding worked.

    When it did, the text is exactly what LibCST decodes the bytes to (it uses
    the same ``tokenize.detect_encoding``), so the engine can be given the text.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(content).readline)
        return content.decode(encoding), True
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return content.decode("latin-1"), False


def _keep(findings: Iterable[Finding], config: Config, path: str, noqa: NoqaIndex) -> list[Finding]:
    skip = tuple(config.ignored_for(path))
    # codes no rule has (syntax and read errors, internal errors and timeouts) are still ignorable
    front_end_skip = tuple(p for p in config.ignore
                           if any(c.startswith(p) for c in (SYNTAX, IO_ERROR, INTERNAL)) or p == "ALL")
    out = []
    for f in findings:
        if skip and f.code.startswith(skip):
            continue
        if f.code in (SYNTAX, IO_ERROR, INTERNAL) and front_end_skip and f.code.startswith(front_end_skip):
            continue
        if noqa.suppressed(f.code, f.line):
            continue
        out.append(f)
    return out


def _analyze(content: bytes, path: str, settings: Settings) -> tuple[Analysis, list[Finding], str]:
    from .engine import Analysis, analyze_source
    from .framework import NOWHERE

    text, exact = _decode(content)
    noqa = NoqaIndex(text)
    if noqa.file_ignored:
        return Analysis(), [], text
    # Checking only: the decoded text spares LibCST regenerating the module's code
    # (a fifth of a check) and gives the same findings. Fixing needs the bytes, so
    # that LibCST keeps the file's encoding when it writes the module back.
    source = text if exact and settings.mode == "check" else content
    elsewhere = NOWHERE
    recorder = None
    if settings.config.project_mode:
        from .answers import Recorder
        from .project import view_for

        elsewhere = recorder = Recorder(view_for(path, settings.index_dir))
    analysis = analyze_source(source, path, settings.config, on_parse_error="syntax", debug=settings.debug,
                              elsewhere=elsewhere)
    if recorder is not None:
        analysis.asked = recorder.log()
    return analysis, _keep(analysis.findings, settings.config, path, noqa), text


def _kept_reports(analysis: Analysis, kept: list[Finding]) -> list[Report]:
    keys = {(f.line, f.col, f.code) for f in kept}
    return [r for r, f in analysis.reports if (f.line, f.col, f.code) in keys]


def _plain_rows(findings: Iterable[Finding]) -> list[Row]:
    """Rows with no fixable mark (when no fixer may run, or none can tell)."""
    return [(f.line, f.col, f.code, f.message, False) for f in findings]


def _rows(analysis: Analysis, kept: list[Finding], path: str, result: Optional[FileResult] = None,
          text: Optional[str] = None) -> list[Row]:
    """The kept findings as rows, marked fixable; given ``result`` and the file's ``text``
    (Job.detail), also fills the result's ``ends`` and ``fix_titles``."""
    from .fixes import fixable_codes, fixable_reports

    fixable: dict[tuple[int, int, str], str] = {}
    codes = fixable_codes()
    if analysis.module is not None and analysis.model is not None and analysis.framework is not None \
            and any(f.code in codes for f in kept):
        reports = _kept_reports(analysis, kept)
        try:
            ok = fixable_reports(analysis.module, analysis.model, analysis.framework, path, reports)
        except Exception:  # noqa: BLE001 - a fixer bug must not break checking
            ok = {}
        by_report = {id(r): f for r, f in analysis.reports}
        fixable = {(by_report[i].line, by_report[i].col, by_report[i].code): title
                   for i, title in ok.items() if i in by_report}
    if result is not None and text is not None:
        result.fix_titles = fixable
        if analysis.module is not None:
            result.ends = _ends(analysis, kept, text)
    return [(f.line, f.col, f.code, f.message, (f.line, f.col, f.code) in fixable) for f in kept]


def _ends(analysis: Analysis, kept: list[Finding], text: str) -> dict[tuple[int, int, str], tuple[int, int]]:
    """Where each kept finding's node ends, on the finding's own line: the first line of the
    node's code when the line continues with it (a call, a ``def`` line without its decorators),
    else the end of the line's code. Editors underline from the finding to there."""
    assert analysis.module is not None
    lines = split_lines(text)
    wanted = {(f.line, f.col, f.code) for f in kept}
    ends: dict[tuple[int, int, str], tuple[int, int]] = {}
    for report, f in analysis.reports:
        key = (f.line, f.col, f.code)
        if key not in wanted or key in ends or not 0 < f.line <= len(lines):
            continue
        rest = lines[f.line - 1][f.col:].rstrip("\r\n")
        width = len(rest.rstrip())
        try:
            code = analysis.module.code_for_node(report.node)
        except Exception:  # noqa: BLE001 - the span is a nicety: the finding stands without it
            code = ""
        for part in code.splitlines():
            part = part.strip().rstrip(",").rstrip()  # an argument's code holds its comma
            if part and rest.startswith(part):
                width = len(part)
                break
        ends[key] = (f.line, f.col + width)
    return ends


def process(job: Job, settings: Settings) -> FileResult:
    """Check (and in fix/diff mode, fix) one file."""
    path = job.path
    result = FileResult(path)
    content = job.content
    if job.stdin:
        result.output = content  # as it came, unless fixed below
    if content is None:
        try:
            content = read_bytes(path)
        except OSError as exc:
            result.rows = [io_error_row(exc)]
            return result
    # a detailed result (the language server's) has more than the cache keeps
    project = _project(job, settings)
    cache = Cache(Path(settings.cache_dir) if settings.cache_dir and job.depends is not None and not job.detail
                  and (project is not None or not settings.config.project_mode) else None)
    key = entry_key(content, path, settings.fingerprint)
    rows = _cached(cache, key, project, path, settings)
    if rows is not None:
        result.rows = rows
        result.cached = True
        return result
    if not is_relevant(content, settings.config):
        # what the engine would answer (its first test), without importing it
        cache.put(key, [], project)
        return result
    from .deadline import FileTimeout, timeout_message, within
    from .engine import gc_paused
    from .rules import all_rules

    all_rules()  # the rules and fixers are imported outside any file's budget: an import cut short breaks the rest
    started = time.perf_counter()
    analyses: list[Analysis] = []
    with gc_paused():  # until the models are released and the trees freed: the collector never walks them
        try:
            try:
                # one budget for the check and its fix rounds
                fixed_content, text = within(settings.config.file_timeout, _check_and_fix, content, job, settings,
                                             result, analyses)
            except FileTimeout:
                # in a fixer, or in the fixable test: nothing is written, and what the check of the
                # file as it is found is kept
                first = [f for f in (analyses[0].findings if analyses else []) if f.code != INTERNAL]
                first.insert(0, Finding(1, 0, INTERNAL, timeout_message(settings.config.file_timeout)))
                kept = _keep(first, settings.config, path, NoqaIndex(decode(content)))
                result.rows = _plain_rows(kept)
                result.diff, result.fixes = "", []
                result.timed_out, fixed_content = True, None
            if result.fixed and fixed_content is not None:
                if settings.mode == "diff":  # (standard input is fixed in this mode: never written)
                    result.diff = unified_diff(text, decode(fixed_content), path)
                    if job.stdin:
                        result.output = fixed_content
                else:
                    error = write_atomic(path, fixed_content, content)
                    if error is not None:  # what is reported is what the file still holds
                        result.notes.append(error)
                        result.fixes = []
                        checked, kept = analyses[0], _keep(analyses[0].findings, settings.config, path,
                                                           NoqaIndex(text))
                        result.rows = _rows(checked, kept, path)
                        result.asked = checked.asked
                if result.fixed:
                    content = fixed_content
                    key = entry_key(content, path, settings.fingerprint)
        except RecursionError:
            result.rows = [(1, 0, INTERNAL,
                            f"internal error while checking {path}: RecursionError (file too deeply nested)", False)]
            return result
        except Exception as exc:  # noqa: BLE001 - one file's trouble must not stop the run
            result.rows = [(1, 0, INTERNAL, f"internal error while checking {path}: {type(exc).__name__}: {exc}", False)]
            return result
        finally:
            for done in analyses:
                done.release()
            analyses.clear()
            result.seconds = time.perf_counter() - started
    if result.timed_out:
        return result  # not cached: the next run tries again (the machine may just have been busy)
    if settings.mode != "diff" or not result.fixed:
        cache.put(key, [list(r) for r in result.rows], project, result.asked)
    return result


def _project(job: Job, settings: Settings) -> Optional[str]:
    """The fingerprint of the job's project in project mode (None outside it, or when it is not known:
    a project too large, or a job :func:`run` did not fingerprint)."""
    return job.depends or None if settings.config.project_mode else None


def _cached(cache: Cache, key: str, project: Optional[str], path: str, settings: Settings) -> Optional[list[Row]]:
    """The cached rows of a file, when they serve this run: they still hold for the project as it
    is now (:func:`.answers.holds`; held after an edit elsewhere, the entry is renewed so that the
    next run needs no index), and in fix mode there is nothing to fix."""
    hit = cache.get(key) if cache.enabled else None
    if hit is None or (settings.mode != "check" and any(row[4] for row in hit["findings"])):
        return None
    from .answers import holds

    if not holds(hit, project, path, settings.index_dir, settings.config):
        return None
    if project is not None and hit.get("project") != project:
        cache.put(key, hit["findings"], project, hit.get("asked"))
    return [tuple(row) for row in hit["findings"]]


def _check_and_fix(content: bytes, job: Job, settings: Settings, result: FileResult,
                   analyses: list[Analysis]) -> tuple[Optional[bytes], str]:
    """Check (and in fix/diff mode, fix in memory) one file: the fixed bytes (None when
    nothing was fixed) and the file's text. Fills ``result.rows`` and ``result.fixes``;
    every analysis made is added to ``analyses`` (the file as found first)."""
    from .deadline import FileTimeout, stand_down
    from .engine import timed_out

    path = job.path
    analysis, kept, text = _analyze(content, path, settings)
    analyses.append(analysis)
    fixed_content: Optional[bytes] = None
    if timed_out(analysis.findings):  # the budget is spent: no fixer runs, not even to tell what is fixable
        result.timed_out = True
        result.rows = _plain_rows(kept)
        return fixed_content, text
    if settings.mode != "check" and analysis.module is not None:
        # fixers generate code recursively: deep expressions need the big stack the check had
        new_content, analysis, kept, result.fixes = call_with_big_stack(_fix, content, path, settings, analysis, kept,
                                                                        analyses, job.only)
        if result.fixed:
            fixed_content = new_content
    result.asked = analysis.asked
    try:
        if job.detail:
            result.rows = _rows(analysis, kept, path, result, text if fixed_content is None else decode(fixed_content))
        else:
            result.rows = _rows(analysis, kept, path)
    except FileTimeout:  # every rule ran: the file is checked, only the fixable marks are unknown
        stand_down()
        result.rows = _plain_rows(kept)
    return fixed_content, text


def _fix(content: bytes, path: str, settings: Settings, analysis: Analysis, kept: list[Finding],
         analyses: list[Analysis], only: Optional[tuple[int, int, str]] = None
         ) -> tuple[bytes, Analysis, list[Finding], list[str]]:
    """Fix rounds; every analysis made is added to ``analyses`` (released by the caller).
    ``only``: the (line, col, code) of the one finding to fix, in one round (a quick fix).

    A round whose check ran out of time ends the fixing with :class:`FileTimeout`: nothing of
    a half-checked file is written.
    """
    from .deadline import FileTimeout
    from .engine import timed_out
    from .fixes import fix_once, fixable_codes

    fixed: list[str] = []  # the codes fixed
    done: set[tuple[str, str]] = set()  # (code, message) already fixed once: never fixed twice
    for _ in range(MAX_FIX_ROUNDS):
        if analysis.module is None or analysis.model is None or analysis.framework is None:
            break
        reports = [r for r in _kept_reports(analysis, kept) if (r.code, r.message) not in done]
        if only is not None:
            if fixed:
                break
            at = {id(r): (f.line, f.col, f.code) for r, f in analysis.reports}
            reports = [r for r in reports if at.get(id(r)) == only]
        if not any(r.code in fixable_codes() or r.fix is not None for r in reports):
            break
        outcome = fix_once(analysis.module, analysis.model, analysis.framework, path, reports)
        if outcome is None:
            break
        new_module, applied = outcome
        new_content = new_module.bytes
        if new_content == content:
            break
        fixed += [r.code for r in {id(r): r for r, _ in applied}.values()]
        done |= {(r.code, r.message) for r, _ in applied}
        content = new_content
        analysis, kept, _ = _analyze(content, path, settings)
        analyses.append(analysis)
        if timed_out(analysis.findings):
            raise FileTimeout
    return content, analysis, kept, fixed


def unified_diff(old: str, new: str, path: str) -> str:
    import difflib

    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def read_bytes(path: str) -> bytes:
    # Non-blocking open: a FIFO named *.py would otherwise block the run forever (and /dev/zero never end).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return fh.read()


def io_error_row(exc: OSError) -> Row:
    return (1, 0, IO_ERROR, f"{type(exc).__name__}: {exc.strerror or exc}", False)


def write_atomic(path: str, data: bytes, expected: bytes) -> Optional[str]:
    """Replace the file's bytes unless it changed since it was read; an error message or None."""
    real = os.path.realpath(path)
    try:
        if read_bytes(real) != expected:
            return f"{path}: changed while being fixed; not written"
        replace_file(real, data, mode=os.stat(real).st_mode & 0o7777, prefix=f".{os.path.basename(real)}.")
    except OSError as exc:
        return f"{path}: cannot write the fixes: {exc.strerror or exc}"
    return None


# ------------------------------------------------------------------ many files
_WORKER_SETTINGS: list[Settings] = []


def _init_worker(settings: list[Settings]) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = settings


def _work(jobs: list[Job]) -> list[FileResult]:
    """A worker's share: its files checked in turn on one large-stack thread (see .stack)."""
    return call_with_big_stack(lambda: [process(job, _WORKER_SETTINGS[job.settings]) for job in jobs])


@dataclass
class RunStats:
    files: int = 0
    cached: int = 0
    analysed: int = 0
    seconds: float = 0.0


def run(jobs_in: list[Job], settings: list[Settings], *, jobs: int = 1,
        on_result: Optional[Callable[[FileResult], Any]] = None) -> tuple[list[FileResult], RunStats]:
    """Results in the order of ``jobs_in``; cached files are answered without the pool."""
    start = time.perf_counter()
    clear_places()  # the folders around the files are read afresh
    stats = RunStats(files=len(jobs_in))
    results: dict[int, FileResult] = {}
    todo: list[tuple[int, Job]] = []
    fingerprints: dict[str, Optional[str]] = {}  # folder -> its project's fingerprint
    for i, job in enumerate(jobs_in):
        s = settings[job.settings]
        if job.content is None and job.error is None:
            try:
                job.content = read_bytes(job.path)
            except OSError as exc:
                results[i] = FileResult(job.path, [io_error_row(exc)])
                _done(results[i], on_result)
                continue
        if s.config.project_mode and s.cache_dir:  # (standard input is never cached: no cache_dir)
            job.depends = project_fingerprint(job.path, fingerprints)
        project = _project(job, s)
        cache = Cache(Path(s.cache_dir) if s.cache_dir and job.depends is not None
                      and (project is not None or not s.config.project_mode) else None)
        rows = _cached(cache, entry_key(job.content or b"", job.path, s.fingerprint), project,
                       job.path, s)
        if rows is not None:
            results[i] = FileResult(job.path, rows, cached=True)
            stats.cached += 1
            job.content = None
            _done(results[i], on_result)
            continue
        if job.content is not None and not is_relevant(job.content, s.config):
            results[i] = process(job, s)  # nothing to parse: not worth a trip to the pool
            stats.analysed += 1
            job.content = None
            _done(results[i], on_result)
            continue
        todo.append((i, job))
    stats.analysed += len(todo)
    if len(todo) > POOL_THRESHOLD and jobs > 1:
        for _, job in todo:
            job.content = None  # workers read the files themselves: nothing big to send them
        from concurrent.futures import ProcessPoolExecutor

        workers = min(jobs, len(todo))
        chunk = max(1, min(16, len(todo) // (workers * 4)))
        shares = [[job for _, job in todo[k:k + chunk]] for k in range(0, len(todo), chunk)]
        try:
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(settings,)) as pool:
                done = (res for share in pool.map(_work, shares) for res in share)
                for (i, _), res in zip(todo, done):
                    results[i] = res
                    _done(res, on_result)
            todo = []
        except (OSError, RuntimeError, ImportError):  # no processes here (sandbox, frozen app): serial
            todo = [(i, job) for i, job in todo if i not in results]
    if todo:
        call_with_big_stack(_serial, todo, settings, results, on_result)
    stats.seconds = time.perf_counter() - start
    return [results[i] for i in range(len(jobs_in))], stats


def _serial(todo: list[tuple[int, Job]], settings: list[Settings], results: dict[int, FileResult],
            on_result: Optional[Callable[[FileResult], Any]]) -> None:
    """The files in turn, on the one large-stack thread this is called on (see .stack)."""
    for i, job in todo:
        results[i] = process(job, settings[job.settings])
        job.content = None
        _done(results[i], on_result)


def _done(result: FileResult, on_result: Optional[Callable[[FileResult], Any]]) -> None:
    if on_result is not None:
        on_result(result)
