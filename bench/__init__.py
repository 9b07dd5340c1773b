"""Benchmarks: `make bench` runs every `bench/bench_*.py` and writes results/bench/<stage>.json."""
