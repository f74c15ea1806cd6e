"""One rule engine for both front ends (the flake8 plugin and the CLI).

``check_source`` skips files that cannot matter before parsing, parses once
with LibCST, builds one :class:`Model`, runs every enabled rule against it
(each isolated: a failing rule yields one STL000 finding and the others still
report), then computes positions for the reported nodes only.
"""

from __future__ import annotations

import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence, TypeVar, Union

import libcst as cst

from .config import DEFAULT, Config
from .finding import Finding, Report
from .model import Model
from .positions import positions
from .prefilter import is_relevant
from .rules import all_rules
from .rules.base import Rule

INTERNAL = "STL000"

# LibCST's native parser recurses on the C stack: a valid 8,000-term ``a and a
# and ...`` overflows the default 8 MiB main-thread stack and kills the whole
# process with SIGSEGV, which no ``except`` can catch. Files big enough to be
# that deep are analysed on a thread with a large stack (reserved, not used,
# until needed) and a raised recursion limit (LibCST's code generation, used
# for positions, is recursive Python).
_BIG_STACK = 512 * 1024 * 1024
_BIG_STACK_ABOVE = 2048  # characters; smaller sources cannot nest deep enough to matter
_RECURSION_LIMIT = 60_000
T = TypeVar("T")


def call_with_big_stack(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` on a fresh thread with a large C stack; re-raise what it raises."""
    box: list[Any] = []

    def target() -> None:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        try:
            box.append((True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box.append((False, exc))
        finally:
            sys.setrecursionlimit(old_limit)

    try:
        old = threading.stack_size()
        threading.stack_size(_BIG_STACK)  # applies to threads *started* from now on
        try:
            thread = threading.Thread(target=target, name="starlette-lint", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    except (ValueError, RuntimeError, MemoryError):  # platform without settable stacks
        return fn(*args, **kwargs)
    thread.join()
    ok, value = box[0]
    if ok:
        return value
    raise value


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
) -> list[Finding]:
    """Findings for one module, sorted by position and de-duplicated.

    ``on_parse_error``: ``"ignore"`` (nothing), ``"internal"`` (one STL000
    finding: LibCST could not parse what Python can), or ``"syntax"`` (an
    ``E999`` finding, for front ends that have no other syntax check).
    """
    return analyze_source(source, filename, config, rules=rules, on_parse_error=on_parse_error, debug=debug).findings


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


def analyze_source(
    source: Union[str, bytes],
    filename: str = "<unknown>",
    config: Optional[Config] = None,
    *,
    rules: Optional[Sequence[Rule]] = None,
    on_parse_error: str = "internal",
    debug: bool = False,
) -> Analysis:
    """:func:`check_source`, keeping the parsed module, the model and the reports' nodes."""
    config = config or DEFAULT
    if not is_relevant(source, config):
        return Analysis()
    active = list(rules) if rules is not None else select_rules(config)
    if not active:
        return Analysis()
    if len(source) > _BIG_STACK_ABOVE:
        return call_with_big_stack(_analyze, source, filename, config, active, on_parse_error, debug)
    return _analyze(source, filename, config, active, on_parse_error, debug)


def _analyze(source: Union[str, bytes], filename: str, config: Config, active: list[Rule],
             on_parse_error: str, debug: bool) -> Analysis:
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        if on_parse_error == "ignore":
            return Analysis()
        if on_parse_error == "syntax":
            return Analysis([Finding(max(exc.raw_line, 1), max(exc.raw_column, 0), "E999", f"SyntaxError: {exc.message}")])
        return Analysis([Finding(1, 0, INTERNAL,
                                 f"internal error: LibCST could not parse {filename} ({exc.message}); file not checked")])
    except (RecursionError, MemoryError) as exc:
        return Analysis([_internal(filename, "parser", exc, debug)])
    except Exception as exc:  # noqa: BLE001 - never abort the host linter
        if on_parse_error == "ignore":
            return Analysis()
        return Analysis([_internal(filename, "parser", exc, debug)])
    text = source if isinstance(source, str) else module.code
    return analyze_module(module, text, filename, config, active, debug=debug)


def run_rules(module: cst.Module, source: str, filename: str, config: Config, rules: Iterable[Rule],
              *, debug: bool = False) -> list[Finding]:
    return analyze_module(module, source, filename, config, rules, debug=debug).findings


def analyze_module(module: cst.Module, source: str, filename: str, config: Config, rules: Iterable[Rule],
                   *, debug: bool = False) -> Analysis:
    try:
        model = Model(module, source, filename, config)
    except Exception as exc:  # noqa: BLE001
        return Analysis([_internal(filename, "model", exc, debug)], module)
    reports: list[Report] = []
    errors: list[Finding] = []
    for rule in rules:
        try:
            for report in rule.check(model):
                if not report.code:
                    report.code = rule.code
                reports.append(report)
        except Exception as exc:  # noqa: BLE001 - one rule's bug must not hide the others
            errors.append(_internal(filename, f"{rule.code} ({rule.name})", exc, debug))
    if not reports:
        return Analysis(errors, module, model)
    try:
        where = positions(module, [r.node for r in reports])
    except Exception as exc:  # noqa: BLE001
        return Analysis(errors + [_internal(filename, "positions", exc, debug)], module, model)
    paired = [(r, Finding(*where.get(id(r.node), (1, 0)), r.code, r.message, r.fix)) for r in reports]
    findings = {f for _, f in paired}
    return Analysis(sorted(findings, key=lambda f: (f.line, f.col, f.code)) + errors, module, model, paired)


def _internal(filename: str, where: str, exc: BaseException, debug: bool) -> Finding:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if debug:
        reason += "\n" + "".join(traceback.format_exception(exc))
    return Finding(1, 0, INTERNAL, f"internal error in {where} while checking {filename}: {reason}")
