"""The ``mycon`` command line (placeholder until the console lands)."""

from __future__ import annotations


def main() -> None:
    """Entry point of the ``mycon`` script."""
    raise SystemExit("mycon: the console is not built yet")
