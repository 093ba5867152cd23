"""mycon's Python kernel: a fast, first-class Jupyter kernel.

Run it with ``python -m kernel`` (see ``kernel.__main__``).
"""

from __future__ import annotations

__version__ = "0.1.0"
