"""Output formats of ``starlette-lint check``: text, json, sarif, github.

* ``text``: ``path:line:col: CODE message``, flake8's layout (1-based column),
  so editors and problem matchers that read flake8 read this too.
* ``json``: a list of ``{"path", "line", "column", "code", "message",
  "fixable", "url"}`` objects (1-based column).
* ``sarif``: SARIF 2.1.0 as GitHub code scanning takes it: one run, the tool
  with every rule (id, name, short and full description, help text and a
  help URI into the README, default level), results with a rule index, a
  message and a region (start line and column, Unicode code points),
  artifact URIs relative to ``%SRCROOT%`` (the working directory).
* ``github``: GitHub Actions workflow commands,
  ``::error file=...,line=...,col=...,title=...::message``, which annotate
  the pull request diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import quote

from . import __version__

# The rule registry (and with it LibCST) is imported only by the formats that
# describe rules (json, sarif): a text report of cached results never loads it.

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DEFAULT_HOME = "https://github.com/starlette-lint/starlette-lint"

# Codes the front end reports itself (not rules of the registry).
PSEUDO_RULES = {
    "E999": ("syntax-error", "The file does not parse as Python", "The file could not be parsed, so it was not checked."),
    "E902": ("io-error", "The file could not be read", "The file could not be read (permissions, a broken link...)."),
    "STL000": ("internal-error", "starlette-lint failed on this file, or ran past its time budget",
               "An internal error stopped one rule (or the whole check) on this file, or its analysis ran past "
               "the file-timeout (10 s by default) and was stopped, keeping the findings of the rules that "
               "finished; please report the file."),
}


@dataclass(frozen=True)
class Item:
    path: str
    line: int
    col: int  # 0-based
    code: str
    message: str
    fixable: bool = False


def home_url() -> str:
    """The project's home page (package metadata ``Project-URL``), where the README is shown."""
    try:
        from importlib.metadata import metadata

        urls = metadata("starlette-lint").get_all("Project-URL") or []
    except Exception:  # noqa: BLE001 - not installed as a distribution
        urls = []
    found: dict[str, str] = {}
    for entry in urls:
        label, _, url = entry.partition(",")
        found[label.strip().lower()] = url.strip()
    for label in ("documentation", "homepage", "repository", "source"):
        if found.get(label):
            return found[label].rstrip("/")
    return DEFAULT_HOME


def rule_url(code: str) -> str:
    """The rule's section in ``docs/rules.md`` (generated from the same source as ``starlette-lint rule``)."""
    return f"{home_url()}/blob/HEAD/docs/rules.md#{code.lower()}"


# ------------------------------------------------------------------ text
def format_text(items: Iterable[Item]) -> str:
    """flake8's line per finding; ``[*]`` before the message of one ``--fix`` fixes (as ruff marks them)."""
    return "".join(f"{i.path}:{i.line}:{i.col + 1}: {i.code} {'[*] ' if i.fixable else ''}{i.message}\n"
                   for i in items)


# ------------------------------------------------------------------ json
def format_json(items: Iterable[Item]) -> str:
    from .rules import get_rule

    out = [
        {"path": i.path, "line": i.line, "column": i.col + 1, "code": i.code, "message": i.message,
         "fixable": i.fixable, "url": rule_url(i.code) if get_rule(i.code) is not None else None}
        for i in items
    ]
    return json.dumps(out, indent=2) + "\n"


# ------------------------------------------------------------------ github
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(items: Iterable[Item]) -> str:
    from .rules import get_rule

    lines = []
    for i in items:
        rule = get_rule(i.code)
        level = "warning" if rule is not None and rule.level == "warning" else "error"
        title = _escape_property(f"starlette-lint {i.code}")
        props = f"file={_escape_property(i.path)},line={i.line},col={i.col + 1},title={title}"
        lines.append(f"::{level} {props}::{_escape_data(f'{i.code} {i.message}')}\n")
    return "".join(lines)


# ------------------------------------------------------------------ sarif
def _first_paragraph(doc: str, heading: str) -> Optional[str]:
    m = re.search(rf"^## {re.escape(heading)}\s*\n(.*?)(?=^## |\Z)", doc, flags=re.S | re.M)
    if not m:
        return None
    para = m.group(1).strip().split("\n\n")[0]
    return " ".join(para.split())


def _plain(text: str) -> str:
    return text.replace("`", "")


def sarif_rules() -> list[dict[str, Any]]:
    from .rules import all_rules

    rules = []
    for rule in all_rules():
        doc = rule.doc
        full = _first_paragraph(doc, "What it does") or rule.summary
        why = _first_paragraph(doc, "Why is this bad?")
        descriptor: dict[str, Any] = {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": _plain(rule.summary)},
            "fullDescription": {"text": _plain(full + (" " + why if why else ""))},
            "help": {"text": doc, "markdown": doc},
            "helpUri": rule_url(rule.code),
            "defaultConfiguration": {"level": rule.level, "enabled": not rule.opt_in},
            "properties": {"tags": ["starlette", "fastapi", _family(rule.code)], "precision": "high"},
        }
        if rule.security_severity is not None:
            if "security" not in descriptor["properties"]["tags"]:  # the family's tag already, for STL5xx
                descriptor["properties"]["tags"].append("security")
            descriptor["properties"]["security-severity"] = rule.security_severity
        rules.append(descriptor)
    for code, (name, short, full) in PSEUDO_RULES.items():
        rules.append({
            "id": code,
            "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "helpUri": home_url(),
            "defaultConfiguration": {"level": "error"},
        })
    return rules


_FAMILIES = {"1": "event-loop", "2": "lifespan", "3": "middleware", "4": "exceptions", "5": "security",
             "6": "requests", "7": "deployment", "8": "migration", "9": "suppression"}


def _family(code: str) -> str:
    return _FAMILIES.get(code[3:4], "other")


def _artifact(path: str, root: Path) -> dict[str, str]:
    p = Path(path)
    if p.is_absolute():
        try:
            rel = p.relative_to(root)
        except ValueError:
            return {"uri": p.as_uri()}
        return {"uri": quote(rel.as_posix()), "uriBaseId": "%SRCROOT%"}
    return {"uri": quote(p.as_posix()), "uriBaseId": "%SRCROOT%"}


def format_sarif(items: Iterable[Item], root: Path) -> str:
    rules = sarif_rules()
    index = {r["id"]: n for n, r in enumerate(rules)}
    results = []
    for i in items:
        level = rules[index[i.code]]["defaultConfiguration"]["level"] if i.code in index else "error"
        result: dict[str, Any] = {
            "ruleId": i.code,
            "level": level,
            "message": {"text": f"{i.code} {i.message}"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(i.path, root),
                    "region": {"startLine": max(i.line, 1), "startColumn": i.col + 1},
                },
            }],
        }
        if i.code in index:
            result["ruleIndex"] = index[i.code]
        if i.fixable:
            result["properties"] = {"fixable": True}
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "starlette-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": home_url(),
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def render(fmt: str, items: list[Item], root: Path) -> str:
    if fmt == "json":
        return format_json(items)
    if fmt == "sarif":
        return format_sarif(items, root)
    if fmt == "github":
        return format_github(items)
    return format_text(items)
