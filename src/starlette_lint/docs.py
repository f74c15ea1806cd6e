"""Generated from the rule registry: the README table, ``docs/rules.md`` (``starlette-lint rule
CODE`` prints the same text) and ``codes.py`` (the code lists the cheap paths use).

``python -m starlette_lint.docs [README.md]`` rewrites all three; ``--codes`` rewrites codes.py only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .classify import EVERYWHERE, describe
from .rules import all_rules, get_rule

START = "<!-- rules:start -->"
END = "<!-- rules:end -->"


def rule_table() -> str:
    rows = ["| code | name | what it reports | default | fix |", "|---|---|---|---|---|"]
    for rule in all_rules():
        default = "opt-in" if rule.opt_in else "on"
        fix = "yes" if rule.fixable else ""
        rows.append(f"| [{rule.code}](docs/rules.md#{rule.code.lower()}) | {rule.name} | {rule.summary} | {default} | {fix} |")
    return "\n".join(rows)


def rule_doc(code: str) -> str | None:
    rule = get_rule(code)
    if rule is None:
        return None
    head = f"# {rule.code} ({rule.name})\n\n{rule.summary}\n"
    flags = [f"opt-in: enable with `--extend-select {rule.code}` (flake8 or the command) or `extend-select`"
             if rule.opt_in else "on by default"]
    if rule.fixable:
        flags.append("fixable with `starlette-lint check --fix`")
    where = describe(rule.applies_to)
    if rule.applies_to != EVERYWHERE:
        where += " (not on tests, docs and examples)"
    flags.append("runs on " + where)
    return f"{head}\n_{'; '.join(flags)}._\n\n{rule.doc}\n"


def rules_page() -> str:
    """``docs/rules.md``: every rule's documentation, one anchored section each."""
    parts = [
        "# starlette-lint rules\n",
        "Generated from the rule classes by `python -m starlette_lint.docs`; "
        "`starlette-lint rule CODE` prints the same text.\n",
    ]
    for rule in all_rules():
        body = rule_doc(rule.code) or ""
        title, _, rest = body.partition("\n")
        rest = re.sub(r"^## ", "### ", rest, flags=re.M)
        parts.append(f'<a id="{rule.code.lower()}"></a>\n\n#{title}\n{rest.rstrip()}\n')
    return "\n".join(parts)


def readme_section() -> str:
    return f"{START}\n{rule_table()}\n{END}"


def update_readme(path: Path) -> bool:
    """Rewrite the table between the markers; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: readme_section(), text, flags=re.S)
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def update_rules_page(path: Path) -> bool:
    text = rules_page()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


CODES = Path(__file__).with_name("codes.py")
REGENERATE_CODES = "python -m starlette_lint.docs --codes"


def _code_lines(codes: list[str], by_family: bool = True, per_line: int = 10) -> list[str]:
    """The codes sorted, at most ``per_line`` a line; ``by_family``: a line per family (hundreds digit)."""
    families: dict[str, list[str]] = {}
    for code in sorted(codes):
        families.setdefault(code[:4] if by_family else "", []).append(code)
    lines = []
    for family in families.values():
        for i in range(0, len(family), per_line):
            lines.append("    " + " ".join(f'"{c}",' for c in family[i:i + per_line]))
    return lines


def codes_module() -> str:
    """The text of ``codes.py``: every rule code and the opt-in ones, from the registry."""
    rules = all_rules()
    opt_in = sorted(r.code for r in rules if r.opt_in)
    return "\n".join([
        f"# Generated from the rule registry by `{REGENERATE_CODES}`: do not edit by hand.",
        '"""Every rule code, and the opt-in ones, for the cheap paths.',
        "",
        "``starlette-lint check --select STL1`` validates its codes before it knows whether any file",
        "needs analysing, and flake8 imports the plugin, which needs the opt-in codes, on every run;",
        "importing the rule registry for either would load LibCST and every rule (a third of a",
        "second) even when no file needs them. ``tests/test_docs.py`` fails when this file is not",
        "what the registry generates.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "RULE_CODES = frozenset({",
        *_code_lines([r.code for r in rules]),
        "})",
        "",
        "# off by default: on only when selected by their exact code (flake8 and the command alike)",
        "OPT_IN_CODES = frozenset({",
        *_code_lines(opt_in, by_family=False),
        "})",
        "",
    ])


def update_codes(path: Path = CODES) -> bool:
    """Rewrite codes.py from the registry; True when the file changed."""
    text = codes_module()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    """``python -m starlette_lint.docs [README.md]``: the README table, docs/rules.md and codes.py;
    ``--codes``: codes.py only."""
    if argv[:1] != ["--codes"]:
        target = Path(argv[0] if argv else "README.md")
        print("updated" if update_readme(target) else "up to date", target)
        page = target.parent / "docs" / "rules.md"
        print("updated" if update_rules_page(page) else "up to date", page)
    print("updated" if update_codes() else "up to date", CODES)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
