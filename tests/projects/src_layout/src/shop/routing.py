from fastapi import APIRouter


class AuditedRouter(APIRouter):
    """An APIRouter subclass, used by the other modules of the package."""


class Loop(Later):  # noqa: F821 - a class that names one defined below: never built
    pass


class Later(Loop):
    pass
