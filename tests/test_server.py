"""The language server, driven by a real LSP client (pygls's) over stdio.

Each test starts ``starlette-lint server`` in a subprocess, as an editor does, and speaks
the protocol to it: initialize, didOpen and the diagnostics it publishes, code actions and
their edits (lazy through ``codeAction/resolve`` and eager for clients without it), didChange,
hover, shutdown and exit. What the server publishes and fixes is compared with what the
command prints and writes for the same buffer (``check - --stdin-filename``, ``--fix``).

The pure part of the server (:mod:`starlette_lint.editor`: spans, edits, columns in UTF-16)
is tested in ``test_editor.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from helpers import CLI, FLAKE8_CORE_BOOT, ROOT, environment, parse_output, spawn_cli

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from starlette_lint import editor  # noqa: E402

WAIT = 60.0  # seconds for one answer (a cold analysis imports LibCST and every rule)

# a server whose STL201 rule raises on every buffer (as tests/test_robustness.py breaks it under flake8)
_BROKEN_SERVER = FLAKE8_CORE_BOOT + """
from starlette_lint.rules import get_rule
def explode(self, model, fw):
    raise RuntimeError('kaboom')
    yield
type(get_rule('STL201')).check = explode
from starlette_lint.cli import main
sys.exit(main(['server']))
"""


# a server whose STL201 rule takes a minute on every buffer
_SLOW_SERVER = FLAKE8_CORE_BOOT + """
import time
from starlette_lint.rules import get_rule
def crawl(self, model, fw):
    time.sleep(60)
    yield from ()
type(get_rule('STL201')).check = crawl
from starlette_lint.cli import main
sys.exit(main(['server']))
"""


class Client(LanguageClient):
    """A client that keeps what the server publishes, per document, newest last."""

    def __init__(self) -> None:
        super().__init__("starlette-lint-tests", "1")
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.arrived = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params)
            self.arrived.set()

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def _log(params: types.LogMessageParams) -> None:
            pass

        @self.feature(types.CLIENT_REGISTER_CAPABILITY)
        def _register(params: types.RegistrationParams) -> None:
            return None

    async def diagnostics(self, uri: str, count: int) -> types.PublishDiagnosticsParams:
        """The ``count``-th publication for ``uri`` (1-based), once it has come."""

        async def wait() -> types.PublishDiagnosticsParams:
            while len(self.published.get(uri, [])) < count:
                self.arrived.clear()
                await self.arrived.wait()
            return self.published[uri][count - 1]

        return await asyncio.wait_for(wait(), WAIT)


def capabilities(resolve: bool = True, encodings: Optional[list[str]] = None) -> types.ClientCapabilities:
    action = types.CodeActionClientCapabilities(
        code_action_literal_support=types.ClientCodeActionLiteralOptions(
            code_action_kind=types.ClientCodeActionKindOptions(value_set=[types.CodeActionKind.QuickFix,
                                                                           types.CodeActionKind.Source])),
        resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None,
        data_support=True,
    )
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(code_action=action),
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)),
        general=types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
    )


async def started(cwd: Path, *argv: str, resolve: bool = True,
                  encodings: Optional[list[str]] = None) -> tuple[Client, types.InitializeResult]:
    client = Client()
    args = argv or (*CLI[1:], "server")
    env = environment({"STARLETTE_LINT_CACHE_DIR": str(cwd / ".cache")})
    await client.start_io(sys.executable, *args, cwd=str(cwd), env=env)
    result = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
        capabilities=capabilities(resolve, encodings), process_id=None, root_uri=cwd.as_uri())), WAIT)
    client.initialized(types.InitializedParams())
    return client, result


async def stopped(client: Client) -> Optional[int]:
    """shutdown, then exit: the server process's exit status."""
    assert await asyncio.wait_for(client.shutdown_async(None), WAIT) is None
    client.exit(None)
    server = client._server
    assert server is not None
    code = await asyncio.wait_for(server.wait(), WAIT)
    await client.stop()
    return code


def opened(client: Client, path: Path, text: Optional[str] = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=version, text=path.read_text(encoding="utf-8") if text is None
        else text)))
    return uri


def changed(client: Client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def actions(client: Client, uri: str, diagnostics: list[types.Diagnostic],
                  only: Optional[list[str]] = None) -> list[types.CodeAction]:
    rng = diagnostics[0].range if diagnostics else types.Range(start=types.Position(line=0, character=0),
                                                               end=types.Position(line=0, character=0))
    found = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
        context=types.CodeActionContext(diagnostics=diagnostics, only=only))), WAIT)
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


async def resolved(client: Client, action: types.CodeAction) -> types.CodeAction:
    if action.edit is not None:
        return action
    return await asyncio.wait_for(client.code_action_resolve_async(action), WAIT)


def applied(text: str, action: types.CodeAction, uri: str, encoding: str = "utf-16") -> str:
    """``text`` with the action's edits applied, as an editor applies them (protocol units)."""
    assert action.edit is not None and action.edit.changes is not None
    lines = editor.Lines(text, encoding)
    changes = [editor.Edit((e.range.start.line, lines.from_units(e.range.start.line, e.range.start.character)),
                           (e.range.end.line, lines.from_units(e.range.end.line, e.range.end.character)), e.new_text)
               for e in action.edit.changes[uri]]
    return editor.apply(text, changes)


def rows(params: types.PublishDiagnosticsParams) -> list[tuple[int, int, str, str]]:
    """The published diagnostics as the command prints them: 1-based line and column."""
    return sorted((d.range.start.line + 1, d.range.start.character + 1, str(d.code), d.message)
                  for d in params.diagnostics)


def command_rows(cwd: Path, path: Path, text: str) -> list[tuple[int, int, str, str]]:
    """What ``starlette-lint check - --stdin-filename path`` prints for ``text``."""
    proc = spawn_cli("check", "-", "--stdin-filename", str(path.relative_to(cwd)), "--no-cache", cwd=cwd,
                     stdin=text, env={"STARLETTE_LINT_CACHE_DIR": str(cwd / ".cache")})
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((r.line, r.col, r.code, r.message.removeprefix("[*] ")) for r in parse_output(proc.stdout))


def command_fixed(cwd: Path, path: Path, text: str) -> str:
    """What ``starlette-lint check - --fix --stdin-filename path`` writes for ``text``."""
    proc = spawn_cli("check", "-", "--fix", "--stdin-filename", str(path.relative_to(cwd)), "--no-cache", cwd=cwd,
                     stdin=text, env={"STARLETTE_LINT_CACHE_DIR": str(cwd / ".cache")})
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


SLEEPY = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
          "async def home():\n    time.sleep(1)\n    return {}\n")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The bundled example application (its own pyproject), copied: a project of several modules."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "examples"


# ------------------------------------------------------------------ a whole session
def test_session_diagnostics_fixes_change_hover_and_exit(shop: Path) -> None:
    main = shop / "shop" / "main.py"
    text = main.read_text(encoding="utf-8")

    async def session() -> None:
        client, init = await started(shop)
        caps = init.capabilities
        assert init.server_info is not None and init.server_info.name == "starlette-lint"
        assert isinstance(caps.code_action_provider, types.CodeActionOptions)
        assert caps.code_action_provider.resolve_provider is True
        assert caps.hover_provider
        uri = opened(client, main)
        first = await client.diagnostics(uri, 1)
        assert first.version == 1
        # what the command reports for the same buffer: the project's other modules included
        # (STL107 through shop.mail, STL401 through shop.errors.register_handlers)
        assert rows(first) == command_rows(shop, main, text)
        assert {"STL101", "STL107", "STL401"} <= {str(d.code) for d in first.diagnostics}
        sleep = next(d for d in first.diagnostics if d.code == "STL101")
        assert text.splitlines()[sleep.range.start.line][sleep.range.start.character:sleep.range.end.character] \
            == "time.sleep(0.1)"
        assert sleep.severity in (types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning)
        assert sleep.source == "starlette-lint"
        assert sleep.code_description is not None and "stl101" in sleep.code_description.href.lower()

        # the quick fix, resolved lazily: its edit gives what --fix writes (the file's only fixable finding)
        found = await actions(client, uri, [sleep])
        titles = [a.title for a in found]
        assert titles[0] == "Fix STL101: use await asyncio.sleep()"
        assert "Suppress STL101 on this line (# noqa: STL101)" in titles
        assert editor.FIX_ALL_TITLE in titles
        quick = found[0]
        assert quick.kind == types.CodeActionKind.QuickFix and quick.is_preferred and quick.edit is None
        fixed = applied(text, await resolved(client, quick), uri)
        assert fixed == command_fixed(shop, main, text)
        assert "await asyncio.sleep(0.1)" in fixed and "import asyncio" in fixed
        fix_all = next(a for a in found if a.title == editor.FIX_ALL_TITLE)
        assert fix_all.kind == "source.fixAll.starlette-lint"
        assert applied(text, await resolved(client, fix_all), uri) == command_fixed(shop, main, text)
        suppress = next(a for a in found if a.title.startswith("Suppress"))
        quiet = applied(text, suppress, uri)
        assert "time.sleep(0.1)  # blocks the event loop  # noqa: STL101" in quiet
        # only fix-all, as an editor's "fix all on save" asks
        assert [a.title for a in await actions(client, uri, [], only=["source.fixAll"])] == [editor.FIX_ALL_TITLE]

        # didChange: the buffer as the quick fix left it, diagnostics for its version
        changed(client, uri, fixed, 2)
        second = await client.diagnostics(uri, 2)
        assert second.version == 2
        assert "STL101" not in {str(d.code) for d in second.diagnostics}
        assert rows(second) == command_rows(shop, main, fixed)

        # hover over a diagnostic: the rule's docs
        request = next(d for d in second.diagnostics if d.code == "STL102")
        hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=request.range.start)), WAIT)
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "STL102" in hover.contents.value
        nothing = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0))), WAIT)
        assert nothing is None

        # a close clears the document's diagnostics
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        cleared = await client.diagnostics(uri, 3)
        assert list(cleared.diagnostics) == []
        assert await stopped(client) == 0

    run(session())


def test_changes_are_debounced_and_only_the_last_version_is_published(shop: Path) -> None:
    main = shop / "shop" / "main.py"
    text = main.read_text(encoding="utf-8")

    async def session() -> None:
        client, _ = await started(shop)
        uri = opened(client, main)
        await client.diagnostics(uri, 1)
        for version in range(2, 7):  # typing: five changes in quick succession
            changed(client, uri, text + f"\nx{version} = {version}\n", version)
        last = await client.diagnostics(uri, 2)
        assert last.version == 6
        await asyncio.sleep(1.0)
        assert len(client.published[uri]) == 2  # nothing for versions 2 to 5
        assert await stopped(client) == 0

    run(session())


def test_client_without_resolve_gets_edits_at_once(shop: Path) -> None:
    main = shop / "shop" / "main.py"
    text = main.read_text(encoding="utf-8")

    async def session() -> None:
        client, _ = await started(shop, resolve=False)
        uri = opened(client, main)
        diagnostics = (await client.diagnostics(uri, 1)).diagnostics
        sleep = [d for d in diagnostics if d.code == "STL101"]
        quick = (await actions(client, uri, sleep))[0]
        assert quick.edit is not None
        assert applied(text, quick, uri) == command_fixed(shop, main, text)
        assert await stopped(client) == 0

    run(session())


def test_columns_are_utf16_units(tmp_path: Path) -> None:
    """A character outside the Basic Multilingual Plane is two UTF-16 units: the editor's column."""
    app = tmp_path / "app.py"
    text = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
            "async def home():\n    s = '\U0001F600'; time.sleep(1)\n    return s\n")
    app.write_text(text, encoding="utf-8")

    async def session() -> None:
        client, _ = await started(tmp_path)
        uri = opened(client, app)
        params = await client.diagnostics(uri, 1)
        sleep = next(d for d in params.diagnostics if d.code == "STL101")
        line = text.splitlines()[8]
        assert sleep.range.start.character == line.index("time") + 1  # the emoji counts twice
        fixed = applied(text, await resolved(client, (await actions(client, uri, [sleep]))[0]), uri)
        assert "'\U0001F600'; await asyncio.sleep(1)" in fixed
        assert await stopped(client) == 0

    run(session())


def test_a_rule_that_raises_does_not_stop_the_server(shop: Path) -> None:
    main = shop / "shop" / "main.py"
    text = main.read_text(encoding="utf-8")

    async def session() -> None:
        client, _ = await started(shop, "-I", "-c", _BROKEN_SERVER)
        uri = opened(client, main)
        first = await client.diagnostics(uri, 1)
        codes = [str(d.code) for d in first.diagnostics]
        internal = [d for d in first.diagnostics if d.code == "STL000"]
        assert len(internal) == 1 and "internal error in STL201" in internal[0].message
        assert "STL201" not in codes and "STL101" in codes  # the other rules still report
        changed(client, uri, text.replace("time.sleep(0.1)", "pass"), 2)
        second = await client.diagnostics(uri, 2)
        assert second.version == 2 and "STL101" not in {str(d.code) for d in second.diagnostics}
        assert await stopped(client) == 0

    run(session())


def test_configuration_is_the_files_own_and_errors_are_shown(tmp_path: Path) -> None:
    app = tmp_path / "svc" / "app.py"
    app.parent.mkdir()
    text = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
            "async def home():\n    time.sleep(1)\n")
    app.write_text(text, encoding="utf-8")
    (tmp_path / "svc" / "pyproject.toml").write_text('[tool.starlette-lint]\nignore = ["STL101"]\n', encoding="utf-8")

    async def session() -> None:
        client, _ = await started(tmp_path)
        uri = opened(client, app)
        assert "STL101" not in {str(d.code) for d in (await client.diagnostics(uri, 1)).diagnostics}
        # a broken table: one diagnostic that says so, once the editor reports the file changed
        (tmp_path / "svc" / "pyproject.toml").write_text('[tool.starlette-lint]\nfile-timeout = "soon"\n', encoding="utf-8")
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=(tmp_path / "svc" / "pyproject.toml").as_uri(), type=types.FileChangeType.Changed)]))
        broken = await client.diagnostics(uri, 2)
        assert [str(d.code) for d in broken.diagnostics] == ["STL000"]
        assert broken.diagnostics[0].message.startswith("configuration error:")
        assert await stopped(client) == 0

    run(session())


def test_server_without_pygls_says_how_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['pygls'] = None\n", encoding="utf-8")
    proc = spawn_cli("server", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, stdin="")
    assert proc.returncode == 2
    assert "pip install 'starlette-lint[server]'" in proc.stderr


def test_a_path_with_spaces_is_checked(tmp_path: Path) -> None:
    """Editors send ``file:///my%20project/app.py``; pygls keeps the buffer by the unquoted URI."""
    app = tmp_path / "my project" / "app.py"
    app.parent.mkdir()
    app.write_text(SLEEPY, encoding="utf-8")

    async def session() -> None:
        client, _ = await started(tmp_path)
        uri = opened(client, app)
        assert "%20" in uri
        assert "STL101" in {str(d.code) for d in (await client.diagnostics(uri, 1)).diagnostics}
        assert await stopped(client) == 0

    run(session())


def test_a_stale_quick_fix_fixes_nothing_and_fix_all_is_offered_while_checking(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    text = SLEEPY.replace("    time.sleep(1)\n", "    time.sleep(1)\n    time.sleep(2)\n")
    app.write_text(text, encoding="utf-8")

    async def session() -> None:
        client, _ = await started(tmp_path)
        uri = opened(client, app)
        diagnostics = (await client.diagnostics(uri, 1)).diagnostics
        first = [d for d in diagnostics if d.code == "STL101"][:1]
        quick = (await actions(client, uri, first))[0]
        assert quick.title.startswith("Fix STL101")
        # a line above is deleted before the editor resolves the action: the finding moved
        shorter = text.replace("\n\napp = FastAPI()", "\napp = FastAPI()")
        changed(client, uri, shorter, 2)
        stale = await resolved(client, quick)
        assert stale.edit is None
        # fix on save, asked right after the change, before its check is done
        all_now = await actions(client, uri, [], only=["source.fixAll"])
        assert [a.title for a in all_now] == [editor.FIX_ALL_TITLE]
        fixed = applied(shorter, await resolved(client, all_now[0]), uri)
        assert fixed == command_fixed(tmp_path, app, shorter)
        assert await stopped(client) == 0

    run(session())


def test_exit_without_shutdown_is_status_1_and_exit_does_not_wait_for_an_analysis(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(SLEEPY, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.starlette-lint]\nfile-timeout = 0\n", encoding="utf-8")

    async def session() -> None:
        client, _ = await started(tmp_path, "-I", "-c", _SLOW_SERVER)
        opened(client, app)
        await asyncio.sleep(1.0)  # the minute-long analysis is under way
        assert await asyncio.wait_for(client.shutdown_async(None), WAIT) is None
        client.exit(None)
        server = client._server
        assert server is not None
        assert await asyncio.wait_for(server.wait(), 20) == 0  # not a minute
        await client.stop()
        quitter, _ = await started(tmp_path)
        quitter.exit(None)  # the editor went away without asking
        assert quitter._server is not None
        assert await asyncio.wait_for(quitter._server.wait(), WAIT) == 1
        await quitter.stop()

    run(session())


def test_the_server_does_not_log_the_protocol(shop: Path) -> None:
    """pygls logs every message it sends at INFO; a client that never reads stderr would block
    the server once the pipe is full. The server's stderr stays quiet."""
    main = shop / "shop" / "main.py"

    async def session() -> bytes:
        client, _ = await started(shop)
        uri = opened(client, main)
        await client.diagnostics(uri, 1)
        server = client._server
        assert server is not None and server.stderr is not None
        assert await stopped(client) == 0
        return await server.stderr.read()

    assert b"Sending" not in run(session())
