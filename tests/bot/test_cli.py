"""The command line as a newcomer and as a script use it: settings errors and the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load

ROOT = Path(__file__).resolve().parent.parent.parent


def run_bot(
    args: list[str], stdin: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` as a user would, with only the given settings."""
    prefixes = ("FILIERE_", "TELEGRAM_", "MATRIX_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, env={**base, **env}, cwd=cwd, timeout=60,
                          check=False)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"FILIERE_COORDINATORS": "tg:1, bob"}, "FILIERE_COORDINATORS"),
        ({"FILIERE_TIMEZONE": "Mars/Olympus"}, "FILIERE_TIMEZONE"),
        ({"FILIERE_DEFAULT_LANGUAGE": "de"}, "FILIERE_DEFAULT_LANGUAGE"),
        ({"FILIERE_CONVERSATION_TTL_HOURS": "soon"}, "FILIERE_CONVERSATION_TTL_HOURS"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"MATRIX_HOMESERVER": "https://m.example.org"}, "MATRIX_USER_ID"),
        ({"MATRIX_HOMESERVER": "https://m.example.org", "MATRIX_USER_ID": "@b:example.org"},
         "MATRIX_ACCESS_TOKEN"),
    ],
)
def test_a_malformed_setting_names_the_variable(env: dict[str, str], variable: str):
    with pytest.raises(SettingsError, match=variable):
        load(env, dotenv=None)


def test_a_bad_setting_exits_2_with_one_line_and_no_traceback(tmp_path: Path):
    result = run_bot(["console"], "", {"FILIERE_TIMEZONE": "Nowhere/Town"}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "FILIERE_TIMEZONE" in lines[0]
    assert "Traceback" not in result.stderr


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nFILIERE_DEFAULT_LANGUAGE=en\nFILIERE_TIMEZONE='UTC'\n")
    settings = load({"FILIERE_TIMEZONE": "Europe/Paris"}, dotenv=dotenv)
    assert settings.default_lang == "en" and str(settings.timezone) == "Europe/Paris"


def test_console_script_access_request_approval_end_to_end(tmp_path: Path):
    """The whole path through the real console: request, refusal before approval, approval."""
    script = "\n".join([
        "bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "05400", "1",
        "Ana Martin", "Conseillère sociale", "06 12 34 56 78", "1",
        "menu", "1",            # still pending: professional space refused
        "@coord: 1",            # the coordinator approves from the notice
        "menu", "1",            # now the professional space opens
    ]) + "\n"
    env = {"FILIERE_DATABASE": str(tmp_path / "c.sqlite3"), "FILIERE_COORDINATORS": "cli:coord"}
    result = run_bot(["console", "--as", "ana"], script, env, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[→ cli:coord]" in out and "Nouvelle demande d'accès n° 1" in out
    assert out.index("en cours d'examen") < out.index("accès professionnel est validé")
    assert "Espace professionnel. Que voulez-vous voir ?" in out
    assert "Traceback" not in result.stderr


def test_import_territory_loads_another_departement_into_the_database(tmp_path: Path):
    """Another network points the bot at the official files of its own département."""
    import json
    import sqlite3

    from tests.bot.test_territory_import import COMMUNES, EPCIS

    (tmp_path / "communes.json").write_text(json.dumps(COMMUNES), encoding="utf-8")
    (tmp_path / "epci.json").write_text(json.dumps(EPCIS), encoding="utf-8")
    db = tmp_path / "other.sqlite3"
    result = run_bot(["import-territory", "--communes", "communes.json", "--epci", "epci.json",
                      "--departement", "38", "--db", str(db)], "", {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "département 38" in result.stdout
    with sqlite3.connect(db) as raw:
        names = {row[0] for row in raw.execute("SELECT name FROM communes")}
    assert "Grenoble" in names


def test_import_territory_with_a_missing_file_exits_2(tmp_path: Path):
    result = run_bot(["import-territory", "--communes", "nope.json", "--epci", "nope.json",
                      "--departement", "05", "--db", str(tmp_path / "x.sqlite3")], "", {},
                     tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_every_setting_read_is_documented_in_env_example():
    import re

    read = set(re.findall(r'"((?:FILIERE|TELEGRAM|MATRIX)_[A-Z_]+)"',
                          (ROOT / "bot" / "settings.py").read_text(encoding="utf-8")))
    documented = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert read and sorted(name for name in read if name not in documented) == []
