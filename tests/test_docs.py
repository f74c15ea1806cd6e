"""Rule docs: one source for the README table and per-rule pages."""

from pathlib import Path

from starlette_lint.docs import CODES, REGENERATE_CODES, codes_module, readme_section, rule_doc, rules_page
from starlette_lint.rules import all_rules

README = Path(__file__).parent.parent / "README.md"
RULES_PAGE = Path(__file__).parent.parent / "docs" / "rules.md"
HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead")


def test_readme_table_is_current():
    assert readme_section() in README.read_text(encoding="utf-8"), (
        "README rule table is stale: run `python -m starlette_lint.docs README.md`"
    )


def test_every_rule_is_documented():
    for rule in all_rules():
        assert rule.name and rule.summary, rule.code
        doc = rule.doc
        for heading in HEADINGS:
            assert heading in doc, f"{rule.code} doc lacks '{heading}'"
        if rule.fixable:
            assert "Fix" in doc, rule.code
        assert rule_doc(rule.code).startswith(f"# {rule.code}")


def test_rules_page_is_current():
    assert RULES_PAGE.read_text(encoding="utf-8") == rules_page(), (
        "docs/rules.md is stale: run `python -m starlette_lint.docs README.md`"
    )
    for rule in all_rules():
        assert f'<a id="{rule.code.lower()}"></a>' in rules_page()


def test_codes_module_is_current():
    """codes.py (the code lists the command's --select check and the flake8 adapter read without
    importing the rules) is generated from the registry."""
    assert CODES.read_text(encoding="utf-8") == codes_module(), (
        f"src/starlette_lint/codes.py is stale: run `{REGENERATE_CODES}`"
    )
    assert CODES.read_text(encoding="utf-8").startswith(f"# Generated from the rule registry by `{REGENERATE_CODES}`")


def test_plugin_opt_in_set_matches_rules():
    """The flake8 adapter knows opt-in codes without importing the rules (cheap import): codes.py's."""
    from starlette_lint.codes import OPT_IN_CODES
    from starlette_lint.plugin import OPT_IN

    assert OPT_IN is OPT_IN_CODES
    assert OPT_IN_CODES == {r.code for r in all_rules() if r.opt_in}


def test_plugin_import_does_not_import_libcst():
    """flake8 imports every plugin on every run: ours must not pull in LibCST until a file needs it."""
    from helpers import run_python

    proc = run_python("-c", "import sys, starlette_lint.plugin; print('libcst' in sys.modules)", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
