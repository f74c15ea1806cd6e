"""A src-layout package: re-exports its router class."""
from .routing import AuditedRouter

__all__ = ["AuditedRouter"]
