"""Long text in a pager and files in the person's editor: the ``page`` and ``edit_magic``
payloads of a cell's reply (``obj?``, ``%edit``)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from console.output import Printer


async def page(text: str, printer: Printer) -> None:
    """``text`` printed when it fits the terminal, else shown in ``$PAGER`` (``less -R``)."""
    printer.ensure_line_start()
    rows = shutil.get_terminal_size((80, 24)).lines
    if text.count("\n") + 1 < rows - 1 or not sys.stdout.isatty():
        printer.write(text if text.endswith("\n") else text + "\n")
        printer.flush()
        return
    pager = os.environ.get("PAGER") or "less -R"
    try:
        await asyncio.to_thread(
            subprocess.run, shlex.split(pager), input=text.encode(), check=False
        )
    except OSError:
        printer.write(text + "\n")


async def edit(filename: str, line: Any, suffix: str, printer: Printer) -> str | None:
    """Open ``filename`` (a new temporary file when empty) in ``$VISUAL``/``$EDITOR``; the text
    saved there, for the next prompt (None when the editor could not run)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    if not filename:
        fd, filename = tempfile.mkstemp(suffix=suffix)
        os.close(fd)
    argv = shlex.split(editor) + ([f"+{line}"] if isinstance(line, int) else []) + [filename]
    try:
        await asyncio.to_thread(subprocess.run, argv, check=False)
        with open(filename, encoding="utf-8") as f:
            return f.read().rstrip("\n")
    except OSError as e:
        printer.write(f"cannot run editor {editor!r}: {e}\n")
        return None
