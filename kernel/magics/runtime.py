"""Magics, shell escapes and ``?`` help: the runtime that transformed cells call.

``kernel.execution.transform`` rewrites ``%name args`` into ``__mycon_magic__.line("name",
"args")`` and so on; ``install`` puts a ``MagicRuntime`` bound to the shell into builtins under
that name (``kernel.language`` does so on the first magic, to keep start-up light). The magics
themselves are found in ``kernel.magics.registry``; heavy modules (subprocess, json, timeit,
inspect, shlex) are imported inside the functions that use them.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from ..execution.tracebacks import CellError
from .registry import lookup, magic_help

if TYPE_CHECKING:
    from ..execution.shell import Shell
    from ..services.history import HistoryStore

HELPER_NAME = "__mycon_magic__"


# ----- the runtime ------------------------------------------------------------------------------


class LineList(list[str]):
    """The lines printed by ``x = !cmd``; ``.s`` joins them with spaces, ``.n`` with newlines."""

    @property
    def s(self) -> str:
        return " ".join(self)

    @property
    def n(self) -> str:
        return "\n".join(self)

    @property
    def l(self) -> list[str]:  # noqa: E743 - IPython's name for it
        return list(self)


class MagicRuntime:
    """What transformed cells call: runs magics and shell commands against one shell."""

    def __init__(
        self,
        shell: Shell,
        connection_info: Any = None,
        connection_file: str | None = None,
        hidden: set[str] | None = None,
    ) -> None:
        self.shell = shell
        self.connection_info = connection_info
        self.connection_file = connection_file
        # names present before the user typed anything (not listed by %who, kept by %reset)
        self.hidden = set(shell.user_ns) if hidden is None else hidden
        self.dir_history: list[str] = []

    @property
    def history(self) -> HistoryStore | None:
        store: HistoryStore | None = self.shell.extensions.get("history")
        return store

    # ----- entry points used by transformed code -------------------------------------------

    def line(self, name: str, args: str) -> Any:
        """Run the line magic ``%name args``."""
        magic = lookup(name, cell=False)
        if magic is None:
            there = lookup(name, cell=True) is not None
            hint = f" (But cell magic `%%{name}` exists, did you mean that instead?)" if there else ""
            raise CellError(f"Line magic function `%{name}` not found{hint}.")  # IPython's words
        if magic.expand:
            args = self.expand(args)
        if magic.builtin:
            return magic.func(self, args)
        return magic.func(args)

    def cell(self, name: str, args: str, body: str) -> Any:
        """Run the cell magic ``%%name args`` on ``body``."""
        magic = lookup(name, cell=True)
        if magic is None:
            there = lookup(name, cell=False) is not None
            hint = f" (But line magic `%{name}` exists, did you mean that instead?)" if there else ""
            raise CellError(f"Cell magic `%%{name}` not found{hint}.")
        if magic.expand:
            args = self.expand(args)
        if magic.builtin:
            return magic.func(self, args, body)
        return magic.func(args, body)

    def system(self, command: str) -> None:
        """``!command``: run it in a shell, its output streamed as it comes."""
        expanded = self.expand(command)
        code = run_in_terminal(expanded) if os.name == "posix" else run_process(expanded, shell=True)
        self.shell.user_ns["_exit_code"] = code

    def getoutput(self, command: str) -> LineList:
        """``x = !command``: run it, return its standard output as a list of lines."""
        import subprocess

        _flush_python_streams()
        proc = subprocess.Popen(
            self.expand(command), shell=True, executable=_shell_executable(),
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )
        try:
            out, _ = proc.communicate()
        except KeyboardInterrupt:
            _stop(proc)
            raise
        self.shell.user_ns["_exit_code"] = proc.returncode
        return LineList(out.decode("utf-8", "replace").splitlines())

    def help(self, expression: str, detail: int) -> None:
        """``obj?`` / ``obj??``: show the description as a ``page`` payload."""
        if not expression or "*" in expression:
            from ..services.inspection import INTRODUCTION, search_names

            found = search_names(expression, self.shell.user_ns) if expression else None
            if expression and found is None:
                print(f"Object `{expression}` not found.")
                return
            text: str | None = "\n".join(found) if found is not None else INTRODUCTION
        else:
            text = self.describe(expression, detail)
        if text is None:
            print(f"Object `{expression}` not found.")
            return
        self.shell.payloads.append({"source": "page", "data": {"text/plain": text}, "start": 0})

    def describe(self, expression: str, detail: int) -> str | None:
        """The help text for ``expression`` (a magic when it starts with ``%``)."""
        if expression.startswith("%"):
            return magic_help(expression)
        from ..services.inspection import describe

        return describe(expression, detail, self.shell.user_ns)

    def expand(self, text: str) -> str:
        """``$name`` and ``{expression}`` replaced by their values; the rest left as typed."""
        if "$" not in text and "{" not in text:
            return text
        ns = self.shell.user_ns

        def replace(match: re.Match[str]) -> str:
            name, expression = match.group(1), match.group(2)
            if name is not None:
                return str(ns[name]) if name in ns else match.group(0)
            try:
                return str(eval(expression, ns))  # noqa: S307 - the user's own expression
            except Exception:  # noqa: BLE001 - not an expression: keep the text
                return match.group(0)

        return re.sub(r"\$([A-Za-z_]\w*)|\{([^{}\n]+)\}", replace, text)

    def user_names(self) -> list[str]:
        """Names the user defined (for %who, %whos, %reset)."""
        return [
            name for name in self.shell.user_ns
            if name not in self.hidden and not name.startswith("_")
        ]


# ----- processes --------------------------------------------------------------------------------


def _flush_python_streams() -> None:
    """Publish Python-level output first, so a child's lines come after it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _shell_executable() -> str | None:
    return "/bin/bash" if os.path.exists("/bin/bash") else None


def _stop(proc: Any) -> None:
    """Stop a child after Ctrl-C: SIGINT, then kill if it lingers."""
    import signal
    import subprocess

    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except OSError:
        pass


def run_process(
    command: str | list[str],
    shell: bool = False,
    stdin_text: str | None = None,
    stdin_bytes: bytes | None = None,
    missing_ok: bool = False,
) -> int:
    """Run a child with the kernel's stdout/stderr (streamed live); its exit status.

    With ``missing_ok``, a program that does not exist raises ``FileNotFoundError`` (the
    caller says so its own way) instead of a ``CellError``.
    """
    import subprocess

    if stdin_text is not None:
        stdin_bytes = stdin_text.encode("utf-8")
    _flush_python_streams()
    try:
        proc = subprocess.Popen(
            command, shell=shell, executable=_shell_executable() if shell else None,
            stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        if missing_ok:
            raise
        raise CellError(f"cannot run {command!r}: not found") from None
    except OSError as exc:
        raise CellError(f"cannot run {command!r}: {exc}") from None
    try:
        if stdin_bytes is not None:
            assert proc.stdin is not None
            try:
                proc.stdin.write(stdin_bytes)
                proc.stdin.close()
            except BrokenPipeError:
                pass
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise


TERMINAL_SIZE = (24, 80)  # rows, columns of the terminal ``!command`` runs on (as IPython's)


def run_in_terminal(command: str) -> int:
    """Run a shell command on a pseudo-terminal, as IPython runs ``!command``: the program
    sees a terminal (``ls`` prints columns, colours may appear), its output and errors come
    as one stream with the terminal's line ends, streamed as they come. Its exit status.

    Standard input is empty (not the terminal), so a program that reads it does not hang.
    """
    import codecs
    import fcntl
    import pty
    import struct
    import subprocess
    import termios

    _flush_python_streams()
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *TERMINAL_SIZE, 0, 0))
        proc = subprocess.Popen(
            command, shell=True, executable=_shell_executable(),
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        )
    except OSError as exc:
        os.close(master)
        raise CellError(f"cannot run {command!r}: {exc}") from None
    finally:
        os.close(slave)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every program holding the terminal has closed it
                break
            if not data:
                break
            sys.stdout.write(decoder.decode(data))
            sys.stdout.flush()
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise
    finally:
        os.close(master)


# ----- installation -----------------------------------------------------------------------------


def install(
    shell: Shell,
    connection_info: Any = None,
    connection_file: str | None = None,
    hidden: set[str] | None = None,
) -> MagicRuntime:
    """Put the runtime that transformed cells call into builtins, bound to ``shell``."""
    runtime = MagicRuntime(shell, connection_info, connection_file, hidden)
    setattr(builtins, HELPER_NAME, runtime)
    shell.extensions["magics"] = runtime
    return runtime
