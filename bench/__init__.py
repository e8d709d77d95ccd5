"""Benchmarks that print figures: `make bench` (full) and `make bench-smoke` (a few seconds each).

Every load comes from a process other than the one measured (wrk, or a load process of ours),
on SQLite and on a throwaway PostgreSQL database. docs/benchmarks.md explains each figure.
"""
