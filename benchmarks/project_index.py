"""Time and size of the project index (project mode's summaries, ``starlette_lint.project``).

For every package root of every project of a corpus, summarise all its modules from Python's
``ast`` and report lines, files, seconds, lines per second and the peak memory of the
summaries; and, for the same files, the cost of parsing them with LibCST, for comparison
(the per-file analysis parses every checked file with LibCST anyway).

    python benchmarks/project_index.py --corpus b
    python benchmarks/project_index.py --corpus p --no-libcst

Numbers go to stdout as a Markdown table; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from starlette_lint.project import ProjectIndex, package_root  # noqa: E402

CORPUS = Path(__file__).resolve().parent / ".corpus"


def roots(project: Path) -> list[Path]:
    """The package roots of a project: the folders that hold its top-level packages."""
    found: set[Path] = set()
    for folder, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "site-packages")]
        if "__init__.py" in files:
            found.add(package_root(Path(folder) / "__init__.py"))
            dirs[:] = []  # the rest of this package has the same root
    return sorted(found)


def build(project_roots: list[Path]) -> tuple[float, list[str]]:
    """Every module of every root summarised: (seconds, the modules' paths)."""
    started = time.perf_counter()
    paths = [summary.path for root in project_roots for summary in ProjectIndex(root).modules()]
    return time.perf_counter() - started, paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="b", help="corpus folder under benchmarks/.corpus (default: b)")
    parser.add_argument("--no-libcst", action="store_true", help="skip the LibCST comparison")
    args = parser.parse_args(argv)
    base = CORPUS / args.corpus
    if not base.is_dir():
        print(f"no corpus {base}: run benchmarks/build_corpus.py first", file=sys.stderr)
        return 2
    print("| project | package roots | modules | lines | index (s) | lines/s | peak memory (MB) | LibCST parse (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for project in sorted(p for p in base.iterdir() if p.is_dir()):
        project_roots = roots(project)
        seconds, paths = build(project_roots)
        modules = len(paths)
        lines = 0
        tracemalloc.start()  # a second build, for its memory only (tracemalloc slows allocation down)
        build(project_roots)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        for path in paths:
            with open(path, "rb") as f:
                lines += f.read().count(b"\n")
        libcst = "-"
        if not args.no_libcst:
            import libcst as cst

            started = time.perf_counter()
            for path in paths:
                try:
                    cst.parse_module(Path(path).read_bytes())
                except Exception:  # noqa: BLE001 - a file LibCST cannot parse costs what it cost
                    pass
            libcst = f"{time.perf_counter() - started:.2f}"
        rate = f"{lines / seconds:,.0f}" if seconds else "-"
        print(f"| {project.name} | {len(project_roots)} | {modules:,} | {lines:,} | {seconds:.2f} | {rate} | "
              f"{peak:.0f} | {libcst} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
