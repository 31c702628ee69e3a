"""Benchmarks: `python -m bench` prints one table per module listed in bench/__main__.py."""
