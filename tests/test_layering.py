"""The layering of ARCHITECTURE.md, checked on every run so it stays true.

bot → handlers → flows ← storage; only bot/ imports a platform library, the scheduler or the
web server's libraries;
flows/ imports nothing of ours but flows, and only the standard library otherwise.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"bot", "handlers", "flows", "storage"}
PLATFORM = {"telegram", "nio", "apscheduler", "aiohttp", "jinja2", "prometheus_client",
            "aiosmtplib", "android_sms_gateway"}
"""Chat platforms, the scheduler, and the web server's libraries: ``bot/`` only."""
ALLOWED = {
    "bot": OURS,
    "handlers": {"handlers", "flows"},
    "flows": {"flows"},
    "storage": {"storage", "flows"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_architecture_allows(package: str):
    wrong = {
        str(path.relative_to(ROOT)): sorted((imports(path) & OURS) - ALLOWED[package])
        for path in modules(package)
    }
    assert {k: v for k, v in wrong.items() if v} == {}


@pytest.mark.parametrize("package", ["handlers", "flows", "storage"])
def test_only_bot_imports_a_platform_library_or_the_scheduler(package: str):
    leaks = {str(p.relative_to(ROOT)): sorted(imports(p) & PLATFORM) for p in modules(package)}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_flows_use_only_the_standard_library():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    foreign = {
        str(p.relative_to(ROOT)): sorted(imports(p) - stdlib - {"flows"}) for p in modules("flows")
    }
    assert {k: v for k, v in foreign.items() if v} == {}


def test_the_check_sees_a_violation(tmp_path: Path):
    """The checker itself must catch a forbidden import (a test that can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom storage.db import Database\n", encoding="utf-8")
    assert imports(bad) == {"telegram", "storage"}
