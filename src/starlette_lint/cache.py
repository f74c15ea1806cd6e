"""Per-file result cache for the standalone command.

An entry is keyed by the SHA-256 of the file's bytes, where it is (its path and the
packages above it, :func:`place`), and a
fingerprint of everything else that can change the result: the tool version,
the source of the installed package (so an upgrade or a local edit of a rule
invalidates it), the Python version, the effective configuration and the
selected rules. Each entry is one small JSON file under
``.starlette_lint_cache/v1/<2 hex>/<key>.json``, written to a temporary file
in the same directory and moved into place with ``os.replace``: concurrent
runs never see a half-written entry (at worst they both write the same
content), and an unreadable or corrupt entry is treated as a miss and
rewritten. The cache directory holds a ``.gitignore`` (``*``) and a
``CACHEDIR.TAG`` so it is never committed nor backed up.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from . import __version__
from .layout import PACKAGING_MARKERS

if TYPE_CHECKING:
    from .config import Config

DIRNAME = ".starlette_lint_cache"
FORMAT = "v1"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# starlette-lint cache directory\n"


def replace_file(target: str, data: bytes, *, mode: Optional[int] = None, prefix: str = ".tmp-",
                 suffix: str = ".tmp") -> None:
    """Give ``target`` the content ``data`` atomically: readers see the old bytes or the new ones.

    The bytes go to a temporary file in the same directory (same file system),
    which then replaces ``target``; on any failure the temporary file is removed
    and the error raised. ``mode``: permission bits for the new file.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=os.path.dirname(target) or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """Hash of the package's own source files: an edited rule must not hit old entries."""
    root = Path(__file__).parent
    h = hashlib.sha256(__version__.encode())
    h.update(f"{sys.version_info[0]}.{sys.version_info[1]}".encode())
    for path in sorted(root.rglob("*.py")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def settings_fingerprint(parts: Any) -> str:
    blob = json.dumps([package_fingerprint(), parts], sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


def config_fingerprint(config: "Config") -> str:
    """What of a configuration can change a file's result (with the package's source, which
    :func:`settings_fingerprint` hashes: the selected rules and the fixable codes follow from them)."""
    from . import versions

    return settings_fingerprint({
        "select": config.select, "ignore": config.ignore, "extend_select": config.extend_select,
        "per_file_ignores": config.per_file_ignores, "extend_blocking_calls": config.extend_blocking_calls,
        "safe_calls": sorted(config.safe_calls), "endpoint_decorators": config.endpoint_decorators,
        "root": config.root, "test_paths": config.test_paths, "docs_paths": config.docs_paths,
        "project_mode": config.project_mode,
        # set per directory when detected; --isolated: the installed releases
        "target": repr(config.target or versions.environment_target()),
        # without a configuration, file classes are judged relative to the working directory
        "cwd": None if config.root else os.getcwd(),
    })


def store_directory(config: "Config") -> Optional[str]:
    """Where flake8's workers keep results and module summaries: ``STARLETTE_LINT_CACHE_DIR``,
    else the command's cache directory (beside the configuration, else in the working
    directory); None when ``STARLETTE_LINT_CACHE_DIR`` is set empty (no cache)."""
    env = os.environ.get("STARLETTE_LINT_CACHE_DIR")
    if env is not None:
        return os.path.abspath(env) if env else None
    return os.path.abspath(os.path.join(config.root or os.getcwd(), DIRNAME))


def entry_key(content: bytes, path: str, settings: str) -> str:
    """The key of a file's result: its bytes, where it is (:func:`place`) and ``settings``
    (``path`` as the front end was given it)."""
    h = hashlib.sha256(content)
    h.update(b"\0")
    h.update(place(path).encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(settings.encode())
    return h.hexdigest()


_FOLDERS: dict[str, tuple[str, ...]] = {}  # folder -> what place() reads from it up (one run's)


def clear_places() -> None:
    """Forget the folders :func:`place` read (a front end's run starts: files may have changed)."""
    _FOLDERS.clear()


def place(path: str) -> str:
    """What an analysis reads about where a file is, besides its text and the configuration:

    * the path as given, with the working directory when it is relative (file classes are
      judged on the path relative to it, and STL701 names the module by the path's packages);
    * the real path (per-file-ignores match it: a link checked again after it was repointed);
    * the packages above the file: for each folder up from the file's (its real one too), whether
      it has an ``__init__.py`` and a ``pyproject.toml``/``setup.py``/``setup.cfg``, up to the
      first that is not a package (and the markers above it, when it is a ``src`` folder): STL701's
      import path and its fix read them.

    Adding an ``__init__.py`` changes the file's findings without changing its text, nor
    (outside project mode, or for a file that asks the project nothing) any other key part.
    Folders are read once per run (:func:`clear_places`).
    """
    real = os.path.realpath(path)
    parts = [path, real] if os.path.isabs(path) else [path, real, os.getcwd()]
    for start in dict.fromkeys((os.path.dirname(os.path.abspath(path)), os.path.dirname(real))):
        parts.extend(_packages_from(start))
    return "\0".join(parts)


def _markers(folder: str) -> str:
    return "".join("1" if os.path.isfile(os.path.join(folder, m)) else "0" for m in PACKAGING_MARKERS)


def _packages_from(folder: str) -> tuple[str, ...]:
    """:func:`place`'s reading of ``folder`` and, while they are packages, the folders above it."""
    walked: list[tuple[str, str]] = []  # (folder, what it says), from ``folder`` up
    found: tuple[str, ...] = ()
    current = folder
    while True:
        known = _FOLDERS.get(current)
        if known is not None:
            found = known
            break
        package = os.path.isfile(os.path.join(current, "__init__.py"))
        entry = f"{current}:{int(package)}{_markers(current)}"
        parent = os.path.dirname(current)
        if not package or parent == current:
            if not package and os.path.basename(current) == "src":
                entry += "/" + _markers(parent)
            found = _FOLDERS[current] = (entry,)
            break
        walked.append((current, entry))
        current = parent
    for where, entry in reversed(walked):  # each folder of the walk remembered, the nearest last
        found = _FOLDERS[where] = (entry,) + found
    return found


class Cache:
    def __init__(self, directory: Optional[Path]) -> None:
        self.directory = directory  # None: disabled
        self._ready = False

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _entry(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / FORMAT / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[dict[str, Any]]:
        if self.directory is None:
            return None
        try:
            with open(self._entry(key), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("findings"), list):
            return None
        for item in data["findings"]:
            if not (isinstance(item, list) and len(item) == 5 and isinstance(item[0], int) and isinstance(item[1], int)
                    and isinstance(item[2], str) and isinstance(item[3], str) and isinstance(item[4], bool)):
                return None
        return data

    def put(self, key: str, findings: list[list[Any]], project: Optional[str] = None,
            asked: Optional[list[list[Any]]] = None) -> None:
        """Keep a file's findings; in project mode also the project's fingerprint and what the
        analysis asked of the project (:mod:`.answers`), which decide whether they still hold."""
        if self.directory is None:
            return
        target = self._entry(key)
        entry: dict[str, Any] = {"key": key, "findings": findings}
        if project is not None:
            entry["project"] = project
            entry["asked"] = asked or []
        try:
            self.prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(entry, separators=(",", ":")).encode("utf-8")
            replace_file(str(target), data, prefix=".tmp-", suffix=".json")
        except OSError:
            pass  # a cache that cannot be written is no cache; never fail the run

    def prepare(self) -> None:
        """Create the directory, with its ``.gitignore`` and ``CACHEDIR.TAG``."""
        if self._ready or self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", "# created by starlette-lint\n*\n"), ("CACHEDIR.TAG", _TAG)):
            path = self.directory / name
            if not path.exists():
                try:
                    with open(path, "x", encoding="utf-8") as fh:
                        fh.write(text)
                except OSError:
                    pass
        self._ready = True
