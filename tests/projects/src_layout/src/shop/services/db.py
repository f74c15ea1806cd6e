from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
AsyncSessionLocal = sessionmaker(create_async_engine("sqlite+aiosqlite://"), class_=AsyncSession)


def get_user(db: Session, user_id: int):
    return db.get(dict, user_id)
