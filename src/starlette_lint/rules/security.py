"""STL5xx: security and configuration (CORS, debug, sessions, trusted hosts, template autoescape)."""

from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from .. import names as N
from ..finding import Report
from ..analysis.request_objects import param_function, request_params
from ..framework import PATH_OPERATION, REQUEST_ROLES, Framework
from ..model import Function, Model, Scope, argument, bool_value, keyword, positional, string_value, walk
from ..versions import Claim
from .base import Rule
from ..analysis.lifecycle import is_test_function

# --------------------------------------------------------------------------- shared helpers


def _const(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> Optional[cst.BaseExpression]:
    """The literal an expression is (or a same-module constant is bound to), else None."""
    if expr is None:
        return None
    return model.constant(expr, scope)


def _const_str(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> Optional[str]:
    return string_value(_const(model, expr, scope))


def _const_true(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> bool:
    return bool_value(_const(model, expr, scope)) is True


def _has_splat(call: cst.Call, stars: str) -> bool:
    return any(arg.star == stars for arg in call.args)


_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def _in_tests(model: Model, scope: Scope) -> bool:
    """Configuration written in a test module, or in a pytest test / fixture.

    A test app is never deployed: a hard-coded secret, a wildcard origin or
    ``debug=True`` there exposes nothing (STL501-STL506 stay silent).
    """
    if _TEST_FILE.search(model.filename.replace("\\", "/")):
        return True
    s: Optional[Scope] = scope
    while s is not None:
        fn = s.function if s.kind == "function" else None
        if fn is not None and is_test_function(model, fn):
            return True
        s = s.parent
    return False


def _conditional_calls(scope: Scope) -> set[int]:
    """ids of the calls a scope's body makes under an ``if`` (or a conditional expression).

    ``if in_debug_mode(): app = FastAPI(debug=True)`` reads the setting from
    configuration as surely as ``FastAPI(debug=settings.DEBUG)`` does.
    """
    found: set[int] = set()
    for node in walk(scope.node):
        if isinstance(node, (cst.If, cst.IfExp)):
            for branch in (node.body, node.orelse):
                if branch is None:
                    continue
                if isinstance(branch, cst.Call):
                    found.add(id(branch))
                found.update(id(n) for n in walk(branch) if isinstance(n, cst.Call))
    return found


class _Config:
    """One place a middleware class is configured, with its options by name or position."""

    __slots__ = ("node", "cls", "scope", "base")

    def __init__(self, node: cst.Call, cls: Optional[str], scope: Scope, base: Optional[int]) -> None:
        self.node = node  # Middleware(C, ...), x.add_middleware(C, ...) or C(app, ...)
        self.cls = cls
        self.scope = scope
        self.base = base  # positional index of the first option (None: options by keyword only)

    def option(self, name: str, index: int) -> Optional[cst.Arg]:
        """The argument for the middleware's ``__init__`` parameter ``name`` (``index`` counted after ``app``)."""
        arg = keyword(self.node, name)
        if arg is None and self.base is not None:
            arg = positional(self.node, self.base + index)
        return arg

    def may_pass(self) -> bool:
        """``*args`` / ``**kwargs`` in the call: an absent option may still be given."""
        return _has_splat(self.node, "*") or _has_splat(self.node, "**")


class SecurityFacts:
    """The security family's shared facts about a module (built once: ``fw.derived(SecurityFacts)``)."""

    def __init__(self, fw: Framework) -> None:
        self.configs = _all_configs(fw)  # middleware class -> its configurations
        self._cors_wildcards: Optional[list[tuple[_Config, cst.Arg, str]]] = None

    def cors_wildcards(self, model: Model) -> list[tuple[_Config, cst.Arg, str]]:
        """(configuration, offending argument, description) for every any-origin CORS setting (STL501/502)."""
        if self._cors_wildcards is None:
            self._cors_wildcards = _cors_wildcards(model, self.configs.get(N.CORS_MIDDLEWARE, []))
        return self._cors_wildcards


def _configs(fw: Framework, cls: str) -> list[_Config]:
    """Every configuration of middleware class ``cls`` in the module (see :func:`_all_configs`)."""
    return fw.derived(SecurityFacts).configs.get(cls, [])


def _all_configs(fw: Framework) -> dict[str, list[_Config]]:
    """Every configuration of every middleware class in the module.

    The framework's list (``Middleware(C, ...)``, ``app.add_middleware(C, ...)`` on a
    known app, ``C(app, ...)``) plus ``x.add_middleware(C, ...)`` on any other
    receiver (an app parameter of a setup function, an app imported from
    elsewhere): the class is resolved through imports, so the configuration is
    known even when the app object is not.
    """
    model = fw.model
    table: dict[str, list[_Config]] = {}
    known: set[int] = set()
    for mc in fw.middleware:
        known.add(id(mc.node))
        if mc.cls is None:
            continue
        first = positional(mc.node, 0)
        if mc.kind == "direct":
            base: Optional[int] = 1
        else:
            base = 1 if first is not None and first.value is mc.cls_expr else None
        table.setdefault(mc.cls, []).append(_Config(mc.node, mc.cls, mc.site.scope, base))
    for site in model.calls:
        func = site.node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "add_middleware") or id(site.node) in known:
            continue
        first = argument(site.node, 0, "middleware_class")
        if first is None:
            continue
        q = model.qualname(first.value, site.scope)
        if q is not None:
            base = 1 if first is positional(site.node, 0) else None
            table.setdefault(q, []).append(_Config(site.node, q, site.scope, base))
    for configs in table.values():
        configs[:] = [c for c in configs if not _in_tests(model, c.scope)]
    return table


def _has_star(model: Model, expr: cst.BaseExpression, scope: Scope) -> Optional[bool]:
    """Whether a statically known origins/hosts value contains ``"*"`` (None: not known).

    A string value counts when it contains ``*`` anywhere: Starlette tests
    ``"*" in value``, which for a string is a substring test.
    """
    lit = _const(model, expr, scope)
    if lit is None:
        return None
    text = string_value(lit)
    if text is not None:
        return "*" in text
    if isinstance(lit, (cst.List, cst.Tuple, cst.Set)):
        unknown = False
        for el in lit.elements:
            if isinstance(el, cst.StarredElement):
                unknown = True
                continue
            value = _const_str(model, el.value, scope)
            if value == "*":
                return True
            if value is None:
                unknown = True
        return None if unknown else False
    return None


def _label(model: Model, expr: cst.BaseExpression) -> str:
    """Source text of a short expression, for messages."""
    text = model.module.code_for_node(expr)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- CORS
# Origins an attacker can serve a page from; a regex that fully matches all of
# them accepts any site.
_PROBE_ORIGINS = ("https://evil.example", "https://attacker.test:8443", "https://203.0.113.7")


def _regex(model: Model, cfg: _Config) -> tuple[Optional[cst.Arg], Optional[str], Optional["re.Pattern[str]"]]:
    arg = cfg.option("allow_origin_regex", 4)
    if arg is None:
        return None, None, None
    text = _const_str(model, arg.value, cfg.scope)
    if text is None:
        return arg, None, None
    try:
        return arg, text, re.compile(text)
    except (re.error, RecursionError, OverflowError):
        return arg, text, None


def _matches_any(pattern: "re.Pattern[str]") -> bool:
    return all(pattern.fullmatch(origin) for origin in _PROBE_ORIGINS)


def _cors_wildcards(model: Model, configs: list[_Config]) -> list[tuple[_Config, cst.Arg, str]]:
    found: list[tuple[_Config, cst.Arg, str]] = []
    for cfg in configs:
        origins = cfg.option("allow_origins", 0)
        if origins is not None and _has_star(model, origins.value, cfg.scope):
            found.append((cfg, origins, f'allow_origins={_label(model, origins.value)} contains "*"'))
        arg, text, pattern = _regex(model, cfg)
        if arg is not None and pattern is not None and _matches_any(pattern):
            found.append((cfg, arg, f"allow_origin_regex '{text}' matches any origin"))
    return found


def _credentials(model: Model, cfg: _Config) -> bool:
    arg = cfg.option("allow_credentials", 3)
    return arg is not None and _const_true(model, arg.value, cfg.scope)


class CorsAnyOrigin(Rule):
    """
    ## What it does
    Reports `CORSMiddleware` configured with `"*"` in `allow_origins`, or with
    an `allow_origin_regex` that matches any origin (`.*`, `.+`, `^.*$`,
    `https://.*`...), without `allow_credentials=True` (that combination is
    STL502). Every form is checked: `Middleware(CORSMiddleware, ...)`,
    `app.add_middleware(CORSMiddleware, ...)` and `CORSMiddleware(app, ...)`,
    with literal values or same-module constants; origins read from settings,
    the environment or a function call are not judged. The regex is judged by
    matching it (as Starlette does, with `fullmatch`) against unrelated
    origins, not by comparing text.
    Configuration in test modules (`test_*.py`, `*_test.py`, `conftest.py`)
    and in pytest tests or fixtures is not judged (by STL501-STL506): a test
    app is never deployed.

    ## Why is this bad?
    Any web site can read your API's responses from a visitor's browser. For
    a public, unauthenticated API that is intended; for anything else, list
    the origins that may call it.

    ## Why is it opt-in?
    Without credentials, the browser sends no cookies to a wildcard origin, so
    only an API that trusts the network position of its callers (an intranet
    or localhost service with no authentication) is exposed; public APIs and
    APIs authenticated by a header use `"*"` on purpose (the LNURL protocol
    even requires it). The code rarely says which case it is: on the real
    applications of the labelled set (`tests/data/precision_labels.jsonl`)
    none of its findings was a defect, so it runs only when selected
    (`extend-select = ["STL501"]`, or `--extend-select STL501` with
    flake8). The dangerous combination, with `allow_credentials=True`, is
    STL502 and stays on.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["*"])
    ```

    ## Use instead
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    ```
    """

    code = "STL501"
    name = "cors-any-origin"
    summary = ('(opt-in) CORSMiddleware allows any origin (`"*"` in `allow_origins`, or an `allow_origin_regex` '
               'matching everything) without credentials')
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for cfg, arg, what in fw.derived(SecurityFacts).cors_wildcards(model):
            if _credentials(model, cfg):
                continue  # STL502
            yield self.report(
                arg,
                f"CORSMiddleware {what}: any web site can read this API's responses; "
                f"list the allowed origins explicitly",
            )


class CorsAnyOriginWithCredentials(Rule):
    """
    ## What it does
    Reports `CORSMiddleware` whose origins are a wildcard (see STL501) together
    with `allow_credentials=True` (literal or same-module constant). It is
    reported instead of STL501, not beside it.

    ## Why is this bad?
    With this combination Starlette answers every request with the caller's
    own `Origin` and `Access-Control-Allow-Credentials: true` (Starlette 1.x
    does so even without a cookie): any web site a user visits can send
    authenticated requests with the user's cookies and read the answers,
    i.e. act as the user.

    ## Example
    ```python
    Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    ```

    ## Use instead
    ```python
    Middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True)
    ```
    """

    code = "STL502"
    name = "cors-any-origin-with-credentials"
    summary = "CORSMiddleware allows any origin together with `allow_credentials=True`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for cfg, arg, what in fw.derived(SecurityFacts).cors_wildcards(model):
            if not _credentials(model, cfg):
                continue
            yield self.report(
                arg,
                f"CORSMiddleware {what} with allow_credentials=True: Starlette reflects the caller's Origin "
                f"with credentials allowed, so any web site can make authenticated requests as your users; "
                f"list the allowed origins explicitly",
            )


def _between_digits(pattern: str, i: int) -> bool:
    """``127.0.0.1``: a look-alike there (``127x0x0x1``) is no host anyone can register or serve."""
    return 0 < i < len(pattern) - 1 and pattern[i - 1].isdigit() and pattern[i + 1].isdigit()


def _unescaped_dots(pattern: str) -> list[int]:
    """Offsets of ``.`` outside character classes, not escaped, not followed by ``*``, ``+``, ``?`` or ``{``,
    not between two digits (an IPv4 address)."""
    out: list[int] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            # a "]" right after "[" or "[^" is a literal member
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            continue
        if c == "." and (i + 1 >= n or pattern[i + 1] not in "*+?{") and not _between_digits(pattern, i):
            out.append(i)
        i += 1
    return out


class CorsRegexUnescapedDot(Rule):
    """
    ## What it does
    Reports a literal `allow_origin_regex` that contains a `.` meant as a
    literal dot: not escaped, not inside a character class, and not followed
    by `*`, `+`, `?` or `{` (which would make it a deliberate "any
    characters"), e.g. `https://.*.example.com`. A regex that already matches
    any origin is STL501/STL502's. Dots between two digits (`127.0.0.1`) are
    not reported: no one can register or serve a look-alike of an IP address.

    ## Why is this bad?
    An unescaped `.` matches any character, and Starlette's `fullmatch` does
    not help: `https://.*.example.com` accepts `https://evil-example.com`, a
    domain anyone can register, whose pages can then read your API.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origin_regex="https://.*.example.com")
    ```

    ## Use instead
    ```python
    app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://.*\\.example\\.com")
    ```
    """

    code = "STL503"
    name = "cors-regex-unescaped-dot"
    summary = "`allow_origin_regex` with an unescaped `.` that lets look-alike domains through"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for cfg in _configs(fw, N.CORS_MIDDLEWARE):
            arg, text, pattern = _regex(model, cfg)
            if arg is None or text is None or pattern is None or _matches_any(pattern):
                continue
            dots = _unescaped_dots(text)
            if not dots:
                continue
            fixed = "".join("\\." if i in dots else ch for i, ch in enumerate(text))
            yield self.report(
                arg,
                f"allow_origin_regex '{text}' has an unescaped '.' (it matches any character, so look-alike "
                f"domains pass: Starlette uses fullmatch, nothing else checks them); escape it: r'{fixed}'",
            )


# --------------------------------------------------------------------------- debug
class DebugTrue(Rule):
    """
    ## What it does
    Reports `debug=True` (a literal or a same-module constant) passed to
    `Starlette()` or `FastAPI()`. `debug=settings.DEBUG` and other values read
    from configuration are not judged, and neither is an app built under an
    `if` (`if in_debug_mode(): app = FastAPI(debug=True)`: the switch is the
    configuration) or in tests.

    ## Why is this bad?
    With `debug=True` every unhandled error is answered with a traceback page:
    the exception message (often holding secrets or SQL), file paths and
    source lines are sent to the client. It even overrides a custom
    `Exception` handler.

    ## Example
    ```python
    app = Starlette(debug=True, routes=routes)
    ```

    ## Use instead
    ```python
    config = Config(".env")
    app = Starlette(debug=config("DEBUG", cast=bool, default=False), routes=routes)
    ```
    """

    code = "STL504"
    name = "debug-true"
    summary = "`debug=True` literal in `Starlette()` / `FastAPI()` (tracebacks sent to clients)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        conditional: dict[int, set[int]] = {}  # id(scope) -> its conditional calls
        for app in fw.applications():
            arg = app.kwarg("debug")
            if arg is None and app.cls == N.STARLETTE_APP:
                arg = positional(app.call, 0)  # Starlette(debug, routes, ...)
            if arg is None or not _const_true(model, arg.value, app.scope):
                continue
            if id(app.scope) not in conditional:
                conditional[id(app.scope)] = _conditional_calls(app.scope)
            if id(app.call) in conditional[id(app.scope)] or _in_tests(model, app.scope):
                continue
            yield self.report(
                arg,
                f"debug=True on {app.label}: unhandled errors are answered with a traceback page "
                f"(exception text, paths, source lines); read it from configuration, default False",
            )


# --------------------------------------------------------------------------- sessions
_SECRET = "starlette.datastructures.Secret"


class HardcodedSessionSecret(Rule):
    """
    ## What it does
    Reports `SessionMiddleware` configured with a `secret_key` that is a string
    literal, a same-module constant string, or `Secret("literal")`, in any
    configuration form (`Middleware(SessionMiddleware, ...)`,
    `add_middleware(...)`, `SessionMiddleware(app, ...)`). Secrets read from the
    environment, `starlette.config.Config` or settings objects are not judged,
    nor are test modules and pytest tests or fixtures (a test app is never
    deployed).

    ## Why is this bad?
    Session cookies are only signed with this key. Anyone who can read the
    code (a repository, a leaked image, a dependency) can forge a session for
    any user, e.g. `{"user": "admin"}`, and it is accepted.

    ## Example
    ```python
    Middleware(SessionMiddleware, secret_key="change-me")
    ```

    ## Use instead
    ```python
    config = Config(".env")
    Middleware(SessionMiddleware, secret_key=config("SECRET_KEY", cast=Secret))
    ```
    """

    code = "STL505"
    name = "hardcoded-session-secret"
    summary = "`SessionMiddleware` with a hard-coded `secret_key`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for cfg in _configs(fw, N.SESSION_MIDDLEWARE):
            arg = cfg.option("secret_key", 0)
            if arg is None:
                continue
            value = arg.value
            if isinstance(value, cst.Call) and model.qualname(value.func, cfg.scope) == _SECRET:
                inner = argument(value, 0, "value")
                value = inner.value if inner is not None else value
            if _const_str(model, value, cfg.scope) is None:
                continue
            yield self.report(
                arg,
                "SessionMiddleware secret_key is hard-coded: anyone who reads the code can forge session "
                "cookies; load it from the environment (starlette.config.Config, cast=Secret)",
            )


# --------------------------------------------------------------------------- trusted hosts
class TrustedHostAnyHost(Rule):
    """
    ## What it does
    Reports `TrustedHostMiddleware` configured with `"*"` in `allowed_hosts`
    (literal or same-module constant), or without `allowed_hosts` at all (its
    default is `["*"]`). A call with `*args`/`**kwargs` that may carry the
    option is not judged, nor are test modules and pytest tests or fixtures.

    ## Why is this bad?
    The middleware then accepts any `Host` header, exactly as if it were not
    installed: `url_for()` links, redirects and password-reset emails built
    from the request use an attacker-chosen host.

    ## Example
    ```python
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    ```

    ## Use instead
    ```python
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])
    ```
    """

    code = "STL506"
    name = "trusted-host-any-host"
    summary = '`TrustedHostMiddleware` with `"*"` in `allowed_hosts`, or without `allowed_hosts`'

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for cfg in _configs(fw, N.TRUSTED_HOST_MIDDLEWARE):
            arg = cfg.option("allowed_hosts", 0)
            if arg is None:
                if cfg.may_pass():
                    continue
                yield self.report(
                    cfg.node,
                    'TrustedHostMiddleware without allowed_hosts defaults to ["*"]: any Host header is accepted '
                    "and host-header checking is off; pass allowed_hosts=[...] with your domains",
                )
                continue
            lit = _const(model, arg.value, cfg.scope)
            if isinstance(lit, cst.Name) and lit.value == "None":
                why = 'None, which defaults to ["*"]'
            elif _has_star(model, arg.value, cfg.scope):
                why = '"*"'
            else:
                continue
            yield self.report(
                arg,
                f"TrustedHostMiddleware allowed_hosts={_label(model, arg.value)} allows any host ({why}): "
                f"host-header checking is off; list your domains",
            )


# --------------------------------------------------------------------------- templates
_JINJA2_TEMPLATES = "starlette.templating.Jinja2Templates"
_AUTOESCAPED = (".html", ".htm", ".xml")
_TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".tmpl")
_PLAIN_TEXT = (".txt", ".text", ".md", ".csv", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".sql",
               ".sh", ".py", ".js", ".css", ".conf", ".eml")


def _templates_call(model: Model, expr: cst.BaseExpression, scope: Scope) -> Optional[cst.Call]:
    """The ``Jinja2Templates(...)`` construction an expression refers to (this function or module)."""
    value: cst.BaseExpression = expr
    where = scope
    if not isinstance(expr, cst.Call):
        found = model.value_of(expr, scope)
        if found is None:
            return None
        value, where = found
    if isinstance(value, cst.Call) and model.qualname(value.func, where) == _JINJA2_TEMPLATES:
        return value
    return None


def _default_env(model: Model, call: cst.Call, scope: Scope) -> bool:
    """Built without ``env=`` (so with Starlette's ``select_autoescape()`` environment).

    Extra keywords (0.x environment options such as ``autoescape=True``) or a
    ``**`` splat mean a customised environment: not judged.
    """
    if _has_splat(call, "**"):
        return False
    for arg in call.args:
        if arg.keyword is None:
            continue
        name = arg.keyword.value
        if name == "env":
            lit = _const(model, arg.value, scope)
            if not (isinstance(lit, cst.Name) and lit.value == "None"):
                return False
        elif name not in ("directory", "context_processors"):
            return False
    return True


def _env_reconfigured(model: Model, receiver: cst.BaseExpression, memo: dict[str, bool]) -> bool:
    """``templates.env = ...`` or ``templates.env.autoescape = ...`` somewhere in the module.

    Attribute assignments are not in the model; this text test only ever
    suppresses a finding.
    """
    name = receiver.value if isinstance(receiver, cst.Name) else None
    if name is None:
        return False
    hit = memo.get(name)
    if hit is None:
        hit = memo[name] = re.search(rf"\b{re.escape(name)}\.env(?:\.autoescape)?\s*=(?!=)", model.source) is not None
    return hit


def _plain_text(name: str) -> bool:
    lower = name.lower()
    for suffix in _TEMPLATE_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
            break
    return lower.endswith(_PLAIN_TEXT)


class TemplateWithoutAutoescape(Rule):
    """
    ## What it does
    Reports `templates.TemplateResponse(request, "page.jinja")` and
    `templates.get_template("page.j2")` where `templates` is a
    `Jinja2Templates(...)` built in this module (or function) without an
    explicit `env=`, and the literal template name does not end in `.html`,
    `.htm` or `.xml`. The old `TemplateResponse("name", {...})` order is
    checked too. Not reported: a `TemplateResponse` given a non-HTML
    `media_type=` (it is not rendered as a page) and `get_template` of a
    plain-text template (`mail.txt`, `mail.txt.j2`), which is rendered by the
    caller, e.g. for an email body.

    ## Why is this bad?
    Since Starlette 1.0 the default environment uses Jinja's
    `select_autoescape()`, which escapes only `.html`, `.htm` and `.xml`
    templates (0.x escaped everything). A `.jinja`, `.j2`, `.html.j2` or `.txt`
    template now renders user input raw, and `TemplateResponse` serves it as
    `text/html`: an XSS.

    ## Example
    ```python
    templates = Jinja2Templates(directory="templates")

    async def profile(request):
        return templates.TemplateResponse(request, "profile.jinja", {"name": name})
    ```

    ## Use instead
    ```python
    templates = Jinja2Templates(directory="templates")

    async def profile(request):
        return templates.TemplateResponse(request, "profile.html", {"name": name})
    ```
    Or build the templates object with
    `env=jinja2.Environment(loader=..., autoescape=True)`.
    """

    code = "STL507"
    name = "template-without-autoescape"
    summary = "template rendered by `Jinja2Templates` whose name is not `.html`/`.htm`/`.xml` (not autoescaped in 1.x)"
    claims = {
        "default environment": Claim(
            "starlette", (1, 0),
            after="since Starlette 1.0 the default Jinja2Templates environment escapes only .html/.htm/.xml, so "
                  "user input is rendered raw (XSS)"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        said = self.claims["default environment"].text(model.target)
        if said is None:
            return  # Starlette 0.x escapes every template
        reconfigured: dict[str, bool] = {}  # receiver name -> its env reassigned somewhere
        for site in model.calls:
            func = site.node.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in ("TemplateResponse", "get_template"):
                continue
            method = func.attr.value
            receiver = func.value
            if method == "get_template" and isinstance(receiver, cst.Attribute) and receiver.attr.value == "env":
                receiver = receiver.value  # templates.env.get_template(...)
            templates = _templates_call(model, receiver, site.scope)
            if templates is None or not _default_env(model, templates, site.scope):
                continue
            if _env_reconfigured(model, receiver, reconfigured):
                continue
            call = site.node
            if method == "get_template":
                arg = argument(call, 0, "name")
            else:
                arg = self._template_name(model, call, site.scope)
            name = _const_str(model, arg.value, site.scope) if arg is not None else None
            if arg is None or not name or name.lower().endswith(_AUTOESCAPED):
                continue
            if method == "get_template" and _plain_text(name):
                continue
            if method == "TemplateResponse" and not self._served_as_html(model, call, site.scope, arg):
                continue
            yield self.report(
                arg,
                f"template {name!r} rendered by {method}() is not autoescaped: {said}; "
                f"rename it to .html or pass env= with autoescape=True",
            )

    @staticmethod
    def _template_name(model: Model, call: cst.Call, scope: Scope) -> Optional[cst.Arg]:
        arg = keyword(call, "name")
        if arg is not None:
            return arg
        first = positional(call, 0)
        if first is not None and _const_str(model, first.value, scope) is not None:
            return first  # old TemplateResponse(name, context) order
        return positional(call, 1)

    @staticmethod
    def _served_as_html(model: Model, call: cst.Call, scope: Scope, name_arg: cst.Arg) -> bool:
        old = name_arg is positional(call, 0)
        media = argument(call, 4 if old else 5, "media_type")
        if media is None:
            return True
        value = _const(model, media.value, scope)
        if isinstance(value, cst.Name) and value.value == "None":
            return True
        text = string_value(value)
        return text is not None and ("html" in text.lower() or "xml" in text.lower())


# ---------------------------------------------------------------------------- STL508
# Where SQL text runs, by the qualified name of the call through its receiver's type: the
# placeholder style the driver binds parameters with.
_ASYNCPG = ("asyncpg.connect()", "asyncpg.create_pool()", "asyncpg.Connection()", "asyncpg.Pool()",
            "asyncpg.connection.Connection()", "asyncpg.pool.Pool()", "asyncpg.create_pool().acquire()",
            "asyncpg.Pool().acquire()", "asyncpg.pool.Pool().acquire()")
_PSYCOPG = ("psycopg.connect()", "psycopg.AsyncConnection.connect()", "psycopg.Connection.connect()",
            "psycopg.AsyncConnection()", "psycopg.Connection()", "psycopg2.connect()", "aiopg.connect()",
            "aiopg.create_pool()", "aiopg.Pool()", "aiopg.create_pool().acquire()", "aiopg.Pool().acquire()")
_SQL_SINKS: dict[str, str] = {}
for _receiver in _ASYNCPG:
    for _method in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "cursor"):
        _SQL_SINKS[f"{_receiver}.{_method}"] = "$1"
for _receiver in _PSYCOPG:
    _SQL_SINKS[f"{_receiver}.execute"] = "%s"
    _SQL_SINKS[f"{_receiver}.cursor().execute"] = "%s"
for _method in ("execute", "execute_many", "fetch_all", "fetch_one", "fetch_val", "iterate"):
    _SQL_SINKS[f"databases.Database().{_method}"] = ":name"
_SQL_SINKS["sqlalchemy.text"] = ":name"
_SQL_SINKS["sqlalchemy.sql.text"] = ":name"
_SQL_SINKS["sqlalchemy.sql.expression.text"] = ":name"
for _receiver in ("sqlalchemy.create_engine().connect()", "sqlalchemy.engine.Connection()",
                  "sqlalchemy.ext.asyncio.AsyncConnection()", "sqlalchemy.ext.asyncio.create_async_engine().connect()",
                  "sqlalchemy.create_engine().begin()", "sqlalchemy.ext.asyncio.create_async_engine().begin()"):
    _SQL_SINKS[f"{_receiver}.exec_driver_sql"] = "the driver's paramstyle"

# parameter types FastAPI validates into something that cannot carry SQL
_SAFE_TYPES = frozenset({"builtins.int", "builtins.float", "builtins.bool", "uuid.UUID", "datetime.datetime",
                         "datetime.date", "datetime.time", "datetime.timedelta", "decimal.Decimal"})
# calls whose result cannot carry SQL text, whatever they are given
_SANITIZERS = frozenset({"builtins.int", "builtins.float", "builtins.bool", "builtins.len", "uuid.UUID"})
_REQUEST_DATA = ("path_params", "query_params", "headers", "cookies")
# methods whose result still carries the text they were called on
_STR_METHODS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold",
                          "swapcase", "replace", "removeprefix", "removesuffix", "get", "getlist", "split",
                          "rsplit", "join", "format", "ljust", "rjust", "center", "zfill", "decode"})
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


class _Taint:
    """Which expressions of one function hold request data: its string parameters (a path
    operation's, FastAPI validates the others), values read from its request object
    (``request.query_params[...]``, ``await request.json()``...), and locals assigned once from
    such an expression. Conversions to numbers stop it."""

    def __init__(self, fw: Framework, fn: Function) -> None:
        self.fw, self.fn, self.model = fw, fn, fw.model
        self.requests = set(request_params(fw, fn))
        self.params: dict[str, str] = {}
        checked = self._checked_names()
        if PATH_OPERATION in fw.roles_of(fn):
            for p in [*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params]:
                name = p.name.value
                if name in self.requests or name in checked or self._rebound(name) or self._dependency(p.default) \
                        or self._constrained(p.default):
                    continue  # the request itself; checked against something, or replaced; Depends(...)
                ann = p.annotation.annotation if p.annotation is not None else None
                if isinstance(ann, cst.Subscript) and self.model.qualname(ann.value, fn.outer) in (
                        "typing.Annotated", "typing_extensions.Annotated"):
                    items = [e.slice.value for e in ann.slice if isinstance(e.slice, cst.Index)]
                    if any(isinstance(m, cst.Call) and (self._dependency(m) or self._constrained(m)) for m in items[1:]):
                        continue
                    ann = items[0] if items else None
                if ann is None or self._stringish(ann):
                    self.params[name] = "parameter"
        self.locals: dict[str, str] = {}
        for node in walk(fn.node):
            if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                name = node.targets[0].target.value
                bindings, _ = self.model.lookup(name, fn.scope)
                if bindings and len(bindings) == 1:
                    source = self.source(node.value)
                    if source is not None:
                        self.locals[name] = source

    def _dependency(self, default: Optional[cst.BaseExpression]) -> bool:
        """``Depends(...)``/``Security(...)`` (or an unknown call): not a value from the request."""
        if not isinstance(default, cst.Call):
            return False
        return param_function(self.model, default, self.fn.outer) in (None, "Depends", "Security", "File")

    @staticmethod
    def _constrained(marker: Optional[cst.BaseExpression]) -> bool:
        """``Query(pattern="^(name|id)$")``: FastAPI lets through only what the pattern allows."""
        return isinstance(marker, cst.Call) and any(
            a.keyword is not None and a.keyword.value in ("pattern", "regex") for a in marker.args)

    def _rebound(self, name: str) -> bool:
        bindings, _ = self.model.lookup(name, self.fn.scope)
        return bindings is not None and len(bindings) > 1  # ``sort = ALLOWED.get(sort, "id")``

    def _checked_names(self) -> set[str]:
        """Names compared with something in the function (``if sort not in ALLOWED: ...``,
        ``if order == "asc"``): taken as validated."""
        out: set[str] = set()
        for node in walk(self.fn.node):
            if isinstance(node, cst.Comparison):
                for side in [node.left, *(c.comparator for c in node.comparisons)]:
                    if isinstance(side, cst.Name):
                        out.add(side.value)
        return out

    def _stringish(self, ann: cst.BaseExpression) -> bool:
        q = self.model.qualname(ann, self.fn.outer)
        if q == "builtins.str":
            return True
        if isinstance(ann, cst.Subscript) and self.model.qualname(ann.value, self.fn.outer) == "typing.Optional":
            return all(isinstance(e.slice, cst.Index) and self._stringish(e.slice.value) for e in ann.slice)
        if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
            parts = [ann.left, ann.right]
            return any(self._stringish(p) for p in parts) and all(
                self._stringish(p) or (isinstance(p, cst.Name) and p.value == "None") for p in parts)
        return False

    def _converted(self, container: cst.BaseExpression, key: str) -> bool:
        """``request.path_params["uid"]`` where every route of the function has ``{uid:int}``
        (or ``float``, ``uuid``)."""
        if not (isinstance(container, cst.Attribute) and container.attr.value == "path_params"):
            return False
        paths = [p for r in self.fw.routes if r.function is self.fn for p in ([r.path] if r.path else [])]
        pattern = re.compile(r"{" + re.escape(key) + r":(int|float|uuid)}")
        return bool(paths) and all(pattern.search(p) for p in paths)

    def source(self, expr: cst.BaseExpression, depth: int = 0) -> Optional[str]:
        """What request data ``expr`` carries (``path parameter item_id``), or None."""
        if depth > 12:
            return None
        if isinstance(expr, cst.Name):
            if expr.value in self.params:
                return f"parameter {expr.value}"
            return self.locals.get(expr.value)
        if isinstance(expr, cst.Await):
            return self.source(expr.expression, depth + 1)
        if isinstance(expr, cst.Subscript):
            key = string_value(expr.slice[0].slice.value) if len(expr.slice) == 1 and isinstance(
                expr.slice[0].slice, cst.Index) else None
            if key is not None and self._converted(expr.value, key):
                return None  # ``{uid:int}``: Starlette made it a number
            return self.source(expr.value, depth + 1)
        if isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name) and expr.value.value in self.requests and expr.attr.value in _REQUEST_DATA:
                return f"request.{expr.attr.value}"
            return self.source(expr.value, depth + 1)
        if isinstance(expr, cst.Call):
            q = self.model.qualname(expr.func, self.fn.scope)
            if q in _SANITIZERS:
                return None
            func = expr.func
            if isinstance(func, cst.Attribute):
                owner = func.value
                reads = ("json", "form", "body")
                if isinstance(owner, cst.Name) and owner.value in self.requests and func.attr.value in reads:
                    return f"request.{func.attr.value}()"
                if func.attr.value not in _STR_METHODS:
                    return None  # ``.count()``, ``.isdigit()``: a number or a bool
                return self.source(owner, depth + 1)  # ``q.strip()``, ``request.query_params.get("q")``
            if q == "builtins.str" and expr.args:
                return self.source(expr.args[0].value, depth + 1)
        return None


def _formatted(model: Model, expr: cst.BaseExpression, taint: _Taint, scope: Scope, depth: int = 0
               ) -> Optional[tuple[str, str]]:
    """How SQL text is built from request data: (``an f-string``, ``parameter q``), or None."""
    if depth > 6:
        return None
    if isinstance(expr, cst.Name):
        found = model.value_of(expr, scope)
        return _formatted(model, found[0], taint, found[1], depth + 1) if found is not None else None
    if isinstance(expr, cst.FormattedString):
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringExpression):
                source = taint.source(part.expression)
                if source is not None:
                    return "an f-string", source
        return None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Modulo, cst.Add)):
        strings = (cst.SimpleString, cst.ConcatenatedString)
        if isinstance(expr.operator, cst.Modulo) and not isinstance(expr.left, strings):
            return None
        if isinstance(expr.operator, cst.Modulo):
            literal = string_value(expr.left)
            if literal is not None and not any(c in "sra" for c in _CONVERSION.findall(literal)):
                return None  # only %d, %f...: a number, or a TypeError
        how = "% formatting" if isinstance(expr.operator, cst.Modulo) else "+ concatenation"
        values = [expr.right] if isinstance(expr.operator, cst.Modulo) else [expr.left, expr.right]
        for value in values:
            items = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) else [value]
            for item in items:
                source = taint.source(item)
                if source is not None:
                    return how, source
                inner = _formatted(model, item, taint, scope, depth + 1) if not isinstance(item, cst.Name) else None
                if inner is not None:
                    return inner
        return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "format" \
            and isinstance(expr.func.value, (cst.SimpleString, cst.ConcatenatedString)):
        for arg in expr.args:
            source = taint.source(arg.value)
            if source is not None:
                return ".format()", source
    return None


class SqlFromRequestData(Rule):
    """
    ## What it does
    Reports SQL text built by formatting (an f-string, `%`, `.format()` or `+`) with a part
    that comes from request data, passed to a database driver in request-path code:
    asyncpg `Connection`/`Pool` `execute`, `fetch`, `fetchrow`, `fetchval`; psycopg and
    aiopg connections' and cursors' `execute`; `databases.Database`; SQLAlchemy `text()` and
    `exec_driver_sql()`.

    Request data is a path operation's `str` parameters (FastAPI validates `int`, `UUID`,
    `datetime`... parameters into values that cannot carry SQL), what a request object gives
    (`request.path_params`, `request.query_params`, headers, cookies, `await request.json()`,
    `await request.form()`), and locals assigned once from those, within the function;
    `int(...)` and `float(...)` stop it. The query may be built in the call or in a local
    assigned once.

    ## Why is this bad?
    SQL injection: `'; DROP TABLE users; --` in a query parameter runs as SQL with the
    application's database rights. Every driver binds parameters separately from the text.

    ## Example
    ```python
    @app.get("/users")
    async def find_users(name: str):
        return await conn.fetch(f"SELECT * FROM users WHERE name = '{name}'")
    ```

    ## Use instead
    ```python
    @app.get("/users")
    async def find_users(name: str):
        return await conn.fetch("SELECT * FROM users WHERE name = $1", name)
    ```
    (`%s` with psycopg and aiopg, `:name` with `databases` and SQLAlchemy `text()`).
    """

    code = "STL508"
    name = "sql-from-request-data"
    summary = "SQL text formatted with request data passed to a database driver in request-path code"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for fn in model.functions:
            if not fw.roles_of(fn) & REQUEST_ROLES:
                continue
            taint: Optional[_Taint] = None
            for site in fn.calls:
                q = model.call_qualname(site)
                placeholder = _SQL_SINKS.get(q) if q is not None else None
                if placeholder is None:
                    continue
                query = argument(site.node, 0, "query") or keyword(site.node, "sql") or keyword(site.node, "text")
                if query is None:
                    continue
                taint = taint or _Taint(fw, fn)
                if not taint.params and not taint.requests and not taint.locals:
                    break
                found = _formatted(model, query.value, taint, fn.scope)
                if found is None:
                    continue
                how, source = found
                yield self.report(
                    query,
                    f"SQL built with {how} from {source} goes to {model.snippet(site.node.func)}() in "
                    f"{fw.describe(fn)}: SQL injection; pass the value as a bound parameter ({placeholder})")
