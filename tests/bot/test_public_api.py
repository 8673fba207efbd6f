"""The adapters use python-telegram-bot and matrix-nio through their public interface only.

A private attribute (``bot._client``, ``request._client``) or a write into a frozen object
(``object.__setattr__``) works until the library's next release renames or freezes it; what
the library documents is what stays. Read from the source of ``bot/``:

* no ``object.__setattr__``, and no ``getattr``/``setattr`` of a private name;
* no ``._name`` read on an object of the libraries (by the names the adapters give them:
  ``bot``, ``client``, ``request``, ``update``...);
* in a class deriving from one of the libraries' classes, no ``self._name`` that the class does
  not set itself (that would be the library's own private state).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
LIBRARIES = ("telegram", "nio")
LIBRARY_OBJECTS = frozenset({
    "bot", "application", "app", "updater", "request", "client", "update", "message",
    "query", "callback_query", "member", "chat", "user", "markup", "response", "event",
    "room", "olm", "store", "transport_response", "site", "runner", "server",
})
"""Names the adapters give the libraries' objects (and aiohttp's, for the webhook)."""


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _last_name(node: ast.expr) -> str | None:
    """``x`` of ``x``, ``self.x``, ``a.b.x``: how the object is named where it is used."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _library_classes(tree: ast.Module) -> set[str]:
    """Names imported from the libraries in a module (the classes one may derive from)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] in LIBRARIES:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _own_attributes(cls: ast.ClassDef) -> set[str]:
    """Attributes a class sets itself (``self.x = ...``, ``__slots__``, methods)."""
    own: set[str] = set()
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and _last_name(target.value) == "self":
                own.add(target.attr)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node in cls.body:
            own.add(node.name)
    return own


def violations(path: Path) -> list[str]:
    """Each use of a library's private state in one source file, as ``file:line what``."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    found: list[str] = []
    where = path.name

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{where}:{getattr(node, 'lineno', 0)} {what}")

    library_classes = _library_classes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in {"__setattr__", "__delattr__"} \
                    and _last_name(func.value) == "object":
                report(node, f"object.{func.attr}")
            if isinstance(func, ast.Name) and func.id in {"getattr", "setattr", "delattr",
                                                          "hasattr"} and len(node.args) >= 2:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str) \
                        and _private(name.value):
                    report(node, f"{func.id}(..., {name.value!r})")
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _last_name(node.value)
            if owner in LIBRARY_OBJECTS:
                report(node, f"{owner}.{node.attr}")
        if isinstance(node, ast.ClassDef):
            bases = {_last_name(base) for base in node.bases}
            if bases & library_classes:
                own = _own_attributes(node)
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Attribute) and _private(inner.attr) \
                            and _last_name(inner.value) == "self" and inner.attr not in own:
                        report(inner, f"self.{inner.attr} of a {'/'.join(sorted(bases))}")
    return found


def test_the_adapters_read_no_private_state_of_the_libraries():
    found = [line for path in sorted(BOT.glob("*.py")) for line in violations(path)]
    assert found == []


@pytest.mark.parametrize("code, what", [
    ("class R(HTTPXRequest):\n    def f(self):\n        return self._client\n",
     "self._client of a HTTPXRequest"),
    ("def f(bot):\n    return bot.request._client\n", "request._client"),
    ("def f(markup):\n    object.__setattr__(markup, '_as_dict', {})\n", "object.__setattr__"),
    ("def f(site):\n    return site._server\n", "site._server"),
    ("def f(x):\n    return getattr(x, '_private')\n", "getattr(..., '_private')"),
])
def test_the_check_finds_what_it_looks_for(tmp_path: Path, code: str, what: str):
    module = tmp_path / "adapter.py"
    module.write_text("from telegram.request import HTTPXRequest\n\n" + code)
    assert [line.split(" ", 1)[1] for line in violations(module)] == [what]


def test_a_class_may_read_its_own_private_state(tmp_path: Path):
    module = tmp_path / "adapter.py"
    module.write_text("from telegram.request import BaseRequest\n\n"
                      "class R(BaseRequest):\n    def __init__(self):\n        self._http = 1\n"
                      "    def f(self):\n        return self._http\n")
    assert violations(module) == []
