"""One rule engine for both front ends (the flake8 plugin and the CLI).

``check_source`` skips files that cannot matter before parsing, then
:func:`analyze_module` runs the pipeline, one step after the other:

    parse (LibCST, once) -> Model (one walk: scopes, names, calls)
        -> Framework (apps, routes, roles: built once, typed)
        -> every enabled rule, ``rule.check(model, framework)``
        -> positions, for the reported nodes only.

Each rule is isolated: a failing rule yields one STL000 finding and the others
still report.
"""

from __future__ import annotations

import ast
import gc
import io
import threading
import tokenize
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Sequence, Union

import libcst as cst

from . import guard
from .classify import classify
from .config import DEFAULT, Config
from .deadline import TIMEOUT_PREFIX, FileTimeout, stand_down, timeout_message, within
from .deadline import check as deadline_check
from .finding import Finding, Report
from .framework import NOWHERE, Elsewhere, Framework
from .model import Model
from .noqa import peer_suppressed
from .positions import model_positions
from .prefilter import is_relevant
from .rules import all_rules
from .rules.base import Rule
from .stack import call_with_big_stack, fits_calling_thread, on_big_stack

__all__ = ["INTERNAL", "Analysis", "analyze_module", "analyze_source", "call_with_big_stack", "check_source",
           "gc_paused", "parse_module", "python_syntax_error", "run_rules", "select_rules", "timed_out"]

INTERNAL = "STL000"

# Set on a thread when its analysis met a RecursionError (see analyze_source).
_too_deep = threading.local()


def select_rules(config: Config, enable_all: bool = False) -> list[Rule]:
    if enable_all:
        return all_rules()
    return [r for r in all_rules() if config.enabled(r.code, r.opt_in)]


def check_source(
    source: Union[str, bytes],
    filename: str = "<unknown>",
    config: Optional[Config] = None,
    *,
    rules: Optional[Sequence[Rule]] = None,
    on_parse_error: str = "internal",
    debug: bool = False,
    tree: Optional[ast.Module] = None,
) -> list[Finding]:
    """Findings for one module, sorted by position and de-duplicated.

    ``on_parse_error``: ``"ignore"`` (nothing), ``"internal"`` (one STL000
    finding: LibCST could not parse what Python can), or ``"syntax"`` (an
    ``E999`` finding, for front ends that have no other syntax check: Python's
    own verdict and message, asked whenever LibCST fails, the file holds a
    null byte or the check ended in STL000; STL000 when Python accepts what
    LibCST cannot parse). A file with an expression too complex for LibCST
    (:mod:`.guard`) is not parsed: one STL000 finding at that expression says so.
    An analysis that runs past ``config.file_timeout`` seconds is stopped
    (:mod:`.deadline`): the findings of the rules that finished are kept, and
    one STL000 finding at line 1 names the budget (:func:`timed_out`).
    ``tree``: Python's ``ast`` of the same source when the caller has it
    (flake8 does): it makes positions cheaper and, as proof that Python
    accepted the file's nesting, lets the main thread analyse it without a
    large-stack thread (:mod:`.stack`). It must be the tree of this source.
    """
    analysis = analyze_source(source, filename, config, rules=rules, on_parse_error=on_parse_error, debug=debug,
                              tree=tree)
    analysis.release()  # the tree is freed now, not by a later cyclic collection
    return analysis.findings


@dataclass
class Analysis:
    """What one check of a module produced: findings, and (for fixers) the tree they came from.

    ``module``/``model`` are None when the file was skipped or did not parse;
    ``reports`` pairs every rule report (with its node) with its finding.
    """

    findings: list[Finding] = field(default_factory=list)
    module: Optional[cst.Module] = None
    model: Optional[Model] = None
    reports: list[tuple[Report, Finding]] = field(default_factory=list)
    framework: Optional[Framework] = None
    # project mode, set by a front end that recorded them: what the analysis asked of the
    # project's other modules (.answers), kept with a cached result
    asked: Optional[list[list[object]]] = None

    def release(self) -> None:
        """Free the model and what was built from it (see :meth:`Model.release`); front ends
        call this when they are done with the file."""
        if self.model is not None:
            self.model.release(self.framework.records() if self.framework is not None else ())


def analyze_source(
    source: Union[str, bytes],
    filename: str = "<unknown>",
    config: Optional[Config] = None,
    *,
    rules: Optional[Sequence[Rule]] = None,
    on_parse_error: str = "internal",
    debug: bool = False,
    tree: Optional[ast.Module] = None,
    elsewhere: Elsewhere = NOWHERE,
) -> Analysis:
    """:func:`check_source`, keeping the parsed module, the model and the reports' nodes.

    ``elsewhere``: what the project's other modules tell the framework step (the seam for
    project mode, :class:`.framework.Elsewhere`); nothing by default.
    """
    config = config or DEFAULT
    if not is_relevant(source, config, project=elsewhere is not NOWHERE):
        return Analysis()
    active = list(rules) if rules is not None else select_rules(config)
    if not active:
        return Analysis()
    if on_parse_error == "syntax" and (b"\0" in source if isinstance(source, bytes) else "\0" in source):
        error = python_syntax_error(source, filename)  # LibCST takes null bytes in strings, Python does not
        if error is not None:
            return Analysis([error])
    args = (source, filename, config, active, on_parse_error, debug, tree, elsewhere)
    if fits_calling_thread(source, tree):
        # on the calling thread (see .stack); Python code that recursed too deep
        # for its limit is done again on a large stack, where the limit is raised
        _too_deep.hit = False
        analysis = _analyze(*args)
        if _too_deep.hit and not on_big_stack():
            analysis.release()
            analysis = call_with_big_stack(_analyze, *args)
    else:
        analysis = call_with_big_stack(_analyze, *args)
    if on_parse_error == "syntax" and any(f.code == INTERNAL for f in analysis.findings):
        # LibCST accepts some files Python rejects (brackets nested deeper than 200...): Python's verdict wins
        error = python_syntax_error(source, filename)
        if error is not None:
            return Analysis([error])
    return analysis


def python_syntax_error(source: Union[str, bytes], filename: str = "<unknown>") -> Optional[Finding]:
    """Python's own verdict on a module as an ``E999`` finding; None when it parses (or cannot tell)."""
    try:
        if isinstance(source, bytes):
            # compile() lets undecodable bytes through in comments; importing the file does not
            data = source
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            try:
                source = data.decode(encoding)
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                return Finding(line, 0, "E999", f"SyntaxError: byte {data[exc.start]:#x} is not valid {encoding} "
                                                f"({exc.reason}) and no other encoding is declared")
        with warnings.catch_warnings():  # SyntaxWarning ("is not callable; perhaps you missed a comma?")...
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError too
        return Finding(max(exc.lineno or 1, 1), max((exc.offset or 1) - 1, 0), "E999",
                       f"{type(exc).__name__}: {exc.msg}")
    except (ValueError, LookupError) as exc:  # null bytes (older Pythons), text that cannot be encoded
        return Finding(1, 0, "E999", f"{type(exc).__name__}: {exc}")
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError...: Python cannot tell
        return None
    return None


def _not_parsed(source: Union[str, bytes], filename: str, message: str, on_parse_error: str) -> Analysis:
    if on_parse_error == "ignore":
        return Analysis()
    if on_parse_error == "syntax":
        error = python_syntax_error(source, filename)
        if error is not None:
            return Analysis([error])
    return Analysis([Finding(1, 0, INTERNAL, f"internal error in parser: {message}; file not checked")])


def _libcst_version() -> str:
    try:
        from importlib.metadata import version

        return f"LibCST {version('libcst')}"
    except Exception:  # noqa: BLE001
        return "LibCST"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic GC paused for the block (and left as it was found afterwards).

    A LibCST tree is ~100k objects per 5,000 lines, none of them in reference
    cycles that need collecting now; the cyclic GC would walk them again and
    again while they are built (about a fifth of the parse time). Front ends
    keep it paused until they have released the model (:meth:`Model.release`),
    so that reference counting frees the tree before the collector sees it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyze(source: Union[str, bytes], filename: str, config: Config, active: list[Rule],
             on_parse_error: str, debug: bool, tree: Optional[ast.Module] = None,
             elsewhere: Elsewhere = NOWHERE) -> Analysis:
    with gc_paused():
        try:
            return within(config.file_timeout, _parse_and_analyze, source, filename, config, active, on_parse_error,
                          debug, tree, elsewhere)
        except FileTimeout:  # in the parser's wrapper, the model or positions: nothing is kept
            stand_down()  # when the deadline is an outer one (the command's), still armed
            _restore_validation()
            return Analysis([_timeout_finding(config)])


def _timeout_finding(config: Config) -> Finding:
    # the budget is config.file_timeout whichever front end armed it (both pass that value)
    return Finding(1, 0, INTERNAL, timeout_message(config.file_timeout))


def timed_out(findings: Iterable[Finding]) -> bool:
    """Did this analysis stop at its file-timeout (see :mod:`.deadline`)?"""
    return any(f.code == INTERNAL and f.message.startswith(TIMEOUT_PREFIX) for f in findings)


def _parse_and_analyze(source: Union[str, bytes], filename: str, config: Config, active: list[Rule],
                       on_parse_error: str, debug: bool, tree: Optional[ast.Module], elsewhere: Elsewhere) -> Analysis:
    try:
        too_complex = guard.check(source)  # LibCST would take minutes: say so instead
    except Exception:  # noqa: BLE001 - a bug of the guard must not stop the check
        too_complex = None
    if too_complex is not None:
        error = python_syntax_error(source, filename) if on_parse_error == "syntax" else None
        return Analysis([error or Finding(too_complex.line, 0, INTERNAL, too_complex.message())])
    try:
        module = parse_module(source)
    except cst.ParserSyntaxError as exc:
        return _not_parsed(source, filename, f"{_libcst_version()} could not parse the file ({exc.message})",
                           on_parse_error)
    except (RecursionError, MemoryError) as exc:
        return Analysis([_internal(filename, "parser", exc, debug)])
    except Exception as exc:  # noqa: BLE001 - never abort the host linter
        return _not_parsed(source, filename, _reason(exc, debug), on_parse_error)
    text = source if isinstance(source, str) else module.code
    return analyze_module(module, text, filename, config, active, debug=debug, tree=tree, elsewhere=elsewhere)


def _unchecked(self: cst.CSTNode) -> None:
    """Stands in for ``CSTNode.__post_init__`` while the native parser builds a tree."""


def parse_module(source: Union[str, bytes]) -> cst.Module:
    """``libcst.parse_module``, without re-validating every node the parser builds.

    Each LibCST node checks its own invariants when it is created (a ``Name``
    is an identifier, whitespace is whitespace...), which is needed for nodes
    built by hand (the fixers) but not for the ~15 nodes per line the native
    parser builds from source it has just accepted (LibCST marks this check as
    a known cost of parsing). Skipping it saves a sixth of the parse, with
    identical trees (``tests/test_perf_paths.py`` compares them). The check
    is a class attribute, so it is off only for the duration of the call;
    nothing else in the process builds nodes meanwhile (flake8 checks files
    one at a time per process, and the command's workers are processes).
    """
    base = cst.CSTNode
    hook = base.__dict__.get("__post_init__")
    if hook is None:  # another LibCST layout: parse as it is
        return cst.parse_module(source)
    _VALIDATION.append(hook)
    base.__post_init__ = _unchecked  # type: ignore[method-assign]  # deliberate monkeypatch of LibCST's hook
    try:
        return cst.parse_module(source)
    finally:
        _restore_validation()


_VALIDATION: list[Callable[..., None]] = []  # the hook parse_module took out, until it is put back


def _restore_validation() -> None:
    """Put LibCST's node validation back (also after a deadline hit parse_module's ``finally``)."""
    if _VALIDATION:
        cst.CSTNode.__post_init__ = _VALIDATION[0]  # type: ignore[method-assign]  # puts LibCST's hook back
        _VALIDATION.clear()


def run_rules(module: cst.Module, source: str, filename: str, config: Config, rules: Iterable[Rule],
              *, debug: bool = False) -> list[Finding]:
    return analyze_module(module, source, filename, config, rules, debug=debug).findings


def analyze_module(module: cst.Module, source: str, filename: str, config: Config, rules: Iterable[Rule],
                   *, debug: bool = False, tree: Optional[ast.Module] = None,
                   elsewhere: Elsewhere = NOWHERE) -> Analysis:
    """The pipeline on a parsed module: Model, Framework, the rules, positions."""
    try:
        model = Model(module, source, filename, config)
        if tree is not None:
            model.use_python_tree(tree)  # flake8's: positions need not parse again
        model.file_class = classify(model, config)
    except Exception as exc:  # noqa: BLE001
        return Analysis([_internal(filename, "model", exc, debug)], module)
    rules = [rule for rule in rules if model.file_class in rule.applies_to]  # tests, docs: see classify.py
    if not rules:
        return Analysis([], module, model)
    try:
        framework = Framework(model, elsewhere)
    except FileTimeout:
        stand_down()
        return Analysis([_timeout_finding(config)], module, model)
    except Exception as exc:  # noqa: BLE001
        return Analysis([_internal(filename, "framework", exc, debug)], module, model)
    reports: list[Report] = []
    errors: list[Finding] = []
    done = 0  # reports of the rules that finished
    try:
        for rule in rules:
            deadline_check()  # between rules too: where the watchdog cannot interrupt (see .deadline)
            try:
                for report in rule.check(model, framework):
                    if not report.code:
                        report.code = rule.code
                    reports.append(report)
            except Exception as exc:  # noqa: BLE001 - one rule's bug must not hide the others
                errors.append(_internal(filename, f"{rule.code} ({rule.name})", exc, debug))
            done = len(reports)
    except FileTimeout:
        # the rules that finished keep their findings; the one that ran out and the rest are not run
        stand_down()  # positions of what was found run to their end
        del reports[done:]
        errors.append(_timeout_finding(config))
    if not reports:
        return Analysis(errors + _noqa_findings(source, [], rules, errors), module, model, framework=framework)
    try:
        where = model_positions(model, [r.node for r in reports])
    except Exception as exc:  # noqa: BLE001
        return Analysis(errors + [_internal(filename, "positions", exc, debug)], module, model, framework=framework)
    paired = [(r, Finding(*where.get(id(r.node), (1, 0)), r.code, r.message, r.fix)) for r in reports]
    errors += _noqa_findings(source, [f for _, f in paired], rules, errors)
    kept = peer_suppressed([f for _, f in paired], source)  # `# noqa: RUF006` covers STL108...
    if len(kept) != len(paired):
        keep = {id(f) for f in kept}
        paired = [(r, f) for r, f in paired if id(f) in keep]
    findings = {f for _, f in paired}
    return Analysis(sorted(findings, key=lambda f: (f.line, f.col, f.code)) + errors, module, model, paired,
                    framework)


def _noqa_findings(source: str, findings: list[Finding], rules: list[Rule], errors: list[Finding]) -> list[Finding]:
    """STL901 (opt-in), when it is among the rules: the ``# noqa: STL...`` codes that are unknown or
    suppress nothing, judged on every rule's findings before any ``# noqa`` applies."""
    from .rules.suppression import CODE, unused_noqa

    if not any(rule.code == CODE for rule in rules):
        return []
    try:
        return unused_noqa(source, findings, frozenset(rule.code for rule in rules), complete=not errors)
    except Exception:  # noqa: BLE001 - a bug here must not cost the file its other findings
        return []


def _reason(exc: BaseException, debug: bool) -> str:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if debug:
        reason += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return reason


def _internal(filename: str, where: str, exc: BaseException, debug: bool) -> Finding:
    """``STL000 internal error in <where>: <reason>``; the traceback only with ``debug``."""
    if isinstance(exc, RecursionError):
        _too_deep.hit = True
    return Finding(1, 0, INTERNAL, f"internal error in {where}: {_reason(exc, debug)}")
