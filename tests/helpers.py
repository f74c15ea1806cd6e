"""Shared helpers for tests that run the front ends: the command, flake8, Python, and their output.

Imported as ``from helpers import ...`` (``tests/conftest.py`` puts this folder on ``sys.path``,
as for ``markers``).

Running things
--------------
* :func:`run_process` runs any argv with its output captured as text; every other runner goes
  through it. Its environment is this process's, minus :data:`SCRUBBED_ENV` (a CI's ``CI`` or a
  developer's ``STARLETTE_LINT_CACHE_DIR`` must not change what a test sees), plus ``env``.
* :func:`run_python` runs this interpreter (``sys.executable``) with arguments.
* :func:`spawn_cli` runs the ``starlette-lint`` command in a subprocess, as a user, pre-commit or
  CI runs it. :func:`run_cli` calls the same entry point in this process: much cheaper, for tests
  that are about what the command does rather than about it being a separate process.
* :func:`run_flake8` runs real flake8 in a subprocess, with the installed plugin. ``core=True``
  runs flake8 with only its core (pycodestyle) and our plugin: see :data:`FLAKE8_CORE_BOOT`.

:func:`concurrently` runs independent calls side by side (a test that runs the command and flake8 on
the same tree waits for both at once: the machine has more than one core).

Every subprocess runner takes ``cwd``, ``env`` (overrides; a ``None`` value removes a variable),
``stdin`` (text fed to the child) and ``timeout`` (seconds; a hang fails the test instead of
hanging it), and returns the :class:`subprocess.CompletedProcess`.

Reading output
--------------
flake8 and the command print findings alike (``path:line:col: CODE message``):
:func:`parse_output` reads them into :class:`Row` tuples; :func:`reported` and :func:`by_file`
are the two views the tests compare.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, Mapping, NamedTuple, Optional, Sequence, TypeVar

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

DEFAULT_TIMEOUT = 300  # seconds for one subprocess
SCRUBBED_ENV = ("CI", "STARLETTE_LINT_CACHE_DIR")

CLI = (sys.executable, "-m", "starlette_lint.cli")
FLAKE8 = (sys.executable, "-m", "flake8")

# flake8 with only its core, pycodestyle and our plugin. flake8-async (installed for the peer
# comparison, tests/test_peers.py) parses every file with LibCST again and dies by itself (SIGSEGV) on
# some inputs; pyflakes and mccabe recurse past Python's limit on deep expressions ("pyflakes[F]"
# failed during execution), which aborts the whole run before our findings are printed. Together they
# also take most of the time of a run over many files, and no test reads their findings. ``-I``: the
# working directory is not on sys.path (a checked file named json.py must not shadow the standard
# library), as with the installed console scripts.
FLAKE8_CORE_BOOT = """
import sys
import flake8.plugins.finder as finder
finder.BANNED_PLUGINS['flake8-async'] = '0'
try:
    _builtin = finder._flake8_plugins
    finder._flake8_plugins = lambda *a: (p for p in _builtin(*a) if p.entry_point.name not in ('F', 'C90'))
except AttributeError:  # another flake8: keep its plugins
    pass
"""
FLAKE8_CORE = (sys.executable, "-I", "-c", FLAKE8_CORE_BOOT + "from flake8.main.cli import main; sys.exit(main())")


# ------------------------------------------------------------------ environment
def environment(env: Optional[Mapping[str, Optional[str]]] = None) -> dict[str, str]:
    """This process's environment without :data:`SCRUBBED_ENV`, updated with ``env`` (``None`` removes)."""
    environ = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


@contextlib.contextmanager
def patched_environ(env: Optional[Mapping[str, Optional[str]]] = None) -> Iterator[None]:
    """:func:`environment` as ``os.environ`` for the block (in-process runs), restored afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment(env))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ------------------------------------------------------------------ subprocesses
def run_process(argv: Sequence[str], *, cwd: Optional[Path | str] = None,
                env: Optional[Mapping[str, Optional[str]]] = None, stdin: Optional[str] = None,
                timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess:
    """``argv`` in a subprocess; stdout and stderr captured as text, ``stdin`` fed to it."""
    return subprocess.run(list(argv), cwd=cwd, env=environment(env), input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def run_python(*args: str, cwd: Optional[Path | str] = None, env: Optional[Mapping[str, Optional[str]]] = None,
               stdin: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess:
    """This interpreter with ``args`` (``"-c", code, ...`` or ``"-m", module, ...``)."""
    return run_process([sys.executable, *args], cwd=cwd, env=env, stdin=stdin, timeout=timeout)


def spawn_cli(*args: str, cwd: Optional[Path | str] = None, env: Optional[Mapping[str, Optional[str]]] = None,
              stdin: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
              python_flags: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """The ``starlette-lint`` command in a subprocess (``python [python_flags] -m starlette_lint.cli args``)."""
    return run_process([sys.executable, *python_flags, *CLI[1:], *args], cwd=cwd, env=env, stdin=stdin,
                       timeout=timeout)


def run_flake8(*args: str, cwd: Optional[Path | str] = None, env: Optional[Mapping[str, Optional[str]]] = None,
               stdin: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
               core: bool = False) -> subprocess.CompletedProcess:
    """Real flake8 in a subprocess, every installed plugin loaded (``core``: see :data:`FLAKE8_CORE_BOOT`).

    Nothing is added to ``args``: pass ``--isolated`` to keep flake8 from reading configuration files.
    """
    return run_process([*(FLAKE8_CORE if core else FLAKE8), *args], cwd=cwd, env=env, stdin=stdin,
                       timeout=timeout)


T = TypeVar("T")


def concurrently(*calls: Callable[[], T], workers: Optional[int] = None) -> list[T]:
    """Each call in a thread of its own (at most ``workers`` at a time), the results in the calls' order.

    For calls that wait on subprocesses (:func:`run_process` and the runners above): the children run
    side by side. Not for :func:`run_cli`, which changes this process's working directory and streams.
    The first exception raised by a call is raised here, after every call has ended.
    """
    with ThreadPoolExecutor(max_workers=workers or len(calls) or 1) as pool:
        futures = [pool.submit(call) for call in calls]
    return [f.result() for f in futures]


# ------------------------------------------------------------------ in this process
def run_cli(*args: str, cwd: Path | str, env: Optional[Mapping[str, Optional[str]]] = None,
            stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    """The command's entry point (``starlette_lint.cli.main``) in this process, as :func:`spawn_cli` would run it.

    The working directory, environment (:func:`environment`) and standard streams are switched for the
    call and restored afterwards; an argparse exit becomes the exit code.
    """
    from starlette_lint.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_stdin = os.getcwd(), sys.stdin
    os.chdir(cwd)
    try:
        with patched_environ(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if stdin is not None:
                sys.stdin = io.StringIO(stdin)
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = old_stdin
        os.chdir(old_cwd)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


# ------------------------------------------------------------------ output
class Row(NamedTuple):
    """One finding line, as printed by flake8 and by the command's default format."""

    path: str  # as printed
    line: int
    col: int  # 1-based, as printed
    code: str
    message: str


OUTPUT_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+)(?: (?P<msg>.*))?$")


def parse_output(output: str, *, strict: bool = False) -> list[Row]:
    """The finding lines of flake8-style output, in order. ``strict``: any other non-blank line fails."""
    rows = []
    for text in output.splitlines():
        m = OUTPUT_LINE.match(text)
        if m:
            # the command marks a fixable finding with "[*] " (flake8 does not): the same finding
            rows.append(Row(m["path"], int(m["line"]), int(m["col"]), m["code"], (m["msg"] or "").removeprefix("[*] ")))
        elif strict and text.strip():
            raise AssertionError(f"not a finding line: {text!r}")
    return rows


def reported(output: str) -> list[tuple[str, int, str]]:
    """``[(path as printed, line, code)]``, in output order; every non-blank line must be a finding."""
    return [(r.path, r.line, r.code) for r in parse_output(output, strict=True)]


def by_file(output: str) -> dict[str, list[tuple[int, str, str]]]:
    """``{file name (no folder): [(line, code, message)]}`` of the finding lines; other lines are skipped."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for r in parse_output(output):
        out.setdefault(Path(r.path).name, []).append((r.line, r.code, r.message))
    return out


def write(root: Path, rel: str, text: str) -> Path:
    """``root/rel`` with ``text`` (UTF-8), its folders created."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
