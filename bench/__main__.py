"""``python -m bench`` (``make bench``): every benchmark in turn, each printing its figures.

``python -m bench engine`` (or ``engines``, ``reminders``, ``telegram``, ``tapping``,
``matrix``, ``national``, ``peers``, ``takeover``) runs one; each module also takes its own
options (``python -m bench.engine --help``). The Matrix one starts the tests' Synapse
(installed once into ``var/synapse-venv``); ``peers`` measures aiogram when the ``bench``
extra is installed (``.venv/bin/pip install -e '.[bench]'``).
"""

from __future__ import annotations

import sys

from bench import (
    engine,
    engines,
    matrix,
    national,
    peers,
    reminders,
    takeover,
    tapping,
    telegram,
)

BENCHMARKS = {"engine": engine.main, "engines": engines.main, "reminders": reminders.main,
              "telegram": telegram.main, "tapping": tapping.main, "matrix": matrix.main,
              "national": national.main, "peers": peers.main, "takeover": takeover.main}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose among {sorted(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    for name in chosen:
        BENCHMARKS[name]([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
