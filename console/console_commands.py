"""The ``%mycon`` console commands: typed at the prompt, run by the console, never sent to the kernel.

``page``, ``save`` and ``view`` act on the output area (the last cut output, the last image) and
run here. ``notebook`` needs the session's record of cells (``ConsoleSession.save_notebook``) and
``restart``, ``interrupt`` and ``shutdown`` the kernel's life (``console.lifecycle``,
``console.sharing``): their owners run them, under the names given here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable

from console.displays import OutputArea

RESTART_WORD = "%mycon restart"
SHUTDOWN_WORD = "%mycon shutdown"
INTERRUPT_WORD = "%mycon interrupt"
COMMANDS_HELP = """\
mycon console commands (typed at the prompt, never sent to the kernel):
  %mycon page          show the last cut output in full, in $PAGER (default: less -R)
  %mycon save [DIR]    save the last image shown to DIR (default: the current folder)
  %mycon view          open the last image shown in the system's image viewer
  %mycon restart       restart the kernel (asks first; Ctrl-X Ctrl-K does the same)
  %mycon interrupt     interrupt the cell the kernel runs (also another client's)
  %mycon shutdown      shut the kernel down for every client, then leave (asks first)
  %mycon notebook FILE save this console's cells and outputs as a notebook (-f replaces FILE)
  %mycon side CODE     run CODE in a kernel subshell: answered at once, even while a cell
                       runs (Ctrl-X s: the typed text, or a side> prompt while a cell runs)
  %mycon               this help"""


def kernel_command(code: str) -> str:
    """``restart``, ``interrupt`` or ``shutdown`` for the commands that act on the kernel's
    life (run by the console's owners of it, not here), else ``""``."""
    words = code.split()
    for word in (RESTART_WORD, INTERRUPT_WORD, SHUTDOWN_WORD):
        if words == word.split():
            return words[1]
    return ""


def is_console_command(code: str) -> bool:
    """True for a ``%mycon ...`` line, which the console runs itself."""
    words = code.strip().split()
    return bool(words) and words[0] == "%mycon" and "\n" not in code.strip()


def console_command(
    code: str, area: OutputArea, page: Callable[[str], None]
) -> str:
    """Run a ``%mycon`` command; returns what to print (``page`` shows long text)."""
    words = code.strip().split()[1:]
    if not words or words[0] in ("help", "-h", "--help"):
        return COMMANDS_HELP + "\n"
    verb, args = words[0], words[1:]
    if verb == "page":
        if area.full_output is None:
            return "no output was cut: there is nothing more to show\n"
        try:
            with open(area.full_output, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            return f"cannot read {area.full_output}: {e.strerror}\n"
        page(text)
        return ""
    if verb in ("save", "view"):
        if area.last_image is None:
            return "no image has been shown yet\n"
        from console.mime import save_image, viewer_command
        from console.mime.images import ImageError

        mime, payload = area.last_image
        folder = args[0] if args and verb == "save" else (
            os.getcwd() if verb == "save" else tempfile.gettempdir()
        )
        try:
            path = save_image(payload, mime, folder)
        except (ImageError, OSError) as e:
            return f"cannot save the image: {e}\n"
        if verb == "save":
            return f"saved {path}\n"
        argv = viewer_command(path)
        try:
            subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )
        except OSError as e:
            return f"cannot run {shlex.join(argv)}: {e.strerror} (the image is saved in {path})\n"
        return f"opened {path} with {argv[0]}\n"
    return f"unknown console command {verb!r}\n{COMMANDS_HELP}\n"
