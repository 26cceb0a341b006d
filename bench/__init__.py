"""Benchmarks: ``make bench`` (``python -m bench.run``); results in bench/RESULTS.md."""
