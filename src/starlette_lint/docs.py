"""Rule documentation: the README table and ``starlette-lint rule CODE`` share this source."""

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
    flags = ["opt-in: enable with `--enable-extensions " + rule.code + "` (flake8) or `extend-select`" if rule.opt_in else "on by default"]
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


if __name__ == "__main__":  # python -m starlette_lint.docs [README.md]
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("updated" if update_readme(target) else "up to date", target)
    page = target.parent / "docs" / "rules.md"
    print("updated" if update_rules_page(page) else "up to date", page)
