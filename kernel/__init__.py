"""mycon's Python kernel: a fast, first-class Jupyter kernel.

Run it with ``python -m kernel`` (see ``kernel.__main__``).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``embed_kernel`` is imported on first use, so the kernel's start-up loads nothing more."""
    if name == "embed_kernel":
        from .embed import embed_kernel

        return embed_kernel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
