"""The visual debugger: the Debug Adapter Protocol (DAP) that JupyterLab's and VS Code's debuggers
speak in ``debug_request`` / ``debug_reply`` on control and ``debug_event`` on iopub, served by
debugpy (the optional extra ``mycon[debugger]``).

Process and protocol layer (sockets to debugpy's adapter, kernel messages), loaded on the first
``debug_request``, never at start-up. ``session`` answers each DAP command, ``dap`` is the
connection to debugpy's adapter, ``cells`` names the files cells are compiled under.
"""

from __future__ import annotations

import importlib.util


def available() -> bool:
    """True when debugpy can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("debugpy") is not None
    except (ImportError, ValueError):  # a broken or blocked (``sys.modules[name] = None``) module
        return False
