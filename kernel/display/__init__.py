"""Rich output: ``api`` (``display()``, ``update_display()``, ``clear_output()`` and the HTML,
Markdown, Image... wrappers user code calls), ``formatting`` (an object's mime bundle),
``pretty`` (its text/plain form, as IPython prints it) and ``mpl_backend`` (matplotlib figures
as PNG).

``from kernel.display import HTML`` works as it reads: the names of ``api`` are loaded on first
use, since the shell imports ``formatting`` at start-up and must not pay for the rest.
"""

from __future__ import annotations

from typing import Any

__all__ = [  # the public names of ``api``, the user-facing display API
    "HTML",
    "JSON",
    "SVG",
    "DisplayHandle",
    "DisplayObject",
    "Image",
    "Javascript",
    "Latex",
    "Markdown",
    "Pretty",
    "clear_output",
    "display",
    "install",
    "publish_display_data",
    "update_display",
]


def __getattr__(name: str) -> Any:
    """A public name of ``kernel.display.api``, which is imported on first use."""
    if name not in __all__:  # a submodule asked for before it is loaded, or no such name
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import api

    return getattr(api, name)
