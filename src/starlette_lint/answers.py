"""What a file's analysis asked the project's other modules: a cached result that still holds.

In project mode a file's findings depend on its own text, the configuration, and the answers
its analysis got from the rest of the project. Those answers reach the rules through one seam
only, :class:`.framework.Elsewhere` (eight questions: what a name imported from the project
is, when calling it blocks, what a setup function registers on the app...). Nothing else of
another module is read. So the analysis is a function of the file, the configuration and
those answers: when every question it asked gets the same answer again, its findings are the
same, whatever else changed in the project.

Both front ends keep, with a file's cached result:

* the project's fingerprint when it was made: unchanged, the result holds as it is (a rerun
  over an unchanged tree costs no index at all);
* what it asked and a digest of each answer (:class:`Recorder`): after an edit elsewhere in the
  project, the questions are asked again of the index as it is now (:func:`still_holds`), which
  reads module summaries (Python's ``ast``, or the summary store) instead of parsing the file
  with LibCST again. One answer that differs, and the file is analysed again.

The same questions are asked again because the analysis is deterministic: given the same text,
configuration and answers, it asks the same questions. An answer is compared by a digest of its
``repr``: answers are ``None``, strings, booleans, lists of strings and frozen dataclasses of
those (:class:`.framework.RemoteChain`, :class:`.framework.AppSetup`).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Optional, TypeVar

if TYPE_CHECKING:  # the engine's modules import LibCST: a rerun whose results hold never imports them
    from . import names as N
    from .config import Config
    from .framework import AppSetup, CallJudge, Elsewhere, RemoteChain

T = TypeVar("T")

# Elsewhere's questions, by name, and how many arguments each takes beside the judge
# (``blocking_chain``'s judge is rebuilt from the configuration: it is the catalogue's)
QUESTIONS = {"app_kind": 1, "blocking_chain": 2, "outside": 1, "instance_kind": 1, "annotation": 1,
             "route_prefixes": 1, "app_setup": 2, "routes_served_plainly": 1}


def digest(answer: object) -> str:
    """A short digest of an answer, by its ``repr`` (stable for the answers the seam gives)."""
    return hashlib.sha256(repr(answer).encode("utf-8", "surrogatepass")).hexdigest()[:20]


class Recorder:
    """An :class:`.framework.Elsewhere` that answers as ``inner`` does and keeps each question
    with the digest of its answer (:meth:`log`)."""

    def __init__(self, inner: "Elsewhere") -> None:
        self.inner = inner
        self._asked: dict[tuple[Any, ...], str] = {}

    def _noted(self, question: tuple[Any, ...], answer: T) -> T:
        self._asked[question] = digest(answer)
        return answer

    def log(self) -> list[list[Any]]:
        """The questions asked, each as ``[name, *arguments, digest]`` (JSON-ready)."""
        return [[*question, answer] for question, answer in self._asked.items()]

    def app_kind(self, qualname: str) -> "Optional[N.AppKind]":
        return self._noted(("app_kind", qualname), self.inner.app_kind(qualname))

    def blocking_chain(self, qualname: str, calls: "CallJudge", awaited: bool = False) -> "Optional[RemoteChain]":
        return self._noted(("blocking_chain", qualname, awaited), self.inner.blocking_chain(qualname, calls, awaited))

    def outside(self, qualname: str) -> Optional[str]:
        return self._noted(("outside", qualname), self.inner.outside(qualname))

    def instance_kind(self, qualname: str) -> "Optional[N.AppKind]":
        return self._noted(("instance_kind", qualname), self.inner.instance_kind(qualname))

    def annotation(self, qualname: str) -> Optional[str]:
        return self._noted(("annotation", qualname), self.inner.annotation(qualname))

    def route_prefixes(self, qualname: str) -> list[str]:
        return self._noted(("route_prefixes", qualname), self.inner.route_prefixes(qualname))

    def routes_served_plainly(self, qualname: str) -> bool:
        return self._noted(("routes_served_plainly", qualname), self.inner.routes_served_plainly(qualname))

    def app_setup(self, qualname: str, argument: str) -> "Optional[AppSetup]":
        return self._noted(("app_setup", qualname, argument), self.inner.app_setup(qualname, argument))


def _well_formed(item: object) -> bool:
    if not isinstance(item, list) or not item or not isinstance(item[0], str) or item[0] not in QUESTIONS:
        return False
    name, args, answer = item[0], item[1:-1], item[-1]
    if len(args) != QUESTIONS[name] or not isinstance(answer, str) or not isinstance(args[0], str):
        return False
    if name == "blocking_chain":
        return isinstance(args[1], bool)
    return all(isinstance(a, str) for a in args)


def still_holds(asked: object, elsewhere: "Elsewhere", config: "Config") -> bool:
    """Does every question of a cached result's log (:meth:`Recorder.log`) get the same answer
    from ``elsewhere`` now? False for a log that is not one (an entry written by hand, or cut)."""
    if not isinstance(asked, list) or not all(_well_formed(item) for item in asked):
        return False
    judge: "Optional[CallJudge]" = None
    for name, *args, answer in asked:
        if name == "blocking_chain":
            if judge is None:
                from .analysis.blocking import judge_for

                judge = judge_for(config)
            got: object = elsewhere.blocking_chain(args[0], judge, args[1])
        else:
            got = getattr(elsewhere, name)(*args)
        if digest(got) != answer:
            return False
    return True


def holds(hit: dict[str, Any], project: Optional[str], filename: str, store: Optional[str],
          config: "Config") -> bool:
    """Does a cached result (a :class:`.cache.Cache` entry) still hold? ``project``: the current
    fingerprint of the file's project in project mode, None outside it (its key is another then:
    the configuration's fingerprint holds the mode). Unchanged project: yes. Changed: when every
    question the analysis asked gets the same answer from the project's index now, read from
    ``store`` (the summary store's directory)."""
    if project is None:
        return True
    if hit.get("project") == project:
        return True
    if "asked" not in hit:
        return False
    from .project import view_for

    return still_holds(hit["asked"], view_for(filename, store), config)
