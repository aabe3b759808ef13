"""Measured figures for vret (not tests): frame pacing, latency, long sessions, throughput.

Run with `make bench` (or `python -m benchmarks`). Each part prints a table; all figures go to
`bench-results.json` at the repository root.
"""
