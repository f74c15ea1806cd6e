# Generated from the rule registry by `python -m starlette_lint.docs --codes`: do not edit by hand.
"""Every rule code, and the opt-in ones, for the cheap paths.

``starlette-lint check --select STL1`` validates its codes before it knows whether any file
needs analysing, and flake8 imports the plugin, which needs the opt-in codes, on every run;
importing the rule registry for either would load LibCST and every rule (a third of a
second) even when no file needs them. ``tests/test_docs.py`` fails when this file is not
what the registry generates.
"""

from __future__ import annotations

RULE_CODES = frozenset({
    "STL101", "STL102", "STL103", "STL104", "STL105", "STL106", "STL107", "STL108", "STL109", "STL110",
    "STL111",
    "STL201", "STL202", "STL203", "STL204", "STL205", "STL206", "STL207",
    "STL301", "STL302", "STL303", "STL304", "STL306",
    "STL401", "STL402", "STL403", "STL404", "STL405", "STL406",
    "STL501", "STL502", "STL503", "STL504", "STL505", "STL506", "STL507", "STL508",
    "STL601", "STL602", "STL603", "STL604", "STL605", "STL606", "STL607", "STL608", "STL609", "STL610",
    "STL611", "STL612",
    "STL701", "STL702", "STL703",
    "STL801", "STL802", "STL803",
    "STL901",
})

# off by default: on only when selected by their exact code (flake8 and the command alike)
OPT_IN_CODES = frozenset({
    "STL110", "STL111", "STL306", "STL406", "STL501", "STL611", "STL612", "STL703", "STL901",
})
