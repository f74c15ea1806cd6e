"""Build the benchmark's venvs and corpora (standard library only; Python 3.10+).

    python benchmarks/build_corpus.py                 # venvs + corpora a, b, c
    python benchmarks/build_corpus.py --corpus a      # only corpus (a)
    python benchmarks/build_corpus.py --corpus b0     # the first composition of (b), for comparison
    python benchmarks/build_corpus.py --corpus p      # the precision corpus (whole sdists, ~860k lines)
    python benchmarks/build_corpus.py --reinstall     # re-run `pip install -e` of the project

Venvs (benchmarks/.venvs/): .venv-base (flake8), .venv-stl (flake8 + this project, editable),
.venv-async (flake8 + flake8-async); tool versions are pinned (see _common.PINS).

Corpora (benchmarks/.corpus/{a,b,c}/): every package is fetched as a pinned sdist with
``pip download --no-deps --no-binary <pkg> <pkg>==<version>`` and its .py files are unpacked.
(``--no-binary :all:`` would also force pip to build the sdists' *build backends* from source
-- e.g. uv_build needs a Rust tool chain -- so only the package itself is forced to an sdist.)
A manifest (benchmarks/.corpus/manifest.json) records files, lines, sha256 of every sdist and
how many lines sit in files that import starlette/fastapi/uvicorn.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CORPORA,
    CORPUS_DIR,
    DEFAULT_CORPORA,
    FRAMEWORK_IMPORT,
    MANIFEST,
    PINS,
    PREFILTER,
    PROJECT,
    SDIST_DIR,
    VENV_SPECS,
    VENVS,
    constraints_file,
    count_lines,
    install_project,
    normalize,
    probe_venv,
    run_quiet,
    stl_plugin_status,
    venv_bin,
    venv_dir,
    _tail,
)

ISOLATING_PYPROJECT = """\
# Written by benchmarks/build_corpus.py. starlette-lint looks for the nearest pyproject.toml
# with a [tool.starlette-lint] table (up to the git root); this empty table makes every run on
# the corpora use the defaults instead of the repository's own configuration. The corpora keep
# no dependency files: the empty [project] dependencies end the search for the releases the code
# targets here (so the installed Starlette/FastAPI are used, not this repository's own pins).
[project]
name = "starlette-lint-corpora"
version = "0"
dependencies = []

[tool.starlette-lint]
"""


# ------------------------------------------------------------------ venvs
def build_venvs(force: bool, reinstall: bool) -> list[str]:
    notes = []
    VENVS.mkdir(parents=True, exist_ok=True)
    cons = constraints_file()
    for name, (reqs, with_project) in VENV_SPECS.items():
        vdir = venv_dir(name)
        stamp = vdir / ".bench-stamp"
        want = json.dumps({"python": sys.version, "pins": PINS, "reqs": reqs}, sort_keys=True)
        fresh = force or not stamp.exists() or stamp.read_text() != want
        if fresh:
            if vdir.exists():
                shutil.rmtree(vdir)
            t0 = time.perf_counter()
            print(f"creating {vdir} ({' + '.join(reqs)})", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(vdir)], check=True)
            proc = run_quiet([str(venv_bin(name, "python")), "-m", "pip", "install", "-q", "-c", str(cons), *reqs])
            if proc.returncode != 0:
                print(_tail(proc.stdout, 30), file=sys.stderr)
                raise SystemExit(f"error: installing {reqs} into {vdir} failed")
            stamp.write_text(want)
            print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
        if with_project:
            ok, why, _ = stl_plugin_status()
            if fresh or reinstall or not ok:
                installed, msg = install_project()
                if not installed:
                    notes.append(f".venv-stl has flake8 only: {msg}. The STL columns will be skipped; "
                                 "re-run with --reinstall once the project installs.")
                elif msg != "installed":
                    notes.append(msg)
    for name in VENV_SPECS:
        info = probe_venv(name)
        vers = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
        print(f"  .venv-{name}: python {info.get('python')}; {vers}; flake8 plugins: {', '.join(info.get('eps', []))}")
    ok, why, _ = stl_plugin_status()
    print(f"  starlette-lint plugin: {'OK, ' if ok else 'NOT AVAILABLE: '}{why}")
    return notes


# ------------------------------------------------------------------ sdists
def find_sdist(name: str, version: str) -> Path | None:
    if not SDIST_DIR.is_dir():
        return None
    for path in SDIST_DIR.iterdir():
        fname = path.name
        for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
            if fname.endswith(ext):
                stem = fname[: -len(ext)]
                base, _, ver = stem.rpartition("-")
                if normalize(base) == normalize(name) and ver == version:
                    return path
    return None


def download(name: str, version: str) -> Path:
    found = find_sdist(name, version)
    if found:
        return found
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    pip = str(venv_bin("base", "python")) if venv_bin("base", "python").exists() else sys.executable
    cmd = [pip, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", name, "-d", str(SDIST_DIR),
           f"{name}=={version}"]
    print(f"  pip download --no-deps --no-binary {name} {name}=={version}", flush=True)
    proc = run_quiet(cmd, timeout=900)
    found = find_sdist(name, version)
    if proc.returncode != 0 or not found:
        print(_tail(proc.stdout, 30), file=sys.stderr)
        raise SystemExit(f"error: could not download the sdist of {name}=={version}")
    return found


def iter_py_members(sdist: Path):
    """(relative posix path inside the sdist's top folder, bytes) for every .py file."""
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.filename.endswith(".py"):
                    yield info.filename, zf.read(info)
    else:
        with tarfile.open(sdist) as tf:
            for member in tf:
                if member.isfile() and member.name.endswith(".py"):
                    fh = tf.extractfile(member)
                    if fh is not None:
                        yield member.name, fh.read()


def safe_rel(name: str) -> PurePosixPath | None:
    parts = PurePosixPath(name).parts
    if len(parts) < 2 or any(p in ("..", "") for p in parts) or name.startswith("/"):
        return None
    return PurePosixPath(*parts[1:])  # strip the sdist's top folder


def wanted(rel: PurePosixPath, keep: list[str] | None) -> bool:
    if keep is None:
        return True
    s = rel.as_posix()
    return any(s == k.rstrip("/") or (k.endswith("/") and s.startswith(k)) for k in keep)


def unpack(corpus: str, name: str, version: str, keep: list[str] | None, sdist: Path) -> dict:
    dest = CORPUS_DIR / corpus / f"{normalize(name)}-{version}"
    if dest.exists():
        shutil.rmtree(dest)
    stats = {"name": name, "version": version, "sdist": sdist.name, "subpaths": keep,
             "sha256": hashlib.sha256(sdist.read_bytes()).hexdigest(),
             "files": 0, "lines": 0, "framework_import_files": 0, "framework_import_lines": 0,
             "prefilter_files": 0, "prefilter_lines": 0, "syntax_errors": []}
    for member, data in iter_py_members(sdist):
        rel = safe_rel(member)
        if rel is None or not wanted(rel, keep):
            continue
        out = dest / Path(*rel.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        n = count_lines(data)
        stats["files"] += 1
        stats["lines"] += n
        if FRAMEWORK_IMPORT.search(data):
            stats["framework_import_files"] += 1
            stats["framework_import_lines"] += n
        if PREFILTER.search(data):
            stats["prefilter_files"] += 1
            stats["prefilter_lines"] += n
        try:
            ast.parse(data, filename=str(out))
        except (SyntaxError, ValueError) as exc:
            stats["syntax_errors"].append(f"{rel}: {exc}")
    if stats["files"] == 0:
        raise SystemExit(f"error: no .py files kept from {sdist.name} (subpaths {keep})")
    return stats


def build_corpora(which: list[str]) -> dict:
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {"corpora": {}}
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    (CORPUS_DIR / "pyproject.toml").write_text(ISOLATING_PYPROJECT)
    for key in which:
        spec = CORPORA[key]
        print(f"corpus ({key}) {spec['title']}:", flush=True)
        root = CORPUS_DIR / key
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        packages = []
        for name, version, keep in spec["packages"]:
            sdist = download(name, version)
            packages.append(unpack(key, name, version, keep, sdist))
        total = {k: sum(p[k] for p in packages) for k in
                 ("files", "lines", "framework_import_files", "framework_import_lines", "prefilter_files",
                  "prefilter_lines")}
        manifest["corpora"][key] = {"title": spec["title"], "path": str(root.relative_to(PROJECT)),
                                    "packages": packages, **total,
                                    "python": sys.version.split()[0]}
    manifest["corpora"] = {k: manifest["corpora"][k] for k in sorted(manifest["corpora"]) if k in CORPORA}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def print_manifest(manifest: dict, which: list[str]) -> None:
    print()
    print("| corpus | package | version | files | lines | lines in files importing starlette/fastapi/uvicorn "
          "| lines starlette-lint parses (prefilter) |")
    print("|---|---|---|---:|---:|---:|---:|")

    def share(part: int, whole: int) -> str:
        return f"{part} ({part / whole if whole else 0:.0%})"

    for key in which:
        c = manifest["corpora"][key]
        for p in c["packages"]:
            print(f"| {key} | {p['name']} | {p['version']} | {p['files']} | {p['lines']} | "
                  f"{share(p['framework_import_lines'], p['lines'])} | {share(p['prefilter_lines'], p['lines'])} |")
        print(f"| **{key}** | **{c['title']}** | | **{c['files']}** | **{c['lines']}** | "
              f"**{share(c['framework_import_lines'], c['lines'])}** | **{share(c['prefilter_lines'], c['lines'])}** |")
        bad = [e for p in c["packages"] for e in p["syntax_errors"]]
        if bad:
            print(f"\nnote: {len(bad)} file(s) in corpus ({key}) do not parse on Python "
                  f"{sys.version.split()[0]}: {bad[:3]}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=",".join(DEFAULT_CORPORA),
                    help=f"comma separated subset of {','.join(CORPORA)} (default: {','.join(DEFAULT_CORPORA)})")
    ap.add_argument("--skip-venvs", action="store_true", help="do not create or check the venvs")
    ap.add_argument("--skip-corpus", action="store_true", help="only build the venvs")
    ap.add_argument("--force", action="store_true", help="recreate the venvs (sdists already downloaded are reused)")
    ap.add_argument("--reinstall", action="store_true", help="re-run `pip install -e` of the project in .venv-stl")
    args = ap.parse_args(argv)
    which = [c.strip() for c in args.corpus.split(",") if c.strip()]
    for c in which:
        if c not in CORPORA:
            ap.error(f"unknown corpus {c!r} (choose from {', '.join(CORPORA)})")
    if sys.version_info < (3, 10):
        ap.error("Python 3.10+ is required")
    t0 = time.perf_counter()
    notes: list[str] = []
    if not args.skip_venvs:
        notes += build_venvs(args.force, args.reinstall)
    t1 = time.perf_counter()
    if not args.skip_corpus:
        manifest = build_corpora(which)
        print_manifest(manifest, which)
    t2 = time.perf_counter()
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"\nbuild took {t2 - t0:.0f} s (venvs {t1 - t0:.0f} s, corpora {t2 - t1:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
