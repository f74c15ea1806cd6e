#!/usr/bin/env python3
"""Build a table of the ``starlette`` requirement declared by each FastAPI release.

Standalone helper (Python 3.10+, stdlib only).  It asks pip (through the
package index pip is configured for) for the list of FastAPI versions, then
resolves each release's metadata with
``pip install --dry-run --no-deps --ignore-installed --report -`` (pip only
fetches the metadata file when the index offers it) and extracts the
``Requires-Dist: starlette...`` specifier.

Output (stdout): a compact Python literal for ``FASTAPI_STARLETTE`` in
``src/starlette_lint/versions.py``, a tuple of
``(first_fastapi_version, starlette_specifier)`` rows, one per run of
consecutive FastAPI versions sharing the same specifier.

Usage:
    python scripts/fastapi_starlette_table.py [--min-version 0.50.0]
        [--workers 8] [--raw-json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

PACKAGE = "fastapi"
DEPENDENCY = "starlette"

_RELEASE_RE = re.compile(r"^\d+(?:\.\d+)*$")  # final releases only
_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def list_versions() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", PACKAGE],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stdout.splitlines():
        if line.strip().startswith("Available versions:"):
            raw = line.split(":", 1)[1]
            versions = [v.strip() for v in raw.split(",") if v.strip()]
            # Skip pre-releases / dev / post releases: keep plain N.N.N only.
            return sorted((v for v in versions if _RELEASE_RE.match(v)), key=version_key)
    raise RuntimeError(f"could not parse `pip index versions` output:\n{proc.stdout}")


def parse_requirement(req: str) -> tuple[str, str, str] | None:
    """Return (name, specifier, marker) for a PEP 508 requirement string."""
    body, _, marker = req.partition(";")
    m = _NAME_RE.match(body)
    if not m:
        return None
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    spec = m.group(3).strip()
    if spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1]
    spec = re.sub(r"\s+", "", spec)
    # lower bounds first, as versions.FASTAPI_STARLETTE writes them (metadata often has "<x,>=y")
    spec = ",".join(sorted(spec.split(","), key=lambda clause: 0 if clause.startswith(">") else 1))
    return name, spec, marker.strip()


def fetch_specifier(version: str, retries: int = 2) -> str:
    cmd = [
        sys.executable, "-m", "pip", "install",
        "--dry-run", "--no-deps", "--ignore-installed", "--ignore-requires-python",
        "--disable-pip-version-check", "--quiet", "--report", "-",
        f"{PACKAGE}=={version}",
    ]
    last_err = ""
    for _ in range(retries + 1):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0:
            break
        last_err = proc.stderr.strip()
    else:
        raise RuntimeError(f"pip failed for {PACKAGE}=={version}: {last_err}")
    report = json.loads(proc.stdout)
    meta = report["install"][0]["metadata"]
    if meta.get("version") != version:
        raise RuntimeError(f"asked for {version}, got {meta.get('version')}")
    specs: list[str] = []
    for req in meta.get("requires_dist") or []:
        parsed = parse_requirement(req)
        if not parsed or parsed[0] != DEPENDENCY:
            continue
        name, spec, marker = parsed
        if "extra" in marker:  # only the unconditional / base requirement
            continue
        if spec not in specs:
            specs.append(spec)
    if not specs:
        return "<none>"
    # Several base lines (e.g. split by python_version marker): join them.
    return " | ".join(specs)


def compact(rows: dict[str, str]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for version in sorted(rows, key=version_key):
        spec = rows[version]
        if not out or out[-1][1] != spec:
            out.append((version, spec))
    return tuple(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-version", default="0.50.0",
                    help="oldest FastAPI version to include (default 0.50.0; use 0 for all)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--raw-json", default=None,
                    help="also write {version: specifier} JSON to this path")
    args = ap.parse_args()

    floor = version_key(args.min_version)
    versions = [v for v in list_versions() if version_key(v) >= floor]
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        specs = list(pool.map(fetch_specifier, versions))
    raw = dict(zip(versions, specs))

    if args.raw_json:
        with open(args.raw_json, "w", encoding="utf-8") as fh:
            json.dump(raw, fh, indent=1)
            fh.write("\n")

    table = compact(raw)
    print("(")
    for version, spec in table:
        print(f'    ("{version}", "{spec}"),')
    print(")")
    print(f"# {len(raw)} {PACKAGE} versions {versions[0]}..{versions[-1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
