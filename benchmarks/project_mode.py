"""What project mode costs: flake8 and the command, with it off and on, cold and warm.

    python benchmarks/build_corpus.py                     # once: venvs + corpora
    python benchmarks/project_mode.py                     # corpus (b), 3 rounds
    python benchmarks/project_mode.py --rounds 5 PATH...  # other applications too (a folder each)

Each target is a folder checked as a whole, from that folder. Measured, best of ``--rounds``
(interleaved), wall time, CPU time (user + system) and peak RSS of each subprocess; a row each
for wall and CPU time (CPU time varies less between identical runs on a shared machine), and a
third row: the median over the rounds of each run's CPU time against that round's bare flake8
(steadier when the machine's speed drifts between runs):

* ``base``: bare flake8 (E,W,F), ``-j1``;
* ``stl-off``: flake8 + starlette-lint with ``project-mode = false``;
* ``stl-cold``: flake8 + starlette-lint in project mode, an empty summary store;
* ``stl-index``: the same, the summary store filled by the cold run (the summaries of the
  project's modules read back instead of parsed) and the result cache emptied: every file
  analysed again, as after an edit of each;
* ``stl-warm``: the same again, the result cache filled too: a rerun over unchanged files;
* ``stl-edit-end`` / ``stl-edit-top``: the same after an edit of the module most other modules
  of the target import (:func:`shared_module`): a function added at its end, or a comment line
  added at its top (every line below moves); the edit is undone after the run. The project's
  fingerprint changed, so every file's cached result is checked against the index by asking
  again what its analysis asked (``starlette_lint.answers``); the files whose answers changed
  are analysed again;
* ``cli-off`` / ``cli-on``: ``starlette-lint check --no-cache`` (no result cache, no store),
  project mode off / on, the command's default jobs.

flake8's *added cost* is ``stl-x / base - 1``. The project-mode setting is written in a
temporary ``pyproject.toml`` table at the top of each target, restored afterwards, so the runs
differ in that key only.

``--analysis`` measures project mode's own cost in this process instead, with less noise than
whole subprocesses: the analysis of every file of the target that the prefilter lets through,
read alone (off), with an empty summary store (cold) and with the store filled (warm).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CORPUS_DIR, child_env, venv_bin  # noqa: E402

CONFIGS = ("base", "stl-off", "stl-cold", "stl-index", "stl-warm", "stl-edit-end", "stl-edit-top", "cli-off", "cli-on")
SRC = Path(__file__).resolve().parent.parent / "src"


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system, the process and its children) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)}: exit {code}: {err[-2000:].decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def shared_module(target: Path) -> Path:
    """The module of ``target`` that the most other modules import (absolute or relative imports)."""
    sys.path.insert(0, str(SRC))
    from starlette_lint.layout import module_name, package_root

    modules: dict[str, Path] = {}
    for path in sorted(target.rglob("*.py")):
        name = module_name(str(path), package_root(path))
        if name:
            modules[name] = path
    importers: Counter[str] = Counter()
    for name, path in modules.items():
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        seen: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                seen.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                seen.add(module)
                seen.update(f"{module}.{alias.name}" for alias in node.names)
        importers.update(m for m in seen if m in modules and m != name)
    return modules[importers.most_common(1)[0][0]]


def run(target: Path, rounds: int) -> tuple[dict[str, tuple[float, float, float]], dict[str, list[float]]]:
    """The best (wall, peak MB, CPU) of each configuration, and each round's CPU seconds."""
    shared = shared_module(target)
    print(f"{target.name}: edits {shared.relative_to(target)}", file=sys.stderr)
    table = target / "pyproject.toml"
    saved = table.read_bytes() if table.exists() else None
    store = Path(tempfile.mkdtemp(prefix="stl-store-"))
    flake8_stl, flake8_base = str(venv_bin("stl", "flake8")), str(venv_bin("base", "flake8"))
    cli = str(venv_bin("stl", "starlette-lint"))
    env = child_env()  # (the warm-up run below writes the package's bytecode)
    best: dict[str, tuple[float, float, float]] = {}
    per_round: dict[str, list[float]] = {}

    def note(cfg: str, sample: tuple[float, float, float]) -> None:
        per_round.setdefault(cfg, []).append(sample[2])
        old = best.get(cfg)
        best[cfg] = (min(old[0], sample[0]), max(old[1], sample[1]), min(old[2], sample[2])) if old else sample

    def mode(on: bool) -> None:
        table.write_text(f"[tool.starlette-lint]\nproject-mode = {'true' if on else 'false'}\n", encoding="utf-8")

    try:
        # warm-up (not measured): bytecode written, files in the page cache
        mode(False)
        measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                {**env, "STARLETTE_LINT_CACHE_DIR": ""})
        measure([cli, "check", "--no-cache", "--exit-zero", "-q", "."], target, env)
        for _ in range(rounds):
            note("base", measure([flake8_base, "--isolated", "-j1", "--select", "E,W,F", "."], target, env))
            mode(False)
            note("stl-off", measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                                    {**env, "STARLETTE_LINT_CACHE_DIR": ""}))
            note("cli-off", measure([cli, "check", "--no-cache", "--exit-zero", "-q", "."], target, env))
            mode(True)
            shutil.rmtree(store, ignore_errors=True)
            with_store = {**env, "STARLETTE_LINT_CACHE_DIR": str(store)}
            note("stl-cold", measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                                     with_store))
            shutil.rmtree(store / "v1", ignore_errors=True)  # the results: as after an edit of each file
            note("stl-index", measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                                      with_store))
            note("stl-warm", measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                                     with_store))
            for cfg, edit in (("stl-edit-end", lambda text: text + "\n\ndef _benchmark_edit():\n    return None\n"),
                              ("stl-edit-top", lambda text: "# benchmark edit\n" + text)):
                original = shared.read_bytes()
                shared.write_text(edit(original.decode("utf-8")), encoding="utf-8")
                try:
                    note(cfg, measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target,
                                      with_store))
                finally:
                    shared.write_bytes(original)
                # back to the store of the unedited tree (the entries the edited run renewed hold again)
                measure([flake8_stl, "--isolated", "-j1", "--select", "E,W,F,STL", "."], target, with_store)
            note("cli-on", measure([cli, "check", "--no-cache", "--exit-zero", "-q", "."], target, env))
    finally:
        if saved is None:
            table.unlink(missing_ok=True)
        else:
            table.write_bytes(saved)
        shutil.rmtree(store, ignore_errors=True)
    return best, per_round


def analysis(target: Path, rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` seconds of the analysis alone, in this process: off, cold, warm."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from starlette_lint import project
    from starlette_lint.engine import analyze_source
    from starlette_lint.framework import NOWHERE

    files = [(str(p), p.read_bytes()) for p in sorted(target.rglob("*.py"))]
    best: dict[str, float] = {}
    for _ in range(rounds):
        store = tempfile.mkdtemp(prefix="stl-store-")
        try:
            for cfg in ("off", "cold", "warm"):
                project.clear()
                start = time.perf_counter()
                for path, source in files:
                    elsewhere = NOWHERE if cfg == "off" else project.view_for(path, store)
                    analyze_source(source, path, elsewhere=elsewhere).release()
                best[cfg] = min(best.get(cfg, float("inf")), time.perf_counter() - start)
        finally:
            shutil.rmtree(store, ignore_errors=True)
    return best


def lines(target: Path) -> int:
    total = 0
    for path in target.rglob("*.py"):
        try:
            total += path.read_bytes().count(b"\n")
        except OSError:
            pass
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", type=Path, help="folders to check (default: corpus (b))")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--analysis", action="store_true", help="time the analysis alone, in this process")
    args = parser.parse_args(argv)
    targets = args.targets or [CORPUS_DIR / "b"]
    if args.analysis:
        print("| target | lines | analysis, off | cold | warm |")
        print("|---|---:|---:|---:|---:|")
        for target in targets:
            t = analysis(target.resolve(), args.rounds)
            print(f"| {target.name} | {lines(target):,} | {t['off']:.2f} s | {t['cold']:.2f} s "
                  f"(+{t['cold'] / t['off'] - 1:.0%}) | {t['warm']:.2f} s (+{t['warm'] / t['off'] - 1:.0%}) |",
                  flush=True)
        return 0
    if not venv_bin("stl", "flake8").exists():
        print("the benchmark venvs are not built: python benchmarks/build_corpus.py", file=sys.stderr)
        return 2
    print("| target | lines | flake8 | + STL, off | + STL, cold | + STL, warm index | + STL, warm | + STL, edit at end "
          "| + STL, edit at top | check, off | check, on | peak MB (check on) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        best, per_round = run(target.resolve(), args.rounds)

        def added(cfg: str, i: int) -> str:
            return f"{best[cfg][i]:.2f} s ({best[cfg][i] / best['base'][i] - 1:+.2f})"

        for what, i in (("wall", 0), ("CPU", 2)):  # CPU time varies less on a shared machine
            ratio = best["cli-on"][i] / best["cli-off"][i]
            print(f"| {target.name} ({what}) | {lines(target):,} | {best['base'][i]:.2f} s | {added('stl-off', i)} | "
                  f"{added('stl-cold', i)} | {added('stl-index', i)} | {added('stl-warm', i)} | {added('stl-edit-end', i)} | "
                  f"{added('stl-edit-top', i)} | {best['cli-off'][i]:.2f} s | "
                  f"{best['cli-on'][i]:.2f} s ({ratio:.2f}x) | {best['cli-on'][1]:.0f} |", flush=True)
        # This VM's speed drifts between runs: the best of each configuration may pair a fast
        # moment of one with a slow moment of another. Each round's ratio to that round's bare
        # flake8 (run just before) drifts less; their median is the steadier figure.
        base = per_round["base"]

        def paired(cfg: str) -> str:
            return f"{statistics.median(c / b - 1 for c, b in zip(per_round[cfg], base)):+.2f}"

        cli = statistics.median(on / off for on, off in zip(per_round["cli-on"], per_round["cli-off"]))
        print(f"| {target.name} (CPU, median of the rounds' ratios) | | {statistics.median(base):.2f} s | "
              f"{paired('stl-off')} | {paired('stl-cold')} | {paired('stl-index')} | {paired('stl-warm')} | "
              f"{paired('stl-edit-end')} | {paired('stl-edit-top')} | | {cli:.2f}x | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
