"""Rich output: ``api`` (``display()``, ``update_display()``, ``clear_output()`` and the HTML,
Markdown, Image... wrappers user code calls), ``formatting`` (an object's mime bundle),
``pretty`` (its text/plain form, as IPython prints it) and ``mpl_backend`` (matplotlib figures
as PNG).

``from kernel.display import HTML`` works as it reads: the names of ``api`` are loaded on first
use, since the shell imports ``formatting`` at start-up and must not pay for the rest.
"""

from __future__ import annotations

from typing import Any

# Asked for by ``from kernel.display import formatting`` before that submodule is loaded: these
# must not load ``api``.
_SUBMODULES = frozenset({"api", "formatting", "pretty", "mpl_backend"})


def __getattr__(name: str) -> Any:
    """The public names of ``kernel.display.api``, imported on first use."""
    if name in _SUBMODULES or name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    api = importlib.import_module(f"{__name__}.api")  # not ``from . import``: that asks us again
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
