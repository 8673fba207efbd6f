"""Extract every message id, update the fr and en catalogs, and report what is untranslated.

French is the source language: its catalog is filled with the ids themselves, so that it is
complete by construction and a French wording can still be changed there without touching
code. English must be translated by a person; this script lists what is missing and exits 1
while anything is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "locales" / "filiere.pot"
DOMAIN = "filiere"
LANGS = ("fr", "en")


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True,
                   cwd=ROOT)


def main() -> int:
    run("extract", "-F", "babel.cfg", "-k", "_n:1,2", "--no-location", "--sort-output",
        "--project", "filiere-bot", "--copyright-holder", "filiere-bot contributors",
        "-o", str(POT), ".")
    for lang in LANGS:
        po = ROOT / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        verb = "update" if po.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if verb == "update" else []
        run(verb, "-i", str(POT), "-d", "locales", "-D", DOMAIN, "-l", lang, *extra)
    fr = ROOT / "locales" / "fr" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with fr.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with fr.open("wb") as handle:
        write_po(handle, catalog, width=99, omit_header=False)
    en = ROOT / "locales" / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with en.open("rb") as handle:
        english = read_po(handle, locale="en")
    missing = [m.id for m in english if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]
    for msgid in missing:
        print(f"untranslated (en): {msgid if isinstance(msgid, str) else msgid[0]!r}")
    print(f"{len(english) - 1} messages, {len(missing)} untranslated in English")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
