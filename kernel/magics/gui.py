"""GUI magics: ``%gui`` (a toolkit's event loop between requests) and ``%qtconsole`` (another
console on this kernel, in a new terminal). The loops themselves are in ``display.gui``."""

from __future__ import annotations

import os
import subprocess

from ..display import gui
from ..execution.tracebacks import CellError
from .registry import _builtin
from .runtime import MagicRuntime


@_builtin("gui")
def _gui(rt: MagicRuntime, args: str) -> None:
    """Let windows respond while the kernel waits: ``%gui tk``, ``%gui qt``; ``%gui`` alone
    stops the toolkit's loop."""
    words = args.split()
    if len(words) > 1:
        raise CellError(f"%gui takes one toolkit name (tk or qt), not {args.strip()!r}")
    gui.enable(rt.shell, words[0] if words else "")


@_builtin("qtconsole")
def _qtconsole(rt: MagicRuntime, args: str) -> None:
    """Open another console on this kernel (``mycon --existing``) in a new terminal."""
    path = rt.connection_file
    if not path:
        raise CellError("%qtconsole: this kernel has no connection file to attach to")
    command = gui.terminal_command(path)
    if command is None:
        print(f"No terminal can be opened from here; attach a console with: mycon --existing {path}")
        return
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, env=dict(os.environ))
    except OSError as exc:
        print(f"Could not open a terminal ({exc}); attach a console with: mycon --existing {path}")
        return
    print(f"Opened a console on this kernel ({command[0]}).")
