"""A package ``app.tasks`` with a module ``app.tasks.tasks``: the package re-exports ``run``."""
from .tasks import run

__all__ = ["run"]
