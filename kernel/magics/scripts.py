"""Cell magics that run the cell with another program: ``%%script``, ``%%bash``, ``%%sh``,
``%%python``, ``%%python3``, ``%%perl``, ``%%ruby``, with IPython's options.

``--out NAME`` / ``--err NAME`` keep the output in a variable instead of showing it; ``--bg``
runs the program in the background (with ``--out``/``--err`` the variables are its pipes,
with ``--proc NAME`` its process object); ``--no-raise-error`` keeps a failing exit status
quiet. A program that exits non-zero raises ``CalledProcessError``, as in IPython; a program
that is not there is one printed line.
"""

from __future__ import annotations

import sys
from typing import Any

from ..execution.tracebacks import CellError
from .registry import _builtin
from .runtime import MagicRuntime, run_process

_VALUE_OPTIONS = ("--out", "--err", "--proc")


class ScriptOptions:
    """IPython's ``%%script`` options, and the words left for the command."""

    def __init__(self) -> None:
        self.out: str | None = None
        self.err: str | None = None
        self.proc: str | None = None
        self.bg = False
        self.raise_error = True
        self.command: list[str] = []


def parse_options(words: list[str]) -> ScriptOptions:
    """Options anywhere among ``words`` (``--out o`` or ``--out=o``); the rest is the command."""
    options = ScriptOptions()
    index = 0
    while index < len(words):
        word = words[index]
        name, equals, value = word.partition("=")
        if name in _VALUE_OPTIONS:
            if not equals:
                index += 1
                if index >= len(words):
                    raise CellError(f"{name} needs a variable name, e.g. {name} result")
                value = words[index]
            setattr(options, name[2:], value)
        elif word == "--bg":
            options.bg = True
        elif word == "--no-raise-error":
            options.raise_error = False
        else:
            options.command.append(word)
        index += 1
    return options


def run_script(rt: MagicRuntime, words: list[str], body: str) -> None:
    """Run ``body`` as the standard input of the command in ``words``, as IPython's %%script."""
    import subprocess

    options = parse_options(words)
    if not options.command:
        raise CellError("%%script needs a program, e.g. %%script python3")
    ns = rt.shell.user_ns
    for name in (options.out, options.err):
        if name:
            ns[name] = ""
    if not body.endswith("\n"):
        body += "\n"
    data = body.encode("utf-8", "replace")
    if options.bg:
        _start_in_background(rt, options, data)
        return
    if options.out is None and options.err is None:
        try:
            code = run_process(options.command, stdin_bytes=data, missing_ok=True)
        except FileNotFoundError:
            print(f"Couldn't find program: {options.command[0]!r}")
            return
    else:
        captured = _run_captured(rt, options, data)
        if captured is None:
            return
        code = captured
    if options.raise_error and code != 0:
        raise subprocess.CalledProcessError(code, data)


def _run_captured(rt: MagicRuntime, options: ScriptOptions, data: bytes) -> int | None:
    """Run with the ``--out``/``--err`` streams captured into variables; None if not found."""
    import subprocess

    from .runtime import _flush_python_streams, _stop

    _flush_python_streams()
    try:
        proc = subprocess.Popen(
            options.command, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if options.out else None,
            stderr=subprocess.PIPE if options.err else None,
        )
    except FileNotFoundError:
        print(f"Couldn't find program: {options.command[0]!r}")
        return None
    try:
        out, err = proc.communicate(data)
    except KeyboardInterrupt:
        _stop(proc)
        raise
    ns = rt.shell.user_ns
    if options.out:
        ns[options.out] = out.decode("utf-8", "replace")
    if options.err:
        ns[options.err] = err.decode("utf-8", "replace")
    return proc.returncode


def _start_in_background(rt: MagicRuntime, options: ScriptOptions, data: bytes) -> None:
    """``--bg``: start the program and return; its pipes and process go to the named variables.

    Output not asked for with ``--out``/``--err`` is dropped, as IPython drops it.
    """
    import subprocess
    import threading

    try:
        proc = subprocess.Popen(
            options.command, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if options.out else subprocess.DEVNULL,
            stderr=subprocess.PIPE if options.err else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        print(f"Couldn't find program: {options.command[0]!r}")
        return

    def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(data)
            proc.stdin.close()
        except OSError:
            pass

    threading.Thread(target=feed, name="mycon-script-stdin", daemon=True).start()
    _BACKGROUND.append(proc)
    _BACKGROUND[:] = [p for p in _BACKGROUND if p.poll() is None]
    ns = rt.shell.user_ns
    if options.out:
        ns[options.out] = proc.stdout
    if options.err:
        ns[options.err] = proc.stderr
    if options.proc:
        ns[options.proc] = proc


_BACKGROUND: list[Any] = []  # %%script --bg processes still running (see %killbgscripts)


def _words(args: str, magic: str) -> list[str]:
    import shlex

    try:
        return shlex.split(args)
    except ValueError as exc:
        raise CellError(f"%%{magic}: cannot parse the arguments: {exc}") from None


@_builtin("script", cell=True, expand=True)
def _script_cell(rt: MagicRuntime, args: str, body: str) -> None:
    """Run the cell with a program: ``%%script bash``, ``%%script python3 -u``.

    Options: --out NAME and --err NAME keep the output in variables; --bg runs it in the
    background (--proc NAME keeps the process); --no-raise-error ignores a failing exit status.
    """
    run_script(rt, _words(args, "script"), body)


def _program_magic(name: str, program: str, doc: str) -> None:
    def run(rt: MagicRuntime, args: str, body: str) -> None:
        run_script(rt, [program, *_words(args, name)], body)

    run.__doc__ = doc
    _builtin(name, cell=True, expand=True)(run)


_program_magic("bash", "bash", "Run the cell as a bash script (options as %%script).")
_program_magic("sh", "sh", "Run the cell as a sh script (options as %%script).")
_program_magic("python", sys.executable, "Run the cell in a new process of this kernel's Python.")
_program_magic("python3", sys.executable, "Same as %%python.")
_program_magic("perl", "perl", "Run the cell with perl (options as %%script).")
_program_magic("ruby", "ruby", "Run the cell with ruby (options as %%script).")


@_builtin("killbgscripts")
def _kill_background(rt: MagicRuntime, args: str) -> None:
    """Kill the programs started with %%script --bg that are still running."""
    for proc in _BACKGROUND:
        if proc.poll() is None:
            proc.kill()
    _BACKGROUND.clear()
    print("All background processes were killed.")
