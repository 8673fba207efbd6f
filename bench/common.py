"""Helpers shared by the benchmarks: statistics, memory, the machine, settings for a bot."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, load

ROOT = Path(__file__).resolve().parent.parent
"""The repository, put on ``PYTHONPATH`` of the processes a benchmark starts."""


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values`` (nearest rank: no interpolation)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_mb() -> float:
    """The resident memory of this process now, in MB (from /proc; peak if unavailable)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def machine() -> str:
    """One line saying where the figures come from."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def bot_settings(**env: str) -> Settings:
    """Settings as a deployment would have them, without reading a ``.env`` file."""
    base = {"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "yes",
            "FILIERE_LOG_LEVEL": "WARNING"}
    return load({**base, **env}, dotenv=None)


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)
