"""Time flake8, flake8 + starlette-lint, flake8 + flake8-async and `starlette-lint check` on the corpora.

    python benchmarks/build_corpus.py      # once: venvs + corpora (a few minutes)
    python benchmarks/run.py               # full run: 3 interleaved rounds on corpora a, b, c
    python benchmarks/run.py --quick       # smoke run: 1 round, corpus (a) only

Every command runs in its own subprocess (flake8 with --isolated -j1, cwd = the corpus folder);
wall time, CPU time and peak RSS (os.wait4's rusage of that one child) are recorded. Rounds
are interleaved: each round runs every configuration once on each corpus, in turn. flake8-async
is slow (~1.5 ms per line), so it runs in --async-rounds of the rounds only (default 1, the
middle round), still interleaved with the others. Exit codes 0 and 1 both count as success.

Output: a markdown report on stdout and benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CLI_CACHE_NAME,
    CORPORA,
    CORPUS_DIR,
    DEFAULT_CORPORA,
    PROJECT,
    RESULTS,
    child_env,
    cli_status,
    die,
    install_project,
    load_manifest,
    probe_venv,
    project_has_pyproject,
    stl_plugin_status,
    venv_bin,
    venv_dir,
)

CONFIG_ORDER = ["base", "stl", "async", "cli-cold", "cli-warm"]
LABELS = {
    "base": "bare flake8 (E,W,F)",
    "stl": "flake8 + starlette-lint (E,W,F,STL)",
    "async": "flake8 + flake8-async (E,W,F,ASYNC)",
    "cli-cold": "starlette-lint check, cold",
    "cli-warm": "starlette-lint check, warm",
}
LONG = {"wall": "wall time", "cpu": "CPU time (user + sys)"}
# Targets from the project issue.
MAX_STL_ADDED_COST = {"a": 1.0, "b": 0.30, "b0": 0.30, "c": 0.05}
MIN_ASYNC_OVER_STL_ADDED = 10.0
BUSY = 1.25  # median wall / CPU time above which the machine counts as busy
MAX_WARM_OVER_COLD = 0.10

FLAKE8_CODE = re.compile(rb"^.*?:\d+:\d+: ([A-Z]+)\d+", re.M)
STL_CODE = re.compile(rb"\bSTL\d{3}\b")
CRASH_MARKERS = (b"critical error during execution", b"Traceback (most recent call last)")

WARMUP_SOURCE = '''\
import time
from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@router.get("/")
async def index():
    time.sleep(1)
    return {"ok": True}


app.include_router(router)
'''


@dataclass
class Sample:
    round: int
    wall: float
    user: float
    sys: float
    maxrss_kib: int | None
    rc: int
    findings: dict[str, int] = field(default_factory=dict)


@dataclass
class Cell:
    """One configuration on one corpus."""

    samples: list[Sample] = field(default_factory=list)
    status: str = "ok"  # ok | skipped | failed
    note: str = ""


# ------------------------------------------------------------------ running one command
def run_measured(cmd: list[str], cwd: Path, timeout: float) -> tuple[float, float, float, int | None, int, bytes, bytes]:
    """Run cmd in its own process; (wall, user, sys, maxrss KiB, rc, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=child_env())
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            if hasattr(os, "wait4"):
                _, status, ru = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - t0
                proc.returncode = os.waitstatus_to_exitcode(status)
                rss = ru.ru_maxrss // 1024 if sys.platform == "darwin" else ru.ru_maxrss
                user, system = ru.ru_utime, ru.ru_stime
            else:  # pragma: no cover - no per-child rusage on this platform
                proc.wait()
                wall = time.perf_counter() - t0
                rss, user, system = None, float("nan"), float("nan")
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        return wall, user, system, rss, proc.returncode, out.read(), err.read()


def count_findings(stdout: bytes, cli: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    if cli:
        n = sum(1 for line in stdout.splitlines() if STL_CODE.search(line))
        return {"STL": n} if n else {}
    for m in FLAKE8_CODE.finditer(stdout):
        key = m.group(1).decode()
        counts[key] = counts.get(key, 0) + 1
    return counts


# ------------------------------------------------------------------ the configurations
class Bench:
    def __init__(self, args: argparse.Namespace, manifest: dict):
        self.args = args
        self.manifest = manifest
        self.notes: list[str] = []
        self.cli_flags: dict = {}
        self.cli_cache_targets: dict[str, list[Path]] = {}
        self.scratch = CORPUS_DIR / ".bench-scratch"
        self.started = time.time()

    # --- commands
    def flake8(self, venv: str, select: str) -> list[str]:
        return [str(venv_bin(venv, "flake8")), "--isolated", "-j1", "--select", select, "."]

    def cli(self, corpus: str) -> list[str]:
        cmd = [str(venv_bin("stl", "starlette-lint")), "check"]
        f = self.cli_flags
        if f.get("isolated"):
            cmd.append("--isolated")
        if f.get("jobs") and self.args.cli_jobs:
            cmd += [f["jobs"], str(self.args.cli_jobs)]
        if f.get("cache_dir"):
            cmd += ["--cache-dir", str(self.scratch / "cli-cache" / corpus)]
        return cmd + ["."]

    def command(self, cfg: str, corpus: str) -> list[str]:
        if cfg == "base":
            return self.flake8("base", "E,W,F")
        if cfg == "stl":
            return self.flake8("stl", "E,W,F,STL")
        if cfg == "async":
            return self.flake8("async", "E,W,F,ASYNC")
        return self.cli(corpus)

    def clear_cli_cache(self, corpus: str, cwd: Path) -> None:
        targets = self.cli_cache_targets.setdefault(
            corpus, [self.scratch / "cli-cache" / corpus] if self.cli_flags.get("cache_dir") else [cwd / CLI_CACHE_NAME])
        for t in targets:
            if t.is_dir():
                shutil.rmtree(t)
            elif t.exists():
                t.unlink()

    def locate_cli_cache(self, corpus: str, cwd: Path, since: float) -> None:
        """After a cold run: note where the cache went if it is not where we delete it."""
        targets = self.cli_cache_targets[corpus]
        if any(t.exists() for t in targets):
            return
        for where in (cwd, CORPUS_DIR, PROJECT, Path.home()):
            cand = where / CLI_CACHE_NAME
            if cand.exists() and cand.stat().st_mtime >= since - 1:
                targets.append(cand)
                self.notes.append(f"the CLI wrote its cache to {cand}; it is deleted before every cold run")
                return
        note = (f"no {CLI_CACHE_NAME} was found after the cold run on ({corpus}); "
                "the warm run may not be using a cache")
        if note not in self.notes:
            self.notes.append(note)

    # --- availability
    def available_configs(self) -> dict[str, str]:
        """config -> '' if available, else the reason it is skipped."""
        want = set(self.args.configs)
        out: dict[str, str] = {}
        for venv in ("base", "stl", "async"):
            if not venv_bin(venv, "flake8").exists():
                die(f"{venv_dir(venv)} is missing: run `python benchmarks/build_corpus.py` first")
        out["base"] = ""
        ok, why, _ = stl_plugin_status()
        if not ok and project_has_pyproject() and not self.args.no_install and ({"stl", "cli"} & want):
            print(f"starlette-lint is not usable in .venv-stl ({why}); trying `pip install -e`", file=sys.stderr)
            installed, msg = install_project()
            ok, why, _ = stl_plugin_status()
            if not installed:
                why = msg
        out["stl"] = "" if ok else f"starlette-lint flake8 plugin not available: {why}"
        info = probe_venv("async")
        has_async = any(e.startswith("ASY") for e in info.get("eps", []))
        out["async"] = "" if has_async else "flake8-async is not installed in .venv-async"
        cli_ok, cli_why, flags = cli_status()
        self.cli_flags = flags
        reason = "" if cli_ok else f"CLI not available: {cli_why}"
        out["cli-cold"] = out["cli-warm"] = reason
        for cfg in list(out):
            group = "cli" if cfg.startswith("cli") else cfg
            if group not in want:
                out[cfg] = "not selected (--configs)"
        return out

    # --- warm-up: byte-compile every venv, fill the page cache, check that each config runs at all
    def warm_up(self, cells: dict[str, dict[str, Cell]], avail: dict[str, str], corpora: list[str]) -> None:
        wdir = self.scratch / "warmup"
        wdir.mkdir(parents=True, exist_ok=True)
        (wdir / "app.py").write_text(WARMUP_SOURCE)
        for key in corpora:
            for p in (CORPUS_DIR / key).rglob("*.py"):
                p.read_bytes()
        for cfg in CONFIG_ORDER:
            if avail[cfg]:
                continue
            if cfg == "cli-cold":
                self.clear_cli_cache("warmup", wdir)
            wall, _, _, _, rc, out, err = run_measured(self.command(cfg, "warmup"), wdir, 300)
            if rc not in (0, 1) or any(m in err for m in CRASH_MARKERS):
                avail[cfg] = f"fails on a one-file project (exit {rc}): {err.decode(errors='replace').strip()[-300:]}"
                print(f"warm-up: {cfg} FAILED: {avail[cfg]}", file=sys.stderr)
            else:
                print(f"warm-up: {cfg:9} ok ({wall:.2f} s)", file=sys.stderr)
        for key in corpora:
            for cfg in CONFIG_ORDER:
                if avail[cfg]:
                    cells[key][cfg].status = "skipped"
                    cells[key][cfg].note = avail[cfg]

    # --- the timed rounds
    def run(self) -> dict:
        args = self.args
        corpora = args.corpus
        avail = self.available_configs()
        cells = {k: {c: Cell() for c in CONFIG_ORDER} for k in corpora}
        self.warm_up(cells, avail, corpora)
        async_rounds = pick_rounds(args.rounds, min(args.async_rounds, args.rounds))
        t_start = time.perf_counter()
        for r in range(args.rounds):
            for key in corpora:
                cwd = CORPUS_DIR / key
                for cfg in CONFIG_ORDER:
                    cell = cells[key][cfg]
                    if cell.status != "ok":
                        continue
                    if cfg == "async" and r not in async_rounds:
                        continue
                    if cfg == "cli-warm" and not any(s.round == r for s in cells[key]["cli-cold"].samples):
                        continue
                    if cfg == "cli-cold":
                        self.clear_cli_cache(key, cwd)
                    since = time.time()
                    wall, user, system, rss, rc, out, err = run_measured(self.command(cfg, key), cwd, args.timeout)
                    if cfg == "cli-cold":
                        self.locate_cli_cache(key, cwd, since)
                    crashed = rc not in (0, 1) or any(m in err for m in CRASH_MARKERS)
                    mib = f"{rss / 1024:.0f} MiB" if rss else "? MiB"
                    print(f"round {r + 1}/{args.rounds}  ({key})  {cfg:9} {wall:8.2f} s  {mib:>8}  exit {rc}"
                          + ("  FAILED" if crashed else ""), file=sys.stderr, flush=True)
                    if crashed:
                        cell.status = "failed"
                        cell.note = f"exit {rc}: " + err.decode(errors="replace").strip()[-400:]
                        continue
                    cell.samples.append(Sample(r, wall, user, system, rss, rc, count_findings(out, cfg.startswith("cli"))))
        self.elapsed = time.perf_counter() - t_start
        return self.report(cells, async_rounds)

    # ------------------------------------------------------------------ report
    def report(self, cells: dict[str, dict[str, Cell]], async_rounds: set[int]) -> dict:
        args = self.args
        corpora_info = {k: self.manifest["corpora"][k] for k in args.corpus}
        runs: dict = {}
        derived: dict = {}
        targets: list[dict] = []
        for key in args.corpus:
            lines = corpora_info[key]["lines"]
            runs[key] = {}
            for cfg, cell in cells[key].items():
                entry: dict = {"label": LABELS[cfg], "status": cell.status, "note": cell.note,
                               "samples": [vars(s) for s in cell.samples]}
                if cell.samples:
                    walls = [s.wall for s in cell.samples]
                    cpus = [s.user + s.sys for s in cell.samples]
                    med = statistics.median(walls)
                    rss = [s.maxrss_kib for s in cell.samples if s.maxrss_kib]
                    entry.update(runs=len(walls), median_s=med, min_s=min(walls), max_s=max(walls),
                                 median_cpu_s=statistics.median(cpus), lines_per_s=lines / med if med else None,
                                 peak_rss_mib=max(rss) / 1024 if rss else None,
                                 findings=cell.samples[-1].findings)
                elif cell.status == "ok":
                    entry["status"], entry["note"] = "skipped", "not run"
                runs[key][cfg] = entry
            derived[key] = self.derive(runs[key])
            self.sanity(key, runs[key])
        busy_cells = [e["median_s"] / e["median_cpu_s"] for r in runs.values() for e in r.values()
                      if e.get("median_s") and e.get("median_cpu_s")]
        busy = statistics.median(busy_cells) if busy_cells else 1.0
        metric = args.metric
        if metric == "auto":
            metric = "cpu" if busy > BUSY else "wall"
        if busy > BUSY:
            self.notes.append(f"the machine was busy: wall time was {busy:.1f}x the CPU time (median over all cells), "
                              "so wall-time ratios are distorted; CPU time (user + sys) is steadier"
                              + (" and the targets are judged on it" if metric == "cpu" else ""))
        for key in args.corpus:
            targets += self.check_targets(key, derived[key], runs[key], metric,
                                          parsed_lines=self.manifest["corpora"][key].get("prefilter_lines"))
            times = [_sample_time(x, metric) for x in runs[key]["base"].get("samples", [])]
            if len(times) > 1:
                spread = (max(times) - min(times)) / statistics.median(times)
                added = derived[key][metric].get("stl_added_cost")
                if added is not None and spread > abs(added - MAX_STL_ADDED_COST[key]):
                    best = derived[key][metric].get("stl_added_cost_best")
                    self.notes.append(
                        f"({key}) the bare flake8 runs ranged {min(times):.2f}-{max(times):.2f} s ({spread:.0%} of their "
                        f"median), more than the distance between the added cost ({added:+.3f}) and its target "
                        f"({MAX_STL_ADDED_COST[key]:.2f}): this verdict is within the machine's noise"
                        + (f" (ratio of the fastest runs: {best:+.3f})" if best is not None else ""))
            warm = runs[key]["cli-warm"]
            ratio = derived[key][metric].get("cli_warm_over_cold")
            if ratio is not None and ratio > MAX_WARM_OVER_COLD and warm.get("median_cpu_s", 9) < 1.0:
                self.notes.append(f"({key}) the warm CLI run ({warm['median_s']:.2f} s) is about the command's start-up "
                                  "(interpreter + imports), which bounds warm/cold from below")
            cold_by_round = {s.round: s.wall for s in cells[key]["cli-cold"].samples}
            for s in cells[key]["cli-warm"].samples:
                cold = cold_by_round.get(s.round)
                if cold and cold > 2 and s.wall > 0.5 * cold:
                    self.notes.append(f"({key}) round {s.round + 1}: the warm CLI run took {s.wall:.2f} s after a "
                                      f"{cold:.2f} s cold run, so the cache was not used (.venv-stl is an editable "
                                      "install: edits to the project between the two runs invalidate the cache)")
        result = {
            "meta": {
                "date": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
                "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                "rounds": args.rounds, "metric": metric, "busy": busy, "async_rounds": sorted(r + 1 for r in async_rounds),
                "corpora": args.corpus, "configs": args.configs, "cli_jobs": args.cli_jobs,
                "cli_flags": self.cli_flags, "elapsed_s": self.elapsed,
                "venvs": {v: probe_venv(v) for v in ("base", "stl", "async")},
                "commands": {c: self.command(c, "<corpus>") for c in CONFIG_ORDER},
            },
            "corpora": corpora_info, "runs": runs, "derived": derived, "targets": targets, "notes": self.notes,
        }
        return result

    @staticmethod
    def derive(r: dict) -> dict:
        """Ratios from medians of wall time ("wall") and of CPU time, user + sys ("cpu")."""
        d: dict = {}
        for metric, field_name in (("wall", "median_s"), ("cpu", "median_cpu_s")):
            def med(cfg: str) -> float | None:
                return r[cfg].get(field_name)

            m: dict = {}
            base = med("base")
            for cfg in ("stl", "async"):
                if base and med(cfg) is not None:
                    m[f"{cfg}_added_cost"] = med(cfg) / base - 1
                    m[f"{cfg}_added_s"] = med(cfg) - base
            if "stl_added_s" in m and "async_added_s" in m:
                m["async_over_stl_added"] = (m["async_added_s"] / m["stl_added_s"]) if m["stl_added_s"] > 0 else math.inf
            if med("cli-cold") and med("cli-warm") is not None:
                m["cli_warm_over_cold"] = med("cli-warm") / med("cli-cold")
            # The same ratio round by round (each configuration against the bare flake8 run of
            # its own round), median over the rounds: steadier than the ratio of medians when
            # the machine's speed drifts during the run. Reported, not judged.
            for cfg in ("stl", "async"):
                paired = _paired(r["base"].get("samples", []), r[cfg].get("samples", []), metric)
                if paired:
                    m[f"{cfg}_added_cost_paired"] = statistics.median(paired)
                # and on the fastest run of each: noise on a VM only ever adds time
                best = _best(r["base"].get("samples", []), metric), _best(r[cfg].get("samples", []), metric)
                if best[0] and best[1] is not None:
                    m[f"{cfg}_added_cost_best"] = best[1] / best[0] - 1
            d[metric] = m
        return d

    @staticmethod
    def check_targets(key: str, d: dict, r: dict, metric: str, parsed_lines: int | None = None) -> list[dict]:
        """PASS/FAIL/SKIP rows. ``parsed_lines``: lines of the corpus that pass starlette-lint's prefilter."""
        other = "cpu" if metric == "wall" else "wall"

        def why_missing(*cfgs: str) -> str:
            notes = dict.fromkeys(r[c]["note"] for c in cfgs if r[c].get("median_s") is None and r[c]["note"])
            text = "; ".join(notes)
            return text if len(text) <= 100 else text[:97] + "..."

        def row(name: str, what: str, target: str, ok, why: list[str]) -> dict:
            v = d[metric].get(what)
            return {"corpus": key, "metric": name, "judged_on": metric, "value": v, f"value_{other}": d[other].get(what),
                    "target": target, "result": "SKIP" if v is None else ("PASS" if ok(v) else "FAIL"),
                    "why": "" if v is not None else why_missing(*why)}

        lim = MAX_STL_ADDED_COST[key]
        warm_cold = row("CLI warm / cold", "cli_warm_over_cold", f"<= {MAX_WARM_OVER_COLD:.2f}",
                        lambda v: v <= MAX_WARM_OVER_COLD, ["cli-cold", "cli-warm"])
        if parsed_lines == 0 and warm_cold["result"] != "SKIP":
            # the cache saves parsing; a cold run that parses nothing is start-up and file reads, like the warm one
            warm_cold.update(result="n/a", why="nothing to cache: no file passes the prefilter, so the cold run "
                                               "parses nothing")
        return [
            row("STL added cost (flake8+STL / flake8 - 1)", "stl_added_cost", f"<= {lim:.2f}",
                lambda v: v <= lim, ["base", "stl"]),
            row("added time ASYNC / added time STL", "async_over_stl_added", f">= {MIN_ASYNC_OVER_STL_ADDED:.0f}",
                lambda v: v >= MIN_ASYNC_OVER_STL_ADDED, ["base", "stl", "async"]),
            warm_cold,
        ]

    def sanity(self, key: str, r: dict) -> None:
        def ewf(cfg: str) -> int | None:
            f = r[cfg].get("findings")
            return None if f is None else sum(n for c, n in f.items() if c in ("E", "W", "F"))

        base = ewf("base")
        for cfg in ("stl", "async"):
            n = ewf(cfg)
            if base is not None and n is not None and n != base:
                self.notes.append(f"({key}) {cfg}: {n} E/W/F findings vs {base} with bare flake8")
        f8 = (r["stl"].get("findings") or {}).get("STL")
        for cfg in ("cli-cold", "cli-warm"):
            f = r[cfg].get("findings")
            if f is not None and r["stl"].get("findings") is not None and f.get("STL", 0) != (f8 or 0):
                self.notes.append(f"({key}) {cfg}: {f.get('STL', 0)} STL findings vs {f8 or 0} from flake8 + starlette-lint")


def _sample_time(sample: dict, metric: str) -> float:
    """One run's time: wall, or CPU (user + sys)."""
    return sample["wall"] if metric == "wall" else sample["user"] + sample["sys"]


def _best(samples: list[dict], metric: str) -> float | None:
    return min((_sample_time(s, metric) for s in samples), default=None)


def _paired(base: list[dict], other: list[dict], metric: str) -> list[float]:
    """Per round: t(other) / t(base) - 1, for the rounds where both ran."""
    by_round = {s["round"]: _sample_time(s, metric) for s in base}
    return [_sample_time(s, metric) / by_round[s["round"]] - 1 for s in other if by_round.get(s["round"])]


def pick_rounds(rounds: int, k: int) -> set[int]:
    """k of the rounds, spread evenly (k=1: the middle one)."""
    if k <= 0:
        return set()
    return {min(rounds - 1, max(0, round((i + 0.5) * rounds / k - 0.5))) for i in range(k)}


# ------------------------------------------------------------------ markdown
def fmt(v, spec: str = ".2f", none: str = "—") -> str:
    if v is None:
        return none
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return format(v, spec)


def markdown(res: dict) -> str:
    m = res["meta"]
    out = []
    ar = ", ".join(map(str, m["async_rounds"]))
    ar = f"flake8-async in round(s) {ar}" if ar and "async" in m["configs"] else "flake8-async not run"
    out.append(f"## starlette-lint benchmark — {m['date']}\n")
    out.append(f"Python {m['python']}, {m['cpus']} CPUs, {m['rounds']} interleaved round(s) "
               f"({ar}); medians; flake8 runs with --isolated -j1.\n")
    out.append("### Corpora\n")
    out.append("| corpus | packages | files | lines | lines in files importing starlette/fastapi/uvicorn "
               "| lines starlette-lint parses |")
    out.append("|---|---|---:|---:|---:|---:|")
    for key, c in res["corpora"].items():
        pk = ", ".join(f"{p['name']} {p['version']}" for p in c["packages"])
        share = c["framework_import_lines"] / c["lines"] if c["lines"] else 0
        parsed = c.get("prefilter_lines", 0) / c["lines"] if c["lines"] else 0
        out.append(f"| ({key}) {c['title']} | {pk} | {c['files']:,} | {c['lines']:,} | "
                   f"{c['framework_import_lines']:,} ({share:.0%}) | {c.get('prefilter_lines', 0):,} ({parsed:.0%}) |")
    out.append("\n### Timings\n")
    out.append("| corpus | configuration | runs | median s | min s | lines/s | CPU s | peak RSS MiB | findings "
               "| added cost (wall / CPU) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for key, runs in res["runs"].items():
        dw, dc = res["derived"][key]["wall"], res["derived"][key]["cpu"]
        for cfg, e in runs.items():
            if e.get("median_s") is None:
                out.append(f"| ({key}) | {e['label']} | 0 | {e['status']} | | | | | | |")
                continue
            findings = ", ".join(f"{c} {n:,}" for c, n in sorted(e["findings"].items())) or "0"
            extra = ""
            if cfg in ("stl", "async") and cfg + "_added_cost" in dw:
                extra = f"{dw[cfg + '_added_cost']:+.3f} / {fmt(dc.get(cfg + '_added_cost'), '+.3f')}"
                if e["runs"] > 1 and cfg + "_added_cost_paired" in dw:
                    extra += f" (paired {dw[cfg + '_added_cost_paired']:+.3f}, best runs {dw[cfg + '_added_cost_best']:+.3f})"
            elif cfg == "cli-warm" and "cli_warm_over_cold" in dw:
                extra = f"warm/cold {dw['cli_warm_over_cold']:.3f} / {fmt(dc.get('cli_warm_over_cold'), '.3f')}"
            out.append(f"| ({key}) | {e['label']} | {e['runs']} | {e['median_s']:.2f} | {e['min_s']:.2f} | "
                       f"{fmt(e['lines_per_s'], ',.0f')} | {e['median_cpu_s']:.2f} | {fmt(e['peak_rss_mib'], '.0f')} | "
                       f"{findings} | {extra} |")
    out.append("\n### Targets\n")
    other = "cpu" if m["metric"] == "wall" else "wall"
    out.append(f"Judged on medians of {LONG[m['metric']]}; the other column uses {LONG[other]}.\n")
    out.append(f"| corpus | metric | value ({m['metric']}) | value ({other}) | target | result |")
    out.append("|---|---|---:|---:|---:|---|")
    for t in res["targets"]:
        result = t["result"] + (f" ({t['why']})" if t["result"] in ("SKIP", "n/a") and t["why"] else "")
        out.append(f"| ({t['corpus']}) | {t['metric']} | {fmt(t['value'], '.3f')} | {fmt(t['value_' + other], '.3f')} "
                   f"| {t['target']} | {result} |")
    skipped: dict[str, list[str]] = {}
    for runs in res["runs"].values():
        for e in runs.values():
            if e.get("median_s") is None and e["note"] and e["label"] not in skipped.setdefault(e["note"], []):
                skipped[e["note"]].append(e["label"])
    notes = [f"{' / '.join(labels)}: {note}" for note, labels in skipped.items()] + res["notes"]
    if notes:
        out.append("\nNotes:\n")
        out += [f"- {n}" for n in dict.fromkeys(notes)]
    out.append(f"\nTimed part took {m['elapsed_s']:.0f} s.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 round, corpus (a) only")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)")
    ap.add_argument("--async-rounds", type=int, default=1,
                    help="rounds in which flake8-async runs, spread over the rounds (default 1: it is slow)")
    ap.add_argument("--corpus", default=None,
                    help=f"comma separated subset of {','.join(CORPORA)} (default {','.join(DEFAULT_CORPORA)}; a with --quick)")
    ap.add_argument("--configs", default="base,stl,async,cli", help="subset of base,stl,async,cli (default: all)")
    ap.add_argument("--cli-jobs", type=int, default=1,
                    help="pass --jobs N to starlette-lint check if it has that option (default 1, like flake8 -j1; 0: don't)")
    ap.add_argument("--metric", choices=("auto", "wall", "cpu"), default="auto",
                    help="judge the targets on medians of wall time or of CPU time (user + sys); auto (default): "
                         "wall time unless the machine was busy (wall > 1.25x CPU); the report shows both")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one command is killed")
    ap.add_argument("--no-install", action="store_true", help="never try `pip install -e` of the project")
    ap.add_argument("--json", default=str(RESULTS), help=f"where to write the JSON results (default {RESULTS})")
    args = ap.parse_args(argv)
    if sys.version_info < (3, 10):
        ap.error("Python 3.10+ is required")
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    args.corpus = [c.strip() for c in (args.corpus or ("a" if args.quick else ",".join(DEFAULT_CORPORA))).split(",") if c.strip()]
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in args.configs:
        if c not in ("base", "stl", "async", "cli"):
            ap.error(f"unknown config {c!r}")
    manifest = load_manifest()
    if manifest is None:
        die("no corpus yet: run `python benchmarks/build_corpus.py` first")
    for c in args.corpus:
        if c not in CORPORA:
            ap.error(f"unknown corpus {c!r} (choose from {', '.join(CORPORA)})")
        if c not in manifest["corpora"] or not (CORPUS_DIR / c).is_dir():
            die(f"corpus ({c}) is not built: run `python benchmarks/build_corpus.py --corpus {c}`")
    if "base" not in args.configs:
        args.configs.insert(0, "base")  # every ratio is relative to bare flake8
    bench = Bench(args, manifest)
    res = bench.run()
    Path(args.json).write_text(json.dumps(res, indent=2, default=str) + "\n")
    print(markdown(res))
    print(f"\n(results written to {args.json})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
