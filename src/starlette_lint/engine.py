"""One rule engine for both front ends (the flake8 plugin and the CLI).

``check_source`` skips files that cannot matter before parsing, parses once
with LibCST, builds one :class:`Model`, runs every enabled rule against it
(each isolated: a failing rule yields one STL000 finding and the others still
report), then computes positions for the reported nodes only.
"""

from __future__ import annotations

import traceback
from typing import Iterable, Optional, Sequence, Union

import libcst as cst

from .config import DEFAULT, Config
from .finding import Finding, Report
from .model import Model
from .positions import positions
from .rules import all_rules
from .rules.base import Rule

INTERNAL = "STL000"


def is_relevant(source: Union[str, bytes], config: Config = DEFAULT) -> bool:
    """Cheap text test: could this file hold anything a rule looks at?"""
    if isinstance(source, bytes):
        return any(tok.encode() in source for tok in config.prefilter_tokens)
    return any(tok in source for tok in config.prefilter_tokens)


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
    config = config or DEFAULT
    if not is_relevant(source, config):
        return []
    active = list(rules) if rules is not None else select_rules(config)
    if not active:
        return []
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        if on_parse_error == "ignore":
            return []
        if on_parse_error == "syntax":
            return [Finding(max(exc.raw_line, 1), max(exc.raw_column, 0), "E999", f"SyntaxError: {exc.message}")]
        return [Finding(1, 0, INTERNAL, f"internal error: LibCST could not parse {filename} ({exc.message}); file not checked")]
    except (RecursionError, MemoryError) as exc:
        return [_internal(filename, "parser", exc, debug)]
    except Exception as exc:  # noqa: BLE001 - never abort the host linter
        if on_parse_error == "ignore":
            return []
        return [_internal(filename, "parser", exc, debug)]
    text = source if isinstance(source, str) else module.code
    return run_rules(module, text, filename, config, active, debug=debug)


def run_rules(module: cst.Module, source: str, filename: str, config: Config, rules: Iterable[Rule],
              *, debug: bool = False) -> list[Finding]:
    try:
        model = Model(module, source, filename, config)
    except Exception as exc:  # noqa: BLE001
        return [_internal(filename, "model", exc, debug)]
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
        return errors
    try:
        where = positions(module, [r.node for r in reports])
    except Exception as exc:  # noqa: BLE001
        return errors + [_internal(filename, "positions", exc, debug)]
    findings = {
        Finding(*where.get(id(r.node), (1, 0)), r.code, r.message, r.fix) for r in reports
    }
    return sorted(findings, key=lambda f: (f.line, f.col, f.code)) + errors


def _internal(filename: str, where: str, exc: BaseException, debug: bool) -> Finding:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if debug:
        reason += "\n" + "".join(traceback.format_exception(exc))
    return Finding(1, 0, INTERNAL, f"internal error in {where} while checking {filename}: {reason}")
