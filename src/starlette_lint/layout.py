"""Where a file sits in its project: its package root, its module name, the project's modules.

Light on purpose (``os`` and ``pathlib`` only): the command's main process asks these questions
for the result cache of project mode without loading the analysis.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator, Optional, Union

# Folders never walked for a project's modules: hidden ones (``.git``, ``.venv``), virtualenvs
# (a ``pyvenv.cfg``), and these.
_SKIPPED = frozenset({"node_modules", "site-packages", "__pycache__"})
MAX_FILES = 20_000  # a larger tree gets no fingerprint (its files are not cached in project mode)
MAX_ENTRIES = 200_000  # folders and files of any kind a walk looks at, at most


def package_root(path: Union[str, Path]) -> Path:
    """The folder a file's top-level package sits in: the nearest folder up the tree that has no
    ``__init__.py`` (``src/`` in a src layout; the file's own folder for a script). A folder
    without ``__init__.py`` inside a package (``app/routers/`` under ``app/__init__.py``: a
    namespace package within it) is part of that package."""
    folder = Path(path).resolve().parent
    while folder.parent != folder and ((folder / "__init__.py").is_file()
                                       or (folder.parent / "__init__.py").is_file()):
        folder = folder.parent
    return folder


# a project root a package is installed or run from (``python -m pkg.main``): what STL701's
# fixer looks for (fixes/deployment.py keeps its own copy: fixes never import this module;
# tests/test_cli.py keeps the two equal), so the result cache's key reads them (cache.place)
PACKAGING_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
PROJECT_MARKERS = PACKAGING_MARKERS + ("requirements.txt", ".git")


def beside_src(root: Path) -> Optional[Path]:
    """The folder above a ``src`` package root when it is that project's own (it has a
    ``pyproject.toml``, ``setup.py``, ``setup.cfg``, ``requirements.txt`` or ``.git``): where an
    entry point beside a src layout lives. None otherwise (a ``/src`` or ``~/src`` folder whose
    parent is the machine or a home directory)."""
    if root.name != "src" or root.parent == root:
        return None
    above = root.parent
    return above if any(os.path.exists(os.path.join(above, m)) for m in PROJECT_MARKERS) else None


def module_name(path: Union[str, Path], root: Union[str, Path]) -> Optional[str]:
    """``root/app/api.py`` -> ``app.api`` (``app/__init__.py`` -> ``app``); None outside ``root``."""
    try:
        parts = list(Path(path).resolve().relative_to(Path(root).resolve()).with_suffix("").parts)
    except ValueError:
        return None
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


class TreeTooLarge(Exception):
    """A walk met more than :data:`MAX_ENTRIES` folders and files."""


def walk_modules(root: Union[str, Path]) -> Iterator[str]:
    """The paths of the ``.py`` files below ``root`` that can be modules of its packages, sorted.
    Symbolic links to folders are followed (the index reads through them), each folder once.
    Raises :class:`TreeTooLarge` past :data:`MAX_ENTRIES` entries."""
    seen: set[tuple[int, int]] = set()
    entries = 0
    for folder, dirs, files in os.walk(root, followlinks=True):
        try:
            info = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:  # a link loop, or a folder reached twice
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        entries += len(dirs) + len(files)
        if entries > MAX_ENTRIES:
            raise TreeTooLarge(str(root))
        dirs[:] = sorted(d for d in dirs if d.isidentifier() and not d.startswith(".") and d not in _SKIPPED
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        for file in sorted(files):
            if file.endswith(".py"):
                yield os.path.join(folder, file)


def tree_fingerprint(root: Union[str, Path]) -> Optional[str]:
    """A digest of the path (relative to ``root``) and content of every module below ``root``:
    what a file's findings in project mode may depend on. None for a tree over
    :data:`MAX_FILES` modules or :data:`MAX_ENTRIES` entries (its files are then not cached)."""
    digest = hashlib.sha256()
    try:
        for count, path in enumerate(walk_modules(root)):
            if count >= MAX_FILES:
                return None
            try:
                with open(path, "rb") as fh:
                    content = fh.read()
            except OSError:
                continue
            digest.update(os.path.relpath(path, root).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(hashlib.sha256(content).digest())
    except TreeTooLarge:
        return None
    return digest.hexdigest()


def project_fingerprint(path: Union[str, Path], memo: dict[str, Optional[str]]) -> Optional[str]:
    """The fingerprint of the project ``path`` belongs to (:func:`tree_fingerprint` of its
    package root; of the project's folder above a ``src`` root, :func:`beside_src`, which the
    index also reads), once per folder and tree (``memo``); None when the tree is too large."""
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in memo:
        root = package_root(path)
        tree = str(beside_src(root) or root)  # the src layout's own folder: two roots, one tree
        if tree not in memo:
            memo[tree] = tree_fingerprint(tree)
        memo[folder] = memo[tree]
    return memo[folder]
