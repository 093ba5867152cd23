"""mycon's terminal console for Jupyter kernels."""

from __future__ import annotations

__version__ = "0.1.0"
