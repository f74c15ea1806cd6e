"""Shared definitions for the benchmark scripts (standard library only).

Everything the benchmark downloads or creates lives in ignored folders:

* ``benchmarks/.corpus/``  sdists (``sdists/``) and the unpacked corpora ``a``, ``b``, ``c``
  (and, on request, ``b0`` and ``p``)
* ``benchmarks/.venvs/``   ``.venv-base`` (flake8), ``.venv-stl`` (flake8 + this project),
  ``.venv-async`` (flake8 + flake8-async)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
CORPUS_DIR = BENCH / ".corpus"
SDIST_DIR = CORPUS_DIR / "sdists"
MANIFEST = CORPUS_DIR / "manifest.json"
VENVS = BENCH / ".venvs"
RESULTS = BENCH / "results.json"
CLI_CACHE_NAME = ".starlette_lint_cache"

# Tool versions, pinned so that runs on different days compare. They are installed with
# a constraints file, so the project's own install (.venv-stl) gets the same flake8 and
# the same libcst as flake8-async uses.
PINS = {
    "flake8": "7.5.0",
    "pycodestyle": "2.15.0",
    "pyflakes": "4.1.0",
    "mccabe": "0.7.0",
    "flake8-async": "26.8.1",
    "libcst": "1.9.0",
    "PyYAML": "6.0.3",
}

VENV_SPECS = {
    # name: (requirements, install this project too)
    "base": (["flake8"], False),
    "stl": (["flake8"], True),
    "async": (["flake8", "flake8-async"], False),
}

# Corpora. Each package is (distribution name, pinned version, subpaths to keep or None).
# ``None`` keeps every .py file in the sdist; otherwise only files under (or equal to) the
# given paths, relative to the sdist's top folder, are kept.
CORPORA = {
    "a": {
        "title": "framework sources",
        "packages": [
            ("starlette", "1.10.0", ["starlette/"]),
            ("fastapi", "0.165.0", ["fastapi/"]),
        ],
    },
    "b": {
        "title": "applications",
        # Real FastAPI applications, whole sdists (code, tests, tools): in them only 21-31% of
        # the lines sit in files that import starlette/fastapi/uvicorn, as in the applications
        # the project issue measured (10-30%). Plus two admin libraries for Starlette/FastAPI
        # (also whole sdists, with their examples and tests), where that share is ~80%.
        "packages": [
            ("lnbits", "1.6.2", None),  # Lightning wallet/accounts server (FastAPI)
            ("khoj", "1.42.10", None),  # AI assistant server (FastAPI + Django ORM)
            ("sqladmin", "0.32.0", None),  # admin library (Starlette)
            ("starlette-admin", "1.0.3", None),  # admin library (Starlette/FastAPI)
        ],
    },
    "b0": {
        "title": "framework-adjacent libraries (first composition of (b))",
        # The first composition of corpus (b), kept for comparison (`--corpus b0`; not built or
        # run by default): 67% of its lines sit in files that import the frameworks, far more
        # than in real applications, because three of its four packages are libraries built on
        # FastAPI (user management, admin interfaces).
        "default": False,
        "packages": [
            ("fief-server", "0.27.0", None),  # 0.28+ require Python >= 3.12
            ("sqladmin", "0.32.0", None),
            ("fastapi-users", "15.0.5", None),
            ("fastapi-admin", "1.0.4", None),
        ],
    },
    "p": {
        "title": "precision: real applications, framework tests and docs apps",
        # The corpus whose findings are labelled to measure precision (`--corpus p`; not built or
        # run by default): whole sdists (code, tests, documentation apps) of ten projects, ~860k
        # lines. fastapi's sdist carries docs_src/ (the documentation's example apps) and tests/;
        # starlette's carries tests/. open-webui is left out: its sdist's metadata step builds
        # the frontend with npm, which downloads the Cypress binary.
        "default": False,
        "packages": [
            ("fastapi", "0.165.0", None),  # framework + tests/ + docs_src/ + scripts/
            ("starlette", "1.10.0", None),  # framework + tests/
            ("prefect", "3.9.1", None),  # workflow orchestration server (FastAPI)
            ("marimo", "0.25.2", None),  # notebook server (Starlette)
            ("bentoml", "1.4.40", None),  # model serving (Starlette)
            ("chainlit", "2.12.0", None),  # chat apps (FastAPI) + tests/
            ("lnbits", "1.6.2", None),  # Lightning wallet/accounts server (FastAPI) + tests/
            ("khoj", "1.42.10", None),  # AI assistant server (FastAPI + Django ORM)
            ("sqladmin", "0.32.0", None),  # admin library (Starlette)
            ("starlette-admin", "1.0.3", None),  # admin library (Starlette/FastAPI)
        ],
    },
    "c": {
        "title": "general Python",
        # The pure-Python distributions of the benchmark venvs' own site-packages (the flake8
        # tool chain), as installed (package folders only, taken from the pinned sdists).
        "packages": [
            ("flake8", PINS["flake8"], ["src/flake8/"]),
            ("pyflakes", PINS["pyflakes"], ["pyflakes/"]),
            ("pycodestyle", PINS["pycodestyle"], ["pycodestyle.py"]),
            ("mccabe", PINS["mccabe"], ["mccabe.py"]),
            ("PyYAML", PINS["PyYAML"], ["lib/yaml/"]),
            ("flake8-async", PINS["flake8-async"], ["flake8_async/"]),
        ],
    },
}

# Built and run when no --corpus is given.
DEFAULT_CORPORA = [k for k, spec in CORPORA.items() if spec.get("default", True)]

FRAMEWORK_IMPORT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+(?:starlette|fastapi|uvicorn)\b", re.M)
# starlette-lint's own pre-filter (starlette_lint/prefilter.py, kept equal by
# tests/test_perf_paths.py): a file is parsed only when its text has an import of
# starlette, fastapi or uvicorn (after ``import``/``from`` on the same logical line).
PREFILTER = re.compile(rb"\b(?:import|from)(?:[\w.,\t\f \x80-\xff]|\\(?:\r\n|\r|\n))+?(?<![\w.])"
                       rb"(?:starlette|fastapi|uvicorn)(?!\w)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def venv_dir(name: str) -> Path:
    return VENVS / f".venv-{name}"


def venv_bin(name: str, exe: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return venv_dir(name) / sub / f"{exe}{suffix}"


def child_env() -> dict[str, str]:
    """The environment of a measured run: this one without what would change which Python code runs."""
    env = dict(os.environ)
    # PYTHONDONTWRITEBYTECODE: an installed package runs from its bytecode (pip compiles it; an
    # editable checkout writes it on first import), which the warm-up writes; without it every
    # run would compile starlette-lint's ~50 modules again (~0.12 s a process)
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def constraints_file() -> Path:
    VENVS.mkdir(parents=True, exist_ok=True)
    path = VENVS / "constraints.txt"
    text = "".join(f"{k}=={v}\n" for k, v in PINS.items())
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def project_has_pyproject() -> bool:
    return (PROJECT / "pyproject.toml").is_file()


def run_quiet(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=pip_env(), **kw)


def install_project(verbose: bool = True) -> tuple[bool, str]:
    """``pip install -e PROJECT`` into .venv-stl (pinned tools via the constraints file)."""
    if not project_has_pyproject():
        return False, f"{PROJECT / 'pyproject.toml'} does not exist yet: starlette-lint cannot be installed"
    pip = [str(venv_bin("stl", "python")), "-m", "pip", "install", "-q"]
    if verbose:
        print(f"  installing the project into {venv_dir('stl')} (pip install -e {PROJECT})", flush=True)
    proc = run_quiet(pip + ["-c", str(constraints_file()), "-e", str(PROJECT)])
    if proc.returncode != 0:
        # the project may require versions outside our pins: retry without the constraints
        proc2 = run_quiet(pip + ["-e", str(PROJECT)])
        if proc2.returncode != 0:
            return False, "pip install -e failed:\n" + _tail(proc2.stdout, 25)
        return True, "installed without the constraints file (the project's requirements conflict with the pins)"
    return True, "installed"


def _tail(text: str, n: int) -> str:
    lines = [ln for ln in text.splitlines() if not ln.startswith("WARNING: Location")]
    return "\n".join(lines[-n:])


_PROBE = r"""
import importlib.metadata as m, json, sys
out = {"python": sys.version.split()[0], "eps": [], "versions": {}}
out["eps"] = sorted(e.name for e in m.entry_points(group="flake8.extension"))
for d in ("flake8", "pycodestyle", "pyflakes", "flake8-async", "libcst", "starlette-lint"):
    try:
        out["versions"][d] = m.version(d)
    except m.PackageNotFoundError:
        pass
try:
    import starlette_lint.plugin  # noqa: F401
    out["plugin_import"] = "ok"
except Exception as exc:
    out["plugin_import"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def probe_venv(name: str) -> dict:
    """Installed versions and flake8 plugins of one benchmark venv ({} if it does not exist)."""
    py = venv_bin(name, "python")
    if not py.exists():
        return {}
    proc = subprocess.run([str(py), "-c", _PROBE], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-500:]}
    return json.loads(proc.stdout)


def stl_plugin_status() -> tuple[bool, str, dict]:
    info = probe_venv("stl")
    if not info:
        return False, f"{venv_dir('stl')} does not exist (run benchmarks/build_corpus.py)", info
    if "error" in info:
        return False, f"probing {venv_dir('stl')} failed: {info['error']}", info
    if not any(ep.startswith("STL") for ep in info["eps"]):
        return False, "no STL flake8 entry point is installed in .venv-stl", info
    if info.get("plugin_import") != "ok":
        return False, f"starlette_lint.plugin does not import: {info.get('plugin_import')}", info
    eps = ", ".join(e for e in info["eps"] if e.startswith("STL"))
    return True, f"starlette-lint {info['versions'].get('starlette-lint', '?')} (entry points {eps})", info


def cli_status() -> tuple[bool, str, dict]:
    """Whether ``starlette-lint check`` works in .venv-stl, and which options it has."""
    exe = venv_bin("stl", "starlette-lint")
    if not exe.exists():
        return False, "no starlette-lint command in .venv-stl", {}
    try:
        proc = subprocess.run([str(exe), "check", "--help"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "starlette-lint check --help timed out", {}
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        return False, f"starlette-lint check --help exited {proc.returncode}: {first.strip()}", {}
    flags = {
        "no_cache": "--no-cache" in text,
        "isolated": "--isolated" in text,
        "jobs": "--jobs" if "--jobs" in text else ("-j" if re.search(r"(^|\s)-j\b", text) else None),
        "cache_dir": "--cache-dir" in text,
    }
    return True, "starlette-lint check available", flags


def count_lines(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def load_manifest() -> Optional[dict]:
    if not MANIFEST.exists():
        return None
    return json.loads(MANIFEST.read_text())


def die(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise SystemExit(code)
