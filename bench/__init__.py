"""mycon benchmark suite: run it with ``python bench/run.py`` (see bench/README.md)."""
