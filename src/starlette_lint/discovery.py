"""Which files ``starlette-lint check PATHS`` looks at.

Files named on the command line are always checked (whatever their
extension: pre-commit passes extension-less scripts too). Directories are
walked for ``*.py`` files, skipping

* the usual tool and environment directories (:data:`DEFAULT_EXCLUDES`),
* anything matched by ``--exclude`` / ``extend-exclude`` glob patterns
  (matched against the name, the path as shown and the absolute path),
* anything a ``.gitignore`` ignores: the ``.gitignore`` files of the walked
  directories, of their parents up to the repository root, and the
  repository's ``.git/info/exclude`` (git's pattern syntax: ``!`` negation,
  leading ``/`` anchoring, trailing ``/`` for directories, ``*``, ``?``,
  ``[...]`` and ``**``).

Symbolic links to files are followed; links to directories are not walked
(no cycles); broken links are reported through ``warn`` and skipped.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", "CVS", ".venv", "venv", ".tox", ".nox", ".eggs", "build", "dist",
    "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".starlette_lint_cache",
)


class PathError(Exception):
    """A path named on the command line does not exist."""


# ------------------------------------------------------------------ gitignore
@dataclass(frozen=True)
class _Pattern:
    regex: "re.Pattern[str]"
    negate: bool
    dir_only: bool


def _segment(seg: str) -> str:
    out = []
    i, n = 0, len(seg)
    while i < n:
        c = seg[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(seg[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = seg.find("]", i + 2 if i + 1 < n and seg[i + 1] in "!^" else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = seg[i + 1:j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_gitignore_line(line: str) -> Optional[_Pattern]:
    """One ``.gitignore`` line as a pattern matched against paths relative to its directory."""
    line = line.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # trailing spaces are ignored unless escaped
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    line = stripped
    negate = False
    if line.startswith("!"):
        negate, line = True, line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    parts = line.split("/")
    rx: list[str] = []
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        if seg == "**":
            rx.append(".*" if last else "(?:.*/)?")
            continue
        rx.append(_segment(seg))
        if not last:
            rx.append("/")
    body = "".join(rx)
    prefix = "" if anchored else "(?:.*/)?"
    return _Pattern(re.compile(f"^{prefix}{body}$", re.S), negate, dir_only)


@dataclass(frozen=True)
class _IgnoreFile:
    base: str  # absolute directory, posix, no trailing slash
    patterns: tuple[_Pattern, ...]


def _read_ignore_file(path: Path, base: Path) -> Optional[_IgnoreFile]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    patterns = tuple(p for p in map(compile_gitignore_line, text.splitlines()) if p is not None)
    return _IgnoreFile(base.as_posix().rstrip("/"), patterns) if patterns else None


def _ignored(rules: Sequence[_IgnoreFile], abspath: str, is_dir: bool) -> bool:
    result = False
    for rule in rules:
        prefix = rule.base + "/"
        if not abspath.startswith(prefix):
            continue
        rel = abspath[len(prefix):]
        for p in rule.patterns:
            if p.dir_only and not is_dir:
                continue
            if p.regex.match(rel):
                result = not p.negate
    return result


def _git_root(directory: Path) -> Optional[Path]:
    for d in (directory, *directory.parents):
        if (d / ".git").exists():
            return d
    return None


def _inherited_ignores(directory: Path) -> tuple[_IgnoreFile, ...]:
    """The .gitignore rules that apply to ``directory`` from its parents (and .git/info/exclude)."""
    root = _git_root(directory)
    if root is None:
        return ()
    out: list[_IgnoreFile] = []
    info = _read_ignore_file(root / ".git" / "info" / "exclude", root)
    if info is not None:
        out.append(info)
    chain = [directory, *directory.parents]
    chain = chain[: chain.index(root) + 1]
    for d in reversed(chain[1:]):  # parents only: the directory's own file is read by the walk
        f = _read_ignore_file(d / ".gitignore", d)
        if f is not None:
            out.append(f)
    return tuple(out)


# ------------------------------------------------------------------ walking
class Excluder:
    def __init__(self, patterns: Iterable[str] = (), cwd: Optional[Path] = None) -> None:
        self.patterns = tuple(p.rstrip("/") for p in patterns if p.strip())
        self.cwd = cwd or Path.cwd()

    def __call__(self, name: str, shown: str, abspath: str) -> bool:
        if name in DEFAULT_EXCLUDES:
            return True
        for p in self.patterns:
            if fnmatch.fnmatch(name, p) or fnmatch.fnmatch(shown, p) or fnmatch.fnmatch(abspath, p):
                return True
            if fnmatch.fnmatch(shown, p.lstrip("./")):
                return True
        return False


def display_path(path: Path, cwd: Path) -> str:
    """The path as the user should see it: relative to the working directory when below it."""
    try:
        return path.absolute().relative_to(cwd).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()


def iter_files(
    paths: Sequence[str],
    *,
    exclude: Iterable[str] = (),
    respect_gitignore: bool = True,
    warn: Callable[[str], None] = lambda msg: None,
    cwd: Optional[Path] = None,
    force_exclude: bool = False,
) -> Iterator[str]:
    """Paths (as display strings) of the files to check, each once, in walk order.

    ``force_exclude`` applies the exclusions (defaults and patterns, not
    .gitignore) to files named explicitly too, as pre-commit hooks want.
    """
    cwd = cwd or Path.cwd()
    excluded = Excluder(exclude, cwd)
    seen: set[str] = set()
    for arg in paths:
        path = Path(arg)
        if not os.path.lexists(path):
            raise PathError(f"{arg}: no such file or directory")
        if not path.is_dir():
            shown = display_path(path, cwd)
            if force_exclude and _excluded_path(excluded, shown):
                continue
            key = os.path.normpath(os.path.abspath(shown))
            if key not in seen:
                seen.add(key)
                yield shown
            continue
        yield from _walk(path, cwd, excluded, respect_gitignore, warn, seen)


def excluded_file(path: str, patterns: Iterable[str], root: Optional[str] = None) -> bool:
    """Would a walk skip the file ``path`` (the default excludes and ``patterns``, matched on its
    path below ``root``, else below the working directory)? For a file that is not walked to:
    standard input with ``--force-exclude``, a buffer in an editor."""
    base = Path(root) if root else Path.cwd()
    return _excluded_path(Excluder(patterns, base), display_path(Path(os.path.abspath(path)), base))


def _excluded_path(excluded: Excluder, shown: str) -> bool:
    parts = Path(shown).parts
    for i in range(len(parts)):
        sub = "/".join(parts[: i + 1])
        if excluded(parts[i], sub, os.path.abspath(sub).replace(os.sep, "/")):
            return True
    return False


def _walk(top: Path, cwd: Path, excluded: Excluder, respect_gitignore: bool,
          warn: Callable[[str], None], seen: set[str]) -> Iterator[str]:
    top_abs = Path(os.path.abspath(top))
    inherited = _inherited_ignores(top_abs) if respect_gitignore else ()
    # stack of (directory as shown, absolute directory, ignore rules in force)
    stack: list[tuple[str, Path, tuple[_IgnoreFile, ...]]] = [(display_path(top, cwd), top_abs, inherited)]
    while stack:
        shown_dir, abs_dir, rules = stack.pop()
        if respect_gitignore:
            own = _read_ignore_file(abs_dir / ".gitignore", abs_dir) if (abs_dir / ".gitignore").is_file() else None
            if own is not None:
                rules = rules + (own,)
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError as exc:
            warn(f"{shown_dir}: cannot list directory: {exc.strerror or exc}")
            continue
        subdirs: list[tuple[str, Path, tuple[_IgnoreFile, ...]]] = []
        for entry in entries:
            name = entry.name
            shown = name if shown_dir in ("", ".") else f"{shown_dir.rstrip('/')}/{name}"
            abspath = f"{abs_dir.as_posix().rstrip('/')}/{name}"
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                continue
            if excluded(name, shown, abspath):
                continue
            if rules and _ignored(rules, abspath, is_dir):
                continue
            if is_dir:
                subdirs.append((shown, Path(abspath), rules))
                continue
            if not name.endswith(".py"):
                continue
            if is_link and not os.path.exists(abspath):
                warn(f"{shown}: skipped: broken symbolic link")
                continue
            if is_link and os.path.isdir(abspath):
                continue
            key = os.path.normpath(abspath)
            if key in seen:
                continue
            seen.add(key)
            yield shown
        stack.extend(reversed(subdirs))
