"""``starlette-lint server``: a Language Server Protocol server over stdio (pygls).

Install it with the ``server`` extra (``pip install 'starlette-lint[server]'``). What it offers:

- diagnostics for every open Python buffer, computed from the unsaved text on open,
  change (debounced) and save, with the project's configuration, releases and index,
  exactly as ``starlette-lint check - --stdin-filename PATH`` reports them; severity
  from the rule's level, a link to the rule's docs, the rule's docs on hover;
- code actions: one quick fix per fixable diagnostic (its edits give what ``--fix``
  writes for that finding), "suppress with ``# noqa: STLxxx``", and a fix-all
  (``source.fixAll.starlette-lint``) that gives exactly what ``check --fix`` writes.
  Edits are computed when the editor asks for them (``codeAction/resolve``) where it can.

The work is done by :mod:`.editor` on one worker thread, one buffer at a time: the
event loop keeps answering while a file is analysed, and a result for a buffer that
changed meanwhile is dropped. An error anywhere in a check becomes one ``STL000``
diagnostic and a log message, never the end of the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sys
import threading
import traceback
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import __version__, editor
from .editor import FIX_ALL_TITLE, Lines, Problem
from .runner import INTERNAL

SOURCE = "starlette-lint"
FIX_ALL_KIND = "source.fixAll.starlette-lint"
DEBOUNCE = 0.3  # seconds after the last keystroke before a buffer is checked
_WATCHED = ("**/pyproject.toml", "**/setup.cfg", "**/setup.py", "**/requirements*.txt", "**/*.lock",
            "**/*.py")

log = logging.getLogger(__name__)
T = TypeVar("T")
_SCHEMES = ("file:", "untitled:")  # buffers checked: files, and new files not saved yet


class Worker:
    """One daemon thread that runs the analyses, one at a time, in the order asked.

    Not a ``ThreadPoolExecutor``: the interpreter joins those at exit, so an exit during an
    analysis would wait for it (up to the file-timeout). A daemon thread ends with the process.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Optional[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]]] = \
            queue.SimpleQueue()
        threading.Thread(target=self._run, name="starlette-lint", daemon=True).start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        future: Future[T] = Future()
        self._jobs.put((future, fn, args))
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        self._jobs.put(None)


@dataclass
class Document:
    """What the server knows of one open buffer."""

    uri: str
    path: str
    problems: list[Problem] = field(default_factory=list)
    text: str = ""  # the text the problems were computed from
    pending: Optional[asyncio.Task[None]] = None


class StarletteLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("starlette-lint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.documents: dict[str, Document] = {}
        # one analysis at a time: the configuration and project memos are shared, and a
        # second file analysed in parallel would only slow the first
        self.worker = Worker()

    # ------------------------------------------------------------------ buffers
    def path_of(self, uri: str) -> str:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:  # an unsaved buffer: checked as a module of the working directory
            name = uri.rsplit("/", 1)[-1] or "untitled"
            path = os.path.join(os.getcwd(), name if name.endswith((".py", ".pyi")) else name + ".py")
        return path

    def encoding(self) -> str:
        """The position encoding agreed with the editor: ``utf-16`` (the default), ``utf-8`` or ``utf-32``."""
        chosen = self.workspace.position_codec.encoding
        return str(getattr(chosen, "value", chosen) or "utf-16").lower()

    def buffer(self, uri: str) -> Optional[tuple[str, Optional[int]]]:
        """The text and version of an open buffer (pygls keeps them by unquoted URI); None once closed."""
        document = self.workspace.text_documents.get(unquote(uri))
        return (document.source, document.version) if document is not None else None

    def schedule(self, uri: str, delay: float) -> None:
        if not uri.startswith(_SCHEMES):
            return  # a notebook cell, a diff view, a remote file: not a module we can place
        doc = self.documents.get(uri)
        if doc is None:
            doc = self.documents[uri] = Document(uri, self.path_of(uri))
        if doc.pending is not None:
            doc.pending.cancel()
        doc.pending = asyncio.ensure_future(self._check_later(doc, delay))

    async def _check_later(self, doc: Document, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        opened = self.buffer(doc.uri)
        if opened is None:
            return
        text, version = opened
        problems = await self.worker.run(self.check, doc.path, text)
        if self.documents.get(doc.uri) is not doc or self.buffer(doc.uri) != (text, version):
            return  # closed or changed meanwhile: the newer check publishes
        doc.problems, doc.text = problems, text
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=doc.uri, version=version, diagnostics=[self.diagnostic(p, Lines(text, self.encoding()))
                                                       for p in problems]))

    def check(self, path: str, text: str) -> list[Problem]:
        """:func:`.editor.check`, on the worker thread; an error is one ``STL000`` diagnostic."""
        try:
            return editor.check(path, text)
        except BaseException as exc:  # noqa: BLE001 - nothing a buffer holds may end the server
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            log.error("starlette-lint failed on %s:\n%s", path, traceback.format_exc())
            return [Problem(0, 0, 0, 0, INTERNAL,
                            f"internal error while checking {path}: {type(exc).__name__}: {exc}")]

    def forget_files(self) -> None:
        """Files on disk changed: read configuration, releases and the project afresh, then check
        every open buffer again."""
        from . import config, versions

        config.clear()
        versions.clear()
        project = sys.modules.get("starlette_lint.project")
        if project is not None:
            project.clear()
        for uri in list(self.documents):
            self.schedule(uri, DEBOUNCE)

    # ------------------------------------------------------------------ diagnostics
    def diagnostic(self, problem: Problem, lines: Lines) -> types.Diagnostic:
        from .output import rule_url
        from .rules import get_rule

        rule = get_rule(problem.code)
        severity = types.DiagnosticSeverity.Warning if rule is not None and rule.level == "warning" \
            else types.DiagnosticSeverity.Error
        return types.Diagnostic(
            range=self.range(problem.line, problem.col, problem.end_line, problem.end_col, lines),
            message=problem.message,
            severity=severity,
            code=problem.code,
            code_description=types.CodeDescription(href=rule_url(problem.code)) if rule is not None else None,
            source=SOURCE,
            data={"line": problem.line, "col": problem.col, "code": problem.code, "fix": problem.fix},
        )

    @staticmethod
    def range(line: int, col: int, end_line: int, end_col: int, lines: Lines) -> types.Range:
        return types.Range(start=types.Position(line=line, character=lines.to_units(line, col)),
                           end=types.Position(line=end_line, character=lines.to_units(end_line, end_col)))

    # ------------------------------------------------------------------ code actions
    def current(self, uri: str) -> tuple[Optional[Document], str, Optional[int]]:
        doc = self.documents.get(uri)
        opened = self.buffer(uri) if doc is not None else None
        if doc is None or opened is None:
            return None, "", None
        return doc, opened[0], opened[1]

    def problem_of(self, doc: Document, diagnostic: types.Diagnostic) -> Optional[Problem]:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        for p in doc.problems:
            if (p.line, p.col, p.code) == (data.get("line"), data.get("col"), data.get("code")):
                return p
        return None

    def workspace_edit(self, uri: str, old: str, new: Optional[str]) -> Optional[types.WorkspaceEdit]:
        if new is None or new == old:
            return None
        lines = Lines(old, self.encoding())
        changes = [types.TextEdit(range=self.range(e.start[0], e.start[1], e.end[0], e.end[1], lines),
                                  new_text=e.text) for e in editor.edits(old, new)]
        return types.WorkspaceEdit(changes={uri: changes})

    def resolves_edits(self) -> bool:
        """Can the editor ask for a code action's edit later (``codeAction/resolve``)?"""
        caps = self.client_capabilities.text_document
        action = caps.code_action if caps is not None else None
        support = action.resolve_support if action is not None else None
        return support is not None and "edit" in support.properties

    def fixed_text(self, uri: str, text: str, only: Optional[tuple[int, int, str]]) -> Optional[str]:
        doc = self.documents.get(uri)
        try:
            return editor.fix(doc.path if doc is not None else self.path_of(uri), text, only)
        except Exception:  # noqa: BLE001 - a failed fix is no fix, and the server goes on
            log.error("starlette-lint could not fix %s:\n%s", uri, traceback.format_exc())
            return None

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """Fill in a fix's edit, from the buffer as it is now."""
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        if not isinstance(uri, str) or action.edit is not None:
            return action
        doc, text, version = self.current(uri)
        if doc is None:
            return action
        key = data.get("key")
        only = (int(key[0]), int(key[1]), str(key[2])) if isinstance(key, list) and len(key) == 3 else None
        if only is not None and data.get("version") != version:
            return action  # the buffer changed since: that finding may be elsewhere now, or gone
        new = await self.worker.run(self.fixed_text, uri, text, only)
        action.edit = self.workspace_edit(uri, text, new)
        return action

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        doc, text, version = self.current(uri)
        if doc is None:
            return []
        only = params.context.only
        lazy = self.resolves_edits()
        actions: list[types.CodeAction] = []
        wants_quickfix = not only or any(types.CodeActionKind.QuickFix.startswith(k) for k in only)
        if wants_quickfix and text == doc.text:
            for diagnostic in params.context.diagnostics:
                if diagnostic.source != SOURCE:
                    continue
                problem = self.problem_of(doc, diagnostic)
                if problem is None:
                    continue
                if problem.fix is not None:
                    action = types.CodeAction(title=problem.fix, kind=types.CodeActionKind.QuickFix,
                                              diagnostics=[diagnostic], is_preferred=True,
                                              data={"uri": uri, "key": list(problem.key), "version": version})
                    actions.append(action if lazy else await self.resolve(action))
                if problem.code.startswith("STL") and problem.code != INTERNAL:
                    suppressed = editor.suppress(text, problem)
                    edit = self.workspace_edit(uri, text, suppressed)
                    if edit is not None:
                        actions.append(types.CodeAction(
                            title=f"Suppress {problem.code} on this line (# noqa: {problem.code})",
                            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic], edit=edit))
        wants_all = not only or any(FIX_ALL_KIND.startswith(k) for k in only)
        # offered too while the buffer is being checked (fix on save comes right after typing):
        # the edit is made from the buffer as it is when asked, and is empty when nothing is fixable
        if wants_all and (text != doc.text or any(p.fix is not None for p in doc.problems)):
            action = types.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND, data={"uri": uri, "key": None})
            actions.append(action if lazy else await self.resolve(action))
        return actions

    # ------------------------------------------------------------------ hover
    def hover(self, params: types.HoverParams) -> Optional[types.Hover]:
        from .docs import rule_doc

        doc = self.documents.get(params.text_document.uri)
        if doc is None:
            return None
        lines = Lines(doc.text, self.encoding())
        line = params.position.line
        col = lines.from_units(line, params.position.character)
        texts = []
        for p in doc.problems:
            if (p.line, p.col) <= (line, col) <= (p.end_line, p.end_col):
                docs = rule_doc(p.code)
                if docs is not None and docs not in texts:
                    texts.append(docs)
        if not texts:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value="\n---\n".join(texts)))


def build() -> StarletteLintServer:
    server = StarletteLintServer()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: StarletteLintServer, _params: types.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is not None and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=g) for g in _WATCHED])
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                    types.Registration(id="starlette-lint-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                       register_options=options)]))
            except Exception:  # noqa: BLE001 - without it, files are read afresh on save only
                log.info("the editor did not register the file watchers")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: StarletteLintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: StarletteLintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: StarletteLintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.forget_files()  # the saved module may be another buffer's project module
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: StarletteLintServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.documents.pop(params.text_document.uri, None)
        if doc is not None and doc.pending is not None:
            doc.pending.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: StarletteLintServer, _params: types.DidChangeWatchedFilesParams) -> None:
        ls.forget_files()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True))
    async def code_action(ls: StarletteLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await ls.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: StarletteLintServer, action: types.CodeAction) -> types.CodeAction:
        return await ls.resolve(action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: StarletteLintServer, params: types.HoverParams) -> Optional[types.Hover]:
        return ls.hover(params)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: StarletteLintServer, *_args: Any) -> None:
        for doc in ls.documents.values():
            if doc.pending is not None:
                doc.pending.cancel()
        ls.worker.stop()

    return server


def main() -> int:
    """Serve over stdio until the editor says exit: 0 after a shutdown request, else 1 (the protocol's)."""
    # our own messages on stderr (editors show them in their LSP log); pygls's only when they are
    # warnings: at INFO it logs every message it sends, and a client that never reads stderr
    # would block the server once the pipe is full
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("starlette-lint server: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    logging.getLogger("pygls").setLevel(logging.WARNING)
    server = build()
    server.start_io()
    return 0 if getattr(server.protocol, "_shutdown", False) else 1
