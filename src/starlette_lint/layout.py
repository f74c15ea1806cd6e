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


def package_root(path: Union[str, Path]) -> Path:
    """The folder a file's top-level package sits in: the nearest folder up the tree that has no
    ``__init__.py`` (``src/`` in a src layout; the file's own folder for a script)."""
    folder = Path(path).resolve().parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


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


def walk_modules(root: Union[str, Path]) -> Iterator[str]:
    """The paths of the ``.py`` files below ``root`` that can be modules of its packages, sorted."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d.isidentifier() and not d.startswith(".") and d not in _SKIPPED
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        for file in sorted(files):
            if file.endswith(".py"):
                yield os.path.join(folder, file)


def tree_fingerprint(root: Union[str, Path]) -> Optional[str]:
    """A digest of the name, size and modification time of every module below ``root``: what a
    file's findings in project mode may depend on. None for a tree over :data:`MAX_FILES`."""
    digest = hashlib.sha256()
    for count, path in enumerate(walk_modules(root)):
        if count >= MAX_FILES:
            return None
        try:
            info = os.stat(path)
        except OSError:
            continue
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
