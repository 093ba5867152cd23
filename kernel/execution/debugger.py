"""pdb made to end on an interrupt, as in ipykernel (whose pdb is IPython's ``InterruptiblePdb``).

In a terminal, Ctrl-C at the pdb prompt cancels the command being typed and asks again. In a
kernel the prompt is an ``input_request`` that the front end may never answer (a notebook whose
user left, a client that queued the next cell): an interrupt is the only way out, so it ends the
debugger. As in ipykernel, the interrupt is reported and the code goes on without the debugger,
so the cell ends normally and the next queued cell runs. Applied when pdb is first imported.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


def _cmdloop_ended_by_interrupt(self: Any) -> None:
    """``Pdb._cmdloop``: the prompt loop; KeyboardInterrupt stops debugging, is reported, and
    the debugged code runs on untraced."""
    try:
        self.allow_kbdint = True
        self.cmdloop()
        self.allow_kbdint = False
    except KeyboardInterrupt as exc:
        self.allow_kbdint = False
        self.message(f"--KeyboardInterrupt--\nKeyboardInterrupt: {exc}" if str(exc) else "--KeyboardInterrupt--")
        self.stop_here = lambda frame: False  # no further stops in the frames being traced
        self.set_quit()  # tracing off (sys.settrace(None))
        sys.settrace(None)
        self.quitting = False  # so no BdbQuit either


def make_interruptible(pdb: ModuleType) -> None:
    """Patch the (just imported) pdb module's ``Pdb`` so an interrupt ends the debugger."""
    pdb_class: Any = getattr(pdb, "Pdb", None)
    if pdb_class is not None and hasattr(pdb_class, "_cmdloop"):
        pdb_class._cmdloop = _cmdloop_ended_by_interrupt
