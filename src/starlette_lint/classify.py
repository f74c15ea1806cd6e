"""What kind of code a file is: application code, tests, or docs and examples.

Rules about production behaviour (missing exception handlers, CORS and session
settings, request handling) fire on tests and tutorials that do the thing on
purpose: a framework's regression test reads the body after ``stream()``, a
tutorial app has no error handlers. Each rule declares the classes it applies
to (:attr:`.rules.base.Rule.applies_to`); breakage and migration rules apply
everywhere, because tests break on upgrade too.

A file is

* ``test`` when a directory of its path is one of :data:`TEST_PATHS`, its name
  matches ``test_*.py``, ``*_test.py`` or ``conftest.py``, or the module
  defines pytest fixtures;
* ``docs`` when a directory of its path is one of :data:`DOCS_PATHS`
  (documentation, documentation apps, examples, smoke tests, scripts);
* ``app`` otherwise.

Paths are taken relative to the directory of the configuration
(``[tool.starlette-lint]``), else to the working directory, so that a project
living under a folder named ``tests`` is not all tests. ``test-paths`` and
``docs-paths`` in the configuration replace the defaults: a pattern ending in
``/`` names a directory anywhere in the path, any other is a glob matched
against the relative path and the file name (``[]`` turns the class off).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal, Optional

if TYPE_CHECKING:
    from .config import Config
    from .model import Function, Model

FileClass = Literal["app", "test", "docs"]
FILE_CLASSES: tuple[FileClass, ...] = ("app", "test", "docs")
EVERYWHERE: frozenset[FileClass] = frozenset(FILE_CLASSES)
APP_ONLY: frozenset[FileClass] = frozenset({"app"})

TEST_PATHS = ("tests/", "test/", "testing/", "test_*.py", "*_test.py", "conftest.py")
DOCS_PATHS = ("docs/", "doc/", "docs_src/", "examples/", "example/", "_smoke_tests/", "scripts/")

_FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})


def relative_path(filename: str, root: Optional[str]) -> PurePath:
    """``filename`` relative to ``root`` (else to the working directory) when it lies below it."""
    path = PurePath(filename)
    for base in (root, os.getcwd() if path.is_absolute() else None):
        if not base:
            continue
        try:
            return PurePath(os.path.abspath(filename)).relative_to(os.path.abspath(base))
        except ValueError:
            continue
    return path


def matches(rel: PurePath, patterns: tuple[str, ...]) -> bool:
    directories = rel.parts[:-1]
    text = rel.as_posix()
    for pattern in patterns:
        if pattern.endswith("/"):
            name = pattern.rstrip("/")
            if "/" in name:
                if text.startswith(name + "/") or f"/{name}/" in f"/{text}":
                    return True
            elif any(fnmatch.fnmatchcase(d, name) for d in directories):
                return True
        elif fnmatch.fnmatchcase(text, pattern) or fnmatch.fnmatchcase(rel.name, pattern):
            return True
    return False


def classify_path(filename: str, config: "Config") -> Optional[FileClass]:
    """The class a file's path gives it (None: application code unless its content says tests)."""
    rel = relative_path(filename, config.root)
    if matches(rel, config.test_paths):
        return "test"
    if matches(rel, config.docs_paths):
        return "docs"
    return None


def classify(model: "Model", config: "Config") -> FileClass:
    by_path = classify_path(model.filename, config)
    if by_path is not None:
        return by_path
    if config.test_paths and _defines_pytest_fixtures(model):
        return "test"
    return "app"


def _defines_pytest_fixtures(model: "Model") -> bool:
    return model.imports_any("pytest", "pytest_asyncio") and any(is_pytest_fixture(model, fn) for fn in model.functions)


def is_pytest_fixture(model: "Model", fn: "Function") -> bool:
    """``@pytest.fixture`` / ``@pytest.fixture(...)`` (or pytest-asyncio's), through imports."""
    for dec in fn.decorators:
        q = model.qualname(dec.decorator, fn.outer)  # a call's name ends in "()"
        if q is not None and q.removesuffix("()") in _FIXTURE_DECORATORS:
            return True
    return False


def describe(classes: frozenset[FileClass]) -> str:
    """``applies_to`` in words, for the rule documentation."""
    names = {"app": "application code", "test": "tests", "docs": "docs and examples"}
    return ", ".join(names[c] for c in FILE_CLASSES if c in classes)
