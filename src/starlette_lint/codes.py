"""Every rule code, for the command line's cheap paths.

``starlette-lint check --select STL1`` validates its codes before it knows
whether any file needs analysing; importing the rule registry for that would
load LibCST and every rule (a third of a second) even when every file then
comes from the cache. ``tests/test_perf_paths.py`` keeps this list equal to the
registry; a code missing here is still accepted (the registry is consulted),
it only costs that import.
"""

from __future__ import annotations

RULE_CODES = frozenset({
    "STL101", "STL102", "STL103", "STL104", "STL105", "STL106", "STL107", "STL108", "STL109",
    "STL201", "STL202", "STL203", "STL204", "STL205", "STL206", "STL207",
    "STL301", "STL302", "STL303", "STL304", "STL306",
    "STL401", "STL402", "STL403", "STL404", "STL405", "STL406",
    "STL501", "STL502", "STL503", "STL504", "STL505", "STL506", "STL507",
    "STL601", "STL602", "STL603", "STL604", "STL605", "STL606", "STL607", "STL608", "STL609",
    "STL701", "STL702", "STL703",
    "STL801", "STL802", "STL803",
})
