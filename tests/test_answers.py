"""A cached result in project mode holds while the project answers its questions the same way
(``starlette_lint.answers``): the recorder sees every question, a log is checked strictly, and
on the fixture projects a result that holds after an edit is the result of analysing again."""

from __future__ import annotations

import ast
import inspect
import json
import shutil
from pathlib import Path
from typing import Callable, Optional

import pytest

from starlette_lint import answers, framework
from starlette_lint.answers import QUESTIONS, Recorder, digest, still_holds
from starlette_lint.config import DEFAULT, load
from starlette_lint.engine import analyze_source
from starlette_lint.framework import NOWHERE, RemoteChain
from starlette_lint.project import ProjectIndex, ProjectView

PACKAGE = Path(answers.__file__).parent
PROJECTS = Path(__file__).parent / "projects"


def test_the_recorder_asks_every_question_of_the_seam() -> None:
    """Each question of ``framework.Elsewhere`` is recorded, with the arguments ``QUESTIONS`` counts."""
    asked = {name for name, value in vars(framework.Elsewhere).items()
             if callable(value) and not name.startswith("_")}
    assert asked == set(QUESTIONS)
    for name, count in QUESTIONS.items():
        params = [p for p in inspect.signature(getattr(Recorder, name)).parameters if p not in ("self", "calls")]
        assert len(params) == count, name
        assert params == [p for p in inspect.signature(getattr(framework.Elsewhere, name)).parameters
                          if p not in ("self", "calls")]


def test_nothing_but_the_seam_reads_other_modules() -> None:
    """The rules, the analyses, the framework step and the model never import the project index
    (nor the layout that finds other modules): what they learn of other modules comes through
    ``Elsewhere``, which the recorder sees."""
    readers = [*PACKAGE.glob("rules/*.py"), *PACKAGE.glob("analysis/*.py"), *PACKAGE.glob("fixes/*.py"),
               PACKAGE / "framework.py", PACKAGE / "model.py", PACKAGE / "engine.py", PACKAGE / "classify.py"]
    for path in readers:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or "", *(a.name for a in node.names)] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[-1] in ("project", "layout", "answers") for n in names), (path, names)


class _Fixed:
    """An Elsewhere whose answers are given."""

    def __init__(self, **given: object) -> None:
        self.given = given

    def __getattr__(self, name: str) -> Callable[..., object]:
        if name not in QUESTIONS:
            raise AttributeError(name)
        return lambda *args: self.given.get(name, getattr(NOWHERE, name)(*args))


def test_a_log_holds_while_every_answer_is_the_same() -> None:
    chain = RemoteChain(("app.svc.send",), "smtplib.SMTP", "app.svc.send", 4)
    recorder = Recorder(_Fixed(blocking_chain=chain, app_kind="apirouter"))  # type: ignore[arg-type]
    assert recorder.blocking_chain("app.svc.send", None, True) == chain  # type: ignore[arg-type]
    assert recorder.app_kind(".routing.Router") == "apirouter"
    assert recorder.app_setup("<local>.setup", "@0") is None
    assert recorder.route_prefixes("app.api.router") == []
    log = json.loads(json.dumps(recorder.log()))  # as the cache keeps it
    assert [item[0] for item in log] == ["blocking_chain", "app_kind", "app_setup", "route_prefixes"]
    same = _Fixed(blocking_chain=chain, app_kind="apirouter")
    assert still_holds(log, same, DEFAULT)  # type: ignore[arg-type]
    moved = RemoteChain(("app.svc.send",), "smtplib.SMTP", "app.svc.send", 5)  # the call moved a line down
    assert not still_holds(log, _Fixed(blocking_chain=moved, app_kind="apirouter"), DEFAULT)  # type: ignore[arg-type]
    assert not still_holds(log, _Fixed(blocking_chain=chain), DEFAULT)  # type: ignore[arg-type]
    assert not still_holds(log, _Fixed(blocking_chain=chain, app_kind="apirouter", route_prefixes=["/x"]),
                           DEFAULT)  # type: ignore[arg-type]
    assert still_holds([], same, DEFAULT)  # type: ignore[arg-type]  # asked nothing: nothing can change it


@pytest.mark.parametrize("log", [
    None, {}, "x", [["app_kind"]], [["app_kind", "a"]], [["nope", "a", "d"]], [["app_kind", 1, "d"]],
    [["app_kind", "a", "b", "d"]], [["blocking_chain", "a", "yes", "d"]], [["app_setup", "a", None, "d"]],
    [["app_kind", "a", 3]], [[]], [("app_kind", "a", "d")],
])
def test_a_log_that_is_not_one_never_holds(log: object) -> None:
    assert not still_holds(log, _Fixed(), DEFAULT)  # type: ignore[arg-type]


def test_digests_are_stable_and_tell_answers_apart() -> None:
    assert digest(None) == digest(None) != digest(False) != digest("None")
    assert digest(["/a", "/b"]) != digest(["/b", "/a"])


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _check(path: Path, root: Path) -> tuple[list[tuple[int, int, str, str]], list[list[object]]]:
    """A file's findings and log, with a fresh index of the project (as a new process would)."""
    recorder = Recorder(ProjectView.of(ProjectIndex(root), str(path)))
    config = load(str(path.parent))
    analysis = analyze_source(path.read_text(encoding="utf-8"), str(path), config, elsewhere=recorder)
    found = [(f.line, f.col, f.code, f.message) for f in analysis.findings]
    analysis.release()
    return found, json.loads(json.dumps(recorder.log()))


# edits of one module: what a user does between two runs
EDITS: dict[str, Callable[[str], Optional[str]]] = {
    "function added at the end": lambda text: text + "\n\ndef _added():\n    return None\n",
    "line added at the top": lambda text: "# edited\n" + text,
    "blocking calls removed": lambda text: text.replace("time.sleep(", "print(").replace("requests.post(", "print(")
    .replace("requests.get(", "print(").replace("smtplib.SMTP(", "print(") if "(" in text else None,
    "prefixes changed": lambda text: text.replace('prefix="/', 'prefix="/v2/').replace("prefix='/", "prefix='/v2/")
    if "prefix=" in text else None,
    "handlers dropped": lambda text: text.replace("add_exception_handler(", "print(")
    if "add_exception_handler(" in text else None,
    "emptied": lambda text: "",
}


# the default run: the edits that change answers, on every project; the slow run: every edit
QUICK = ("blocking calls removed", "emptied")
CASES = [pytest.param(p.name, edits, marks=[pytest.mark.slow] if edits != QUICK else [],
                      id=f"{p.name}-{'quick' if edits == QUICK else 'every-edit'}")
         for p in sorted(PROJECTS.iterdir()) if p.is_dir() for edits in (QUICK, tuple(EDITS))]


@pytest.mark.parametrize(("project", "edits"), CASES)
def test_a_result_that_holds_after_an_edit_is_the_result_of_checking_again(
        project: str, edits: tuple[str, ...], tmp_path: Path) -> None:
    """The claim the result caches rest on, on every fixture project: after any of several edits
    of any one module, a file whose recorded questions all get the same answers has exactly the
    findings a new analysis gives; and the edits do change some files' answers (the test is not
    vacuous)."""
    root = tmp_path / project
    shutil.copytree(PROJECTS / project, root)
    index_root = lambda path: ProjectIndex.of(path).root  # noqa: E731 - each file's own package root
    files = _modules(root)
    before = {path: _check(path, index_root(path)) for path in files}
    held = changed = 0
    for edited in files:
        original = edited.read_text(encoding="utf-8")
        for name in edits:
            text = EDITS[name](original)
            if text is None or text == original:
                continue
            edited.write_text(text, encoding="utf-8")
            try:
                for path in files:
                    if path == edited:
                        continue
                    found, log = before[path]
                    view = ProjectView.of(ProjectIndex(index_root(path)), str(path))
                    if still_holds(log, view, load(str(path.parent))):
                        held += 1
                        assert _check(path, index_root(path))[0] == found, (name, edited, path)
                    else:
                        changed += 1
            finally:
                edited.write_text(original, encoding="utf-8")
    assert held and changed
