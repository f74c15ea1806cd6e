"""A small shop API (an example for starlette-lint: every mistake here is deliberate)."""
