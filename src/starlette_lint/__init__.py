"""starlette-lint: find what breaks or endangers Starlette and FastAPI apps."""

__version__ = "0.1.0"
