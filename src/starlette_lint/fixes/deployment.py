"""STL701: ``uvicorn.run(app, reload=True)`` -> ``uvicorn.run("module:app", reload=True)``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import libcst as cst

from ..finding import Report
from ..model import argument
from . import FixContext, Plan, fixer

_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


def import_path(filename: str) -> Optional[str]:
    """The dotted module name uvicorn can import this file by, when it is certain.

    * a module with no ``__init__.py`` beside it: its own name (the directory
      it is run from is on ``sys.path``, for ``python main.py`` and uvicorn's
      re-import alike);
    * a module in a package: the dotted path from the top package, when the
      directory above the top package is a project root (has a
      ``pyproject.toml``/``setup.py``/``setup.cfg``) or a ``src`` directory
      of one -- where ``python -m pkg.main`` is run from or the package is
      installed.

    Anything else (``__main__.py``, names that are not identifiers, packages
    somewhere in a tree) is not certain: no fix.
    """
    try:
        path = Path(filename).resolve()
    except OSError:
        return None
    if path.suffix != ".py" or path.stem == "__main__":
        return None
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    in_package = (directory / "__init__.py").is_file()
    if not in_package:
        return parts[0] if parts and parts[0].isidentifier() else None
    while (directory / "__init__.py").is_file() and len(parts) < 30:
        parts.insert(0, directory.name)
        directory = directory.parent
    root = directory
    if not any((root / m).is_file() for m in _PROJECT_MARKERS):
        if not (root.name == "src" and any((root.parent / m).is_file() for m in _PROJECT_MARKERS)):
            return None
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


@fixer("STL701")
def app_import_string(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``uvicorn.run(app, reload=True)`` -> ``uvicorn.run("package.module:app", reload=True)``.

    Only for an app object built at module level of this file, and only when
    the module's import path is certain: a module that is not in a package
    (its own name), or a module of a package whose top directory sits in a
    project root (``pyproject.toml``/``setup.py``/``setup.cfg``) or in its
    ``src`` directory.
    """
    call = report.node
    if not isinstance(call, cst.Call):
        return None
    model = ctx.model
    site = model.call_of.get(id(call))
    if site is None:
        return None
    arg = argument(call, 0, "app")
    if arg is None or not isinstance(arg.value, cst.Name) or arg.star:
        return None
    app = ctx.framework.app_for(arg.value, site.scope)
    if app is None or app.scope is not model.scope or app.name != arg.value.value:
        return None
    module = import_path(ctx.filename)
    if module is None:
        return None
    spec = f"{module}:{app.name}"
    quote = "'" if _prefers_single_quotes(ctx.module.code) else '"'
    target = arg.value
    return Plan(f"uvicorn.run({spec!r})").edit(target, lambda _node: cst.SimpleString(f"{quote}{spec}{quote}"))


def _prefers_single_quotes(code: str) -> bool:
    return code.count("'") > 2 * code.count('"')
