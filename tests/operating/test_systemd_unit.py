"""The systemd unit of ``deploy/``: what it promises, and that systemd reads it without a word.

``systemd-analyze`` comes with systemd; a machine or container without it cannot check the
unit, which says nothing about the unit. So, unlike a missing test server
(``tests.support.unavailable``, a failure under CI), its absence is a plain skip with its reason,
in CI too: the summary shows it (``-rs``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
UNIT = ROOT / "deploy" / "filiere-bot.service"
INSTALLED = "/opt/filiere-bot/.venv/bin/filiere-bot"


def settings(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, values in order (a key may be given several times)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _sep, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed here (no systemd): the unit is not checked")
    return found


def test_the_unit_restarts_on_failure_as_its_own_user_and_writes_only_its_folder():
    unit = settings(UNIT.read_text(encoding="utf-8"))
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["filiere-bot"] and unit["Group"] == ["filiere-bot"]
    assert unit["EnvironmentFile"] == ["/etc/filiere-bot/filiere-bot.env"]
    assert unit["ExecStart"] == [f"{INSTALLED} run"]
    assert unit["ReadWritePaths"] == ["/var/lib/filiere-bot"]
    assert unit["StateDirectory"] == ["filiere-bot"] and unit["UMask"] == ["0077"]
    for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                       "NoNewPrivileges": "yes", "PrivateDevices": "yes",
                       "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes",
                       "ProtectControlGroups": "yes", "CapabilityBoundingSet": ""}.items():
        assert unit.get(key) == [value], key
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]


@pytest.fixture
def installed_here(tmp_path: Path) -> Path:
    """The unit as if this checkout were installed in /opt: its program must exist for
    ``systemd-analyze verify``, and here it is the console script of the running Python."""
    program = Path(sys.executable).parent / "filiere-bot"
    assert program.exists(), f"{program}: run `make install` first"
    copy = tmp_path / "filiere-bot.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(program)),
                    encoding="utf-8")
    return copy


def test_systemd_reads_the_unit_without_an_error_or_a_warning(installed_here: Path):
    done = subprocess.run([systemd_analyze(), "verify", str(installed_here)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    # A key systemd does not know, or a value it cannot parse, is only a warning ("ignoring").
    assert done.stderr.strip() == "", done.stderr


def test_systemd_rates_the_units_exposure_ok(installed_here: Path):
    done = subprocess.run([systemd_analyze(), "security", "--offline=yes", "--no-pager",
                           str(installed_here)],
                          capture_output=True, text=True, timeout=120, check=False)
    if "--offline" in done.stderr:  # systemd before 250 cannot rate a unit file offline
        pytest.skip(f"systemd-analyze security --offline is not supported here: {done.stderr}")
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert level is not None, done.stdout + done.stderr
    assert float(level.group(1)) <= 2.0, done.stdout
