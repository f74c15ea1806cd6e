"""The ``starlette-lint`` command (placeholder until the CLI issue lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("starlette-lint: the standalone command is not implemented yet; use flake8 --select STL", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
