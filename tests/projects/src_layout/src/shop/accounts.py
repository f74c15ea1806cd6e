"""Endpoints whose blocking calls hide in other modules: sessions, methods, constructors, async helpers."""
from fastapi import APIRouter

from .services import clients
from .services.clients import Mailer, Remote, Reports, mailer
from .services.db import AsyncSessionLocal, SessionLocal, get_user

router = APIRouter()


@router.get("/users/{user_id}")
async def read_user(user_id: int):
    with SessionLocal() as db:
        return get_user(db, user_id)  # error: STL107


@router.get("/direct")
async def direct():
    db = SessionLocal()
    return db.scalars(1)  # error: STL105


@router.get("/async-db")
async def async_db():
    session = AsyncSessionLocal()
    session.expire_all()  # ok: STL105 - an AsyncSession (class_=AsyncSession): no I/O here
    return await session.scalars(1)


@router.post("/mail")
async def mail(to: str):
    mailer.send(to)  # error: STL107


@router.post("/check")
async def check():
    return Mailer("smtp.example").check()  # error: STL107


@router.get("/remote")
async def remote():
    return Remote().config  # error: STL107


@router.post("/offline")
async def offline():
    clients.Offline().send()  # ok: STL107 - smtplib.SMTP() with no host connects nowhere


@router.get("/status")
async def status():
    return await clients.fetch_status()  # error: STL107


@router.get("/status-threaded")
async def status_threaded():
    return await clients.fetch_status_threaded()  # ok: STL107 - the async helper uses a thread


@router.get("/report")
async def report():
    return Reports.build()  # error: STL107


@router.get("/early")
async def early():
    clients.early()  # error: STL107
