"""Benchmarks of filiere-bot, run by ``make bench`` (``python -m bench``); not tests.

Each script prints its figures and, where it compares, the ratio to a baseline measured in the
same run on the same machine: shared machines are noisy, so ratios and medians, not single
absolute times.
"""
