"""Where an analysis may run: on the calling thread, or on a thread with a large stack.

LibCST's native parser recurses on the C stack: a valid 8,000-term ``a and a
and ...`` overflows the default 8 MiB main-thread stack and kills the whole
process with SIGSEGV, which no ``except`` can catch. LibCST's code generation
(used for positions and fixes) is recursive Python: about two frames per
nesting level, so a valid 600-character ``a + a + ...`` already exceeds the
default recursion limit of 1,000 frames.

Such files are analysed on a thread with a 512 MiB stack (reserved, not used,
until needed) and a raised recursion limit. Handing every file to another
thread is not free, though: the thread wakes on the other core, with cold
caches, and a flake8 run measured 20% slower in the plugin that way. So:

* :func:`fits_calling_thread` says when the calling thread is enough: the
  source is too short to nest deep (256 characters), or Python
  itself parsed the file (flake8 hands its tree over), which bounds brackets
  (200 levels), indentation (100) and the other nestings to depths LibCST
  parses within an 8 MiB stack, measured for each construct; the one
  exception, ``and``/``or`` chains (flat in Python's grammar, recursive in
  LibCST's), is bounded by counting the words. A ``RecursionError`` in Python
  code on the calling thread makes the engine start again on a large stack.
* Front ends that check many files without a tree (the command) run their
  whole loop on one large-stack thread (:func:`call_with_big_stack`); calls
  made from that thread run in place.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
from functools import lru_cache
from typing import Any, Callable, Optional, TypeVar, Union

T = TypeVar("T")

BIG_STACK = 512 * 1024 * 1024
SHORT = 256  # characters: no source this short nests deep enough to need a large stack
# LibCST survives every nesting Python accepts within this stack, except long
# and/or chains (4,000 terms parse; 8,000 overflow it).
_MIN_MAIN_STACK = 8 * 1024 * 1024
MAX_BOOLEAN_WORDS = 1_000  # and/or words per file on the calling thread (a quarter of what parses)
RECURSION_LIMIT = 60_000

_local = threading.local()
_recursion_lock = threading.Lock()
_recursion_users = [0, 0]  # threads running with the raised limit, the limit to restore afterwards
_BOOLEAN_WORD = r"(?<![A-Za-z0-9_])(?:and|or)(?![A-Za-z0-9_])"
_BOOLEAN_TEXT = re.compile(_BOOLEAN_WORD)
_BOOLEAN_BYTES = re.compile(_BOOLEAN_WORD.encode())


def on_big_stack() -> bool:
    """Is the calling thread one that :func:`call_with_big_stack` started?"""
    return getattr(_local, "big", False)


@lru_cache(maxsize=1)
def _main_stack_is_enough() -> bool:
    try:
        import resource
    except ImportError:  # not POSIX: the main thread's stack size is unknown here
        return False
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    except (OSError, ValueError):
        return False
    return soft == resource.RLIM_INFINITY or soft >= _MIN_MAIN_STACK


def fits_calling_thread(source: Union[str, bytes], tree: Optional[ast.AST]) -> bool:
    """Can this module be parsed and analysed on the calling thread without risking its C stack?"""
    if len(source) <= SHORT or on_big_stack():
        return True
    if not isinstance(tree, ast.Module) or threading.current_thread() is not threading.main_thread():
        return False  # no proof that Python accepted the nesting; other threads' stacks may be small
    if not _main_stack_is_enough():
        return False
    if isinstance(source, str):
        words = source.count("and") + source.count("or")
    else:
        words = source.count(b"and") + source.count(b"or")
    if words <= MAX_BOOLEAN_WORDS:
        return True
    if isinstance(source, str):
        return sum(1 for _ in _BOOLEAN_TEXT.finditer(source)) <= MAX_BOOLEAN_WORDS
    return sum(1 for _ in _BOOLEAN_BYTES.finditer(source)) <= MAX_BOOLEAN_WORDS


def call_with_big_stack(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` on a fresh thread with a large C stack; re-raise what it raises.

    From a thread this function started, ``fn`` runs in place.
    """
    if on_big_stack():
        return fn(*args, **kwargs)
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        _local.big = True
        # The limit is process-wide: with several callers at once, the first
        # raises it and the last restores it.
        with _recursion_lock:
            if not _recursion_users[0]:
                _recursion_users[1] = sys.getrecursionlimit()
                sys.setrecursionlimit(max(_recursion_users[1], RECURSION_LIMIT))
            _recursion_users[0] += 1
        try:
            results.append(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001, ASYNC103 - handed back to the caller
            errors.append(exc)
        finally:
            with _recursion_lock:
                _recursion_users[0] -= 1
                if not _recursion_users[0]:
                    sys.setrecursionlimit(_recursion_users[1])

    try:
        old = threading.stack_size()
        threading.stack_size(BIG_STACK)  # applies to threads *started* from now on
        try:
            thread = threading.Thread(target=target, name="starlette-lint", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    except (ValueError, RuntimeError, MemoryError):  # platform without settable stacks
        return fn(*args, **kwargs)
    thread.join()
    if errors:
        raise errors[0]
    return results[0]
