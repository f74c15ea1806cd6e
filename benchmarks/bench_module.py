"""Micro benchmark: starlette-lint on one big FastAPI module vs. LibCST parsing alone.

    python benchmarks/bench_module.py              # 5,000-line module, median of 7
    python benchmarks/bench_module.py --lines 20000 --repeat 5 --keep

It generates a realistic, deterministic FastAPI endpoint module (many routers, pydantic
models, async endpoints with awaits and Depends, sync helpers, a few blocking calls), then
times ``libcst.parse_module`` alone and a full check of the same source, and prints
check / parse with the target <= 1.5 (the rules may cost at most half a parse).

The check runs in-process through the project's engine
(``starlette_lint.engine.check_source``) when it imports; otherwise through
``starlette-lint check --no-cache FILE`` in a subprocess, with the command's start-up time
(same command on an empty file) subtracted. The script re-runs itself with
benchmarks/.venvs/.venv-stl's Python when that venv exists (use --here to stay put).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CORPUS_DIR, cli_status, venv_bin, venv_dir  # noqa: E402

TARGET = 1.5

RESOURCES = [
    "user", "item", "order", "invoice", "product", "customer", "payment", "shipment", "review", "tag",
    "category", "cart", "coupon", "notification", "session", "team", "project", "task", "comment",
    "attachment", "webhook", "report", "audit_event", "setting", "subscription", "plan", "warehouse",
    "supplier", "refund", "address", "message", "channel", "device", "token", "organization", "membership",
    "invitation", "article", "page", "menu", "booking", "room", "ticket", "event", "venue", "survey",
    "answer", "badge", "score", "league", "match", "player", "course", "lesson", "quiz", "grade",
]

HEADER = '''\
"""Generated FastAPI service used by benchmarks/bench_module.py (not real code)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, AsyncIterator, Optional

import httpx
import requests
import uvicorn
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger("service")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")


class Settings(BaseModel):
    database_url: str = "sqlite:///./app.db"
    upstream_url: str = "http://upstream.invalid"
    page_size: int = 50
    debug: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings(database_url=os.environ.get("DATABASE_URL", "sqlite:///./app.db"))


class Database:
    """A tiny async database facade (stands in for databases/asyncpg)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = False

    async def connect(self) -> None:
        await asyncio.sleep(0)
        self.connected = True

    async def disconnect(self) -> None:
        await asyncio.sleep(0)
        self.connected = False

    async def fetch_one(self, query: str, values: Optional[dict[str, Any]] = None) -> Optional[dict[str, Any]]:
        await asyncio.sleep(0)
        return {"id": 1, "name": query[:10], "description": None, "created_at": datetime.now(timezone.utc)}

    async def fetch_all(self, query: str, values: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return []

    async def execute(self, query: str, values: Optional[dict[str, Any]] = None) -> int:
        await asyncio.sleep(0)
        return 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield


database = Database(get_settings().database_url)


async def get_db() -> AsyncIterator[Database]:
    if not database.connected:
        await database.connect()
    yield database


class User(BaseModel):
    id: int
    email: str
    is_active: bool = True
    is_superuser: bool = False


async def get_current_user(token: str = Depends(oauth2_scheme), db: Database = Depends(get_db)) -> User:
    row = await db.fetch_one("SELECT * FROM users WHERE token = :token", {"token": token})
    if row is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="invalid token")
    return User(id=row["id"], email=f"user{row['id']}@example.com")


async def get_superuser(user: User = Depends(get_current_user)) -> User:
    if not user.is_superuser:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="forbidden")
    return user


async def notify(event: str, object_id: int) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        await client.post(get_settings().upstream_url + "/events", json={"event": event, "id": object_id})


def paginate(rows: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    return {"items": rows[offset:offset + limit], "total": len(rows), "limit": limit, "offset": offset}
'''

FOOTER = '''

# ---------------------------------------------------------------- application


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await database.connect()
    logger.info("started with %d routers", len(ROUTERS))
    try:
        yield
    finally:
        await database.disconnect()


app = FastAPI(title="Generated service", version="1.0.0", lifespan=lifespan)
app.add_middleware(GZipMiddleware, minimum_size=1000)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

ROUTERS = [
{routers}
]
for _router in ROUTERS:
    app.include_router(_router, prefix="/api/v1")


@app.exception_handler(ValueError)
async def value_error_handler(request: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse(status_code=400, content={{"detail": str(exc)}})


@app.get("/health")
async def health(db: Database = Depends(get_db)) -> dict[str, str]:
    await db.fetch_one("SELECT 1")
    return {{"status": "ok"}}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8000)
'''

SECTION = '''

# ---------------------------------------------------------------- {plural}


class {C}Base(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    description: Optional[str] = None
{fields}

class {C}Create({C}Base):
    pass


class {C}Update(BaseModel):
    name: Optional[str] = None
    description: Optional[str] = None


class {C}Out({C}Base):
    id: int
    created_at: datetime

    model_config = ConfigDict(from_attributes=True)


{r}_router = APIRouter(prefix="/{plural}", tags=["{plural}"])


def _{r}_to_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out.setdefault("description", None)
    out.setdefault("created_at", datetime.now(timezone.utc))
    return out


def _validate_{r}_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise HTTPException(status_code=422, detail="empty name")
    if len(name) > 200:
        raise HTTPException(status_code=422, detail="name too long")
    return name


async def get_{r}_or_404({r}_id: int = Path(..., ge=1), db: Database = Depends(get_db)) -> dict[str, Any]:
    row = await db.fetch_one("SELECT * FROM {plural} WHERE id = :id", {{"id": {r}_id}})
    if row is None:
        raise HTTPException(status_code=404, detail="{C} not found")
    return _{r}_to_dict(row)


@{r}_router.get("/", response_model=list[{C}Out])
async def list_{plural}(
    db: Database = Depends(get_db),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    q: Optional[str] = Query(None, max_length=100),
    current_user: User = Depends(get_current_user),
) -> list[dict[str, Any]]:
    query = "SELECT * FROM {plural} WHERE owner_id = :owner"
    values: dict[str, Any] = {{"owner": current_user.id, "limit": limit, "offset": offset}}
    if q:
        query += " AND name LIKE :q"
        values["q"] = f"%{{q}}%"
    rows = await db.fetch_all(query + " LIMIT :limit OFFSET :offset", values)
    return [_{r}_to_dict(row) for row in rows]


@{r}_router.post("/", response_model={C}Out, status_code=status.HTTP_201_CREATED)
async def create_{r}(
    payload: {C}Create,
    background_tasks: BackgroundTasks,
    db: Database = Depends(get_db),
    current_user: User = Depends(get_current_user),
) -> dict[str, Any]:
    name = _validate_{r}_name(payload.name)
    async with db.transaction():
        new_id = await db.execute(
            "INSERT INTO {plural} (name, description, owner_id) VALUES (:name, :description, :owner)",
            {{"name": name, "description": payload.description, "owner": current_user.id}},
        )
    background_tasks.add_task(notify, "{r}.created", new_id)
    logger.info("created {r} %s", new_id)
    return {{**payload.model_dump(), "id": new_id, "name": name, "created_at": datetime.now(timezone.utc)}}


@{r}_router.get("/{{{r}_id}}", response_model={C}Out)
async def read_{r}({r}: dict[str, Any] = Depends(get_{r}_or_404)) -> dict[str, Any]:
    return {r}


@{r}_router.patch("/{{{r}_id}}", response_model={C}Out)
async def update_{r}(
    payload: {C}Update,
    {r}: dict[str, Any] = Depends(get_{r}_or_404),
    db: Database = Depends(get_db),
    current_user: User = Depends(get_current_user),
) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    if "name" in changes:
        changes["name"] = _validate_{r}_name(changes["name"])
    if changes:
        sets = ", ".join(f"{{key}} = :{{key}}" for key in changes)
        await db.execute(f"UPDATE {plural} SET {{sets}} WHERE id = :id", {{**changes, "id": {r}["id"]}})
        {r}.update(changes)
    return {r}


@{r}_router.delete("/{{{r}_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_{r}(
    {r}: dict[str, Any] = Depends(get_{r}_or_404),
    db: Database = Depends(get_db),
    admin: User = Depends(get_superuser),
) -> Response:
    await db.execute("DELETE FROM {plural} WHERE id = :id", {{"id": {r}["id"]}})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
'''

VARIANTS = {
    "export": '''

def _{r}_rows_to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "name", "description"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


@{r}_router.get("/export.csv")
def export_{plural}_csv(settings: Settings = Depends(get_settings)) -> StreamingResponse:
    rows = [{{"id": i, "name": f"{r}-{{i}}", "description": None}} for i in range(settings.page_size)]
    return StreamingResponse(iter([_{r}_rows_to_csv(rows)]), media_type="text/csv")
''',
    "sync_upstream": '''

@{r}_router.post("/{{{r}_id}}/sync")
async def sync_{r}(
    {r}: dict[str, Any] = Depends(get_{r}_or_404),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    response = requests.get(f"{{settings.upstream_url}}/{plural}/{{{r}['id']}}", timeout=10)
    response.raise_for_status()
    return {{"synced": True, "upstream": response.json()}}
''',
    "async_upstream": '''

@{r}_router.post("/{{{r}_id}}/refresh")
async def refresh_{r}(
    {r}: dict[str, Any] = Depends(get_{r}_or_404),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{{settings.upstream_url}}/{plural}/{{{r}['id']}}")
    response.raise_for_status()
    await asyncio.sleep(0)
    return {{"refreshed": True, "upstream": response.json()}}
''',
    "raw_request": '''

@{r}_router.post("/import")
async def import_{plural}(
    request: Request,
    db: Database = Depends(get_db),
    x_request_id: Optional[str] = Header(None),
) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, list):
        raise HTTPException(status_code=400, detail="expected a list")
    count = 0
    for entry in body:
        await db.execute("INSERT INTO {plural} (name) VALUES (:name)", {{"name": _validate_{r}_name(str(entry))}})
        count += 1
    logger.info("request %s imported %d {plural}", x_request_id, count)
    return {{"imported": count}}
''',
    "slow_helper": '''

def _rebuild_{r}_index(ids: list[int]) -> dict[int, str]:
    index = {{}}
    for position, value in enumerate(sorted(ids)):
        index[value] = f"{r}:{{position}}"
    time.sleep(0.01)
    return index


@{r}_router.post("/reindex")
async def reindex_{plural}(db: Database = Depends(get_db)) -> dict[str, int]:
    rows = await db.fetch_all("SELECT id FROM {plural}")
    index = _rebuild_{r}_index([row["id"] for row in rows])
    return {{"indexed": len(index)}}
''',
    "websocket": '''

@{r}_router.websocket("/ws")
async def {r}_feed(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            payload = json.loads(message)
            await websocket.send_json({{"ack": payload.get("id"), "at": datetime.now(timezone.utc).isoformat()}})
    except WebSocketDisconnect:
        logger.info("{r} feed closed")
''',
    "stats": '''

@{r}_router.get("/stats/summary")
async def {r}_stats(
    db: Database = Depends(get_db),
    days: int = Query(30, ge=1, le=365),
) -> dict[str, Any]:
    rows, total = await asyncio.gather(
        db.fetch_all("SELECT created_at FROM {plural} WHERE created_at > now() - :days", {{"days": days}}),
        db.fetch_one("SELECT count(*) AS n FROM {plural}"),
    )
    per_day: dict[str, int] = {{}}
    for row in rows:
        day = row["created_at"].date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
    return {{"days": days, "per_day": per_day, "total": (total or {{}}).get("n", 0)}}
''',
}

FIELD_TYPES = [
    ("priority", "int = Field(0, ge=0, le=10)"), ("tags", "list[str] = Field(default_factory=list)"),
    ("is_public", "bool = False"), ("price", "float = Field(0.0, ge=0)"), ("external_id", "Optional[str] = None"),
    ("metadata", "dict[str, Any] = Field(default_factory=dict)"), ("due_at", "Optional[datetime] = None"),
    ("position", "int = 0"), ("color", "str = Field('blue', pattern='^[a-z]+$')"),
]

FILLER = '''

def _helper_{n}(values: list[int]) -> int:
    return sum(v * {n} for v in values if v % 2 == 0)
'''


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def generate(target_lines: int, seed: int = 2024) -> str:
    rnd = random.Random(seed)
    parts = [HEADER]
    routers: list[str] = []
    footer_base = FOOTER.count("\n") + 1
    total = HEADER.count("\n")
    i = 0
    while True:
        base = RESOURCES[i % len(RESOURCES)]
        r = base if i < len(RESOURCES) else f"{base}_{i // len(RESOURCES) + 1}"
        plural = r + "s"
        fields = "".join(f"    {name}: {typ}\n" for name, typ in rnd.sample(FIELD_TYPES, rnd.randint(1, 4)))
        chunk = SECTION.format(r=r, C=camel(r), plural=plural, fields=fields)
        for key in rnd.sample(sorted(VARIANTS), rnd.randint(1, 3)):
            chunk += VARIANTS[key].format(r=r, plural=plural)
        if total + chunk.count("\n") + footer_base + len(routers) + 1 > target_lines and routers:
            break
        parts.append(chunk)
        routers.append(f"{r}_router")
        total += chunk.count("\n")
        i += 1
    n = 0
    while total + footer_base + len(routers) + FILLER.count("\n") <= target_lines:
        n += 1
        parts.append(FILLER.format(n=n))
        total += FILLER.count("\n")
    footer = FOOTER.format(routers="\n".join(f"    {name}," for name in routers))
    total += footer.count("\n")
    parts.append("# padding\n" * max(0, target_lines - total))
    parts.append(footer)
    source = "".join(parts)
    compile(source, "<generated>", "exec")
    return source


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def reexec_in_venv(args: argparse.Namespace) -> None:
    py = venv_bin("stl", "python")
    here = Path(sys.prefix).resolve()
    if args.here or not py.exists() or here == venv_dir("stl").resolve() or os.environ.get("BENCH_MODULE_REEXEC"):
        return
    os.environ["BENCH_MODULE_REEXEC"] = "1"
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=5000, help="size of the generated module (default 5000)")
    ap.add_argument("--repeat", type=int, default=7, help="timed repetitions; medians are reported (default 7)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--keep", action="store_true", help="keep the generated module in benchmarks/.corpus/")
    ap.add_argument("--here", action="store_true", help="run with this interpreter, not .venv-stl's")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    reexec_in_venv(args)
    try:
        import libcst
    except ImportError:
        raise SystemExit("error: libcst is not importable; run `python benchmarks/build_corpus.py` first "
                         "(the script runs itself in benchmarks/.venvs/.venv-stl)")

    source = generate(args.lines, args.seed)
    nlines = source.count("\n")
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    path = CORPUS_DIR / f"bench_module_{args.lines}.py"
    path.write_text(source)
    res: dict = {"python": sys.version.split()[0], "interpreter": sys.executable, "lines": nlines,
                 "bytes": len(source.encode()), "repeat": args.repeat, "target": TARGET, "notes": []}
    try:
        from importlib.metadata import version
        res["libcst"] = version("libcst")
    except Exception:  # noqa: BLE001
        res["libcst"] = getattr(libcst, "__version__", "?")

    parse = timed(lambda: libcst.parse_module(source), args.repeat)
    res["parse_s"] = statistics.median(parse)
    res["parse_all_s"] = parse

    check_fn = None
    try:
        from starlette_lint.engine import check_source
        check_fn = check_source
    except ImportError as exc:
        res["notes"].append(f"starlette_lint.engine.check_source is not importable ({exc})")

    if check_fn is not None:
        res["mode"] = "in-process: starlette_lint.engine.check_source(source, filename)"
        try:
            from starlette_lint.config import DEFAULT
            from starlette_lint.engine import select_rules
            res["active_rules"] = sorted(r.code for r in select_rules(DEFAULT))
        except Exception as exc:  # noqa: BLE001
            res["notes"].append(f"could not list the active rules: {exc}")
        findings = check_fn(source, str(path))
        res["findings"] = len(findings)
        res["finding_codes"] = sorted({getattr(f, "code", "?") for f in findings})
        check = timed(lambda: check_fn(source, str(path)), args.repeat)
        res["check_s"] = statistics.median(check)
        res["check_all_s"] = check
        if res.get("active_rules") == []:
            res["notes"].append("no rule is enabled yet: check_source returns before parsing, so the ratio "
                                "says nothing about the rules")
    else:
        ok, why, flags = cli_status()
        if not ok:
            res["notes"].append(why)
        else:
            exe = str(venv_bin("stl", "starlette-lint"))
            nocache = ["--no-cache"] if flags.get("no_cache") else []
            empty = CORPUS_DIR / "bench_module_empty.py"
            empty.write_text("")

            def cli_on(target: Path) -> None:
                subprocess.run([exe, "check", *nocache, str(target)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=CORPUS_DIR)

            startup = statistics.median(timed(lambda: cli_on(empty), args.repeat))
            check = timed(lambda: cli_on(path), args.repeat)
            res["mode"] = "subprocess: starlette-lint check --no-cache FILE, minus its start-up on an empty file"
            res["cli_raw_s"] = statistics.median(check)
            res["cli_startup_s"] = startup
            res["check_s"] = max(res["cli_raw_s"] - startup, 0.0)
            res["check_all_s"] = check

    print(f"## bench_module: {nlines:,}-line generated FastAPI module, median of {args.repeat}\n")
    print(f"Python {res['python']}, libcst {res['libcst']}\n")
    print("| measure | median s | lines/s |")
    print("|---|---:|---:|")
    print(f"| libcst.parse_module | {res['parse_s']:.3f} | {nlines / res['parse_s']:,.0f} |")
    if "check_s" in res:
        label = "check_source (in-process)" if check_fn else "starlette-lint check --no-cache (minus start-up)"
        print(f"| {label} | {res['check_s']:.3f} | {nlines / res['check_s'] if res['check_s'] else 0:,.0f} |")
        ratio = res["check_s"] / res["parse_s"]
        res["ratio"] = ratio
        res["result"] = "PASS" if ratio <= TARGET else "FAIL"
        print(f"\ncheck / parse = **{ratio:.2f}** (target <= {TARGET}): **{res['result']}**")
        if check_fn:
            print(f"findings: {res.get('findings')} ({', '.join(res.get('finding_codes', []))}); "
                  f"active rules: {len(res.get('active_rules', []))}")
        else:
            print(f"(raw {res['cli_raw_s']:.3f} s, start-up {res['cli_startup_s']:.3f} s)")
    else:
        res["result"] = "SKIP"
        print("\ncheck: SKIP (no engine and no CLI)")
    for n in res["notes"]:
        print(f"note: {n}")
    if not args.keep:
        path.unlink()
    else:
        print(f"module kept at {path}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
