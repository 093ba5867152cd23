"""pdb as ipykernel has it (IPython's debugger): it shows source context where it stops, and an
interrupt at its prompt ends it.

Where it stops, pdb shows the frame and the lines around the current one, numbered, the current
one marked ``---->``, as IPython's debugger does (the standard pdb shows one line).

In a terminal, Ctrl-C at the pdb prompt cancels the command being typed and asks again. In a
kernel the prompt is an ``input_request`` that the front end may never answer (a notebook whose
user left, a client that queued the next cell): an interrupt is the only way out, so it ends the
debugger. As in ipykernel, the interrupt is reported and the code goes on without the debugger,
so the cell ends normally and the next queued cell runs.

Applied to the pdb module when it is first imported (``%debug``, ``%pdb``, ``pdb.set_trace()``,
``breakpoint()``).
"""

from __future__ import annotations

import linecache
import sys
from types import ModuleType
from typing import Any

CONTEXT_LINES = 5  # source lines shown around the current one, as IPython's debugger


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


def context_lines(filename: str, lineno: int, module_globals: Any = None) -> list[str]:
    """The numbered source lines around ``lineno``, the current one marked (IPython's form)."""
    lines = linecache.getlines(filename, module_globals)
    if not lines:
        return []
    first = max(1, lineno - CONTEXT_LINES // 2)
    last = min(len(lines), first + CONTEXT_LINES - 1)
    shown = []
    for number in range(first, last + 1):
        digits = str(number)
        if number == lineno:
            marker = "-" * max(1, 5 - len(digits)) + "> " + digits
        else:
            marker = digits.rjust(7)
        shown.append(f"{marker} {lines[number - 1].rstrip()}")
    return shown


def _print_stack_entry(self: Any, frame_lineno: Any, prompt_prefix: str = "\n-> ") -> None:
    """``Pdb.print_stack_entry``: where the debugger is, with the source around it."""
    frame, lineno = frame_lineno
    code = frame.f_code
    marker = "> " if frame is self.curframe else "  "
    self.message(f"{marker}{self.canonic(code.co_filename)}({lineno}){code.co_name}()")
    for line in context_lines(code.co_filename, lineno, frame.f_globals):
        self.message(line)
    self.message("")


def make_interruptible(pdb: ModuleType) -> None:
    """Patch the (just imported) pdb module's ``Pdb``: source context where it stops, and an
    interrupt ends the debugger."""
    pdb_class: Any = getattr(pdb, "Pdb", None)
    if pdb_class is not None and hasattr(pdb_class, "_cmdloop"):
        pdb_class._cmdloop = _cmdloop_ended_by_interrupt
        pdb_class.print_stack_entry = _print_stack_entry
