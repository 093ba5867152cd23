"""Debugging and profiling magics: ``%debug``, ``%pdb``, ``%xmode``, ``%prun`` / ``%%prun``.

The debugger is the standard library's pdb; its prompts reach the console that ran the cell
as ``input()`` requests, like any other input. Imported with the other built-in magics on the
first magic (``kernel.magics.registry.BUILTIN_MODULES``).
"""

from __future__ import annotations

import sys
from typing import Any

from ..execution.shell import CellOutcome
from ..execution.tracebacks import CellError
from .registry import _builtin
from .runtime import MagicRuntime

# Exceptions the automatic debugger (%pdb on) does not stop for: nothing to inspect there.
_NOT_DEBUGGED = ("KeyboardInterrupt", "SystemExit", "UsageError", "SyntaxError", "IndentationError")


@_builtin("debug")
def _debug(rt: MagicRuntime, args: str) -> None:
    """Inspect the last exception where it happened (pdb post mortem); ``%debug statement``
    runs the statement under the debugger instead. Debugger commands are asked for as input."""
    import pdb

    statement = args.strip()
    if statement:
        pdb.Pdb().run(rt.shell.transform(statement), rt.shell.user_ns)
        return
    traceback = getattr(sys, "last_traceback", None)
    if traceback is None:
        print("No traceback has been produced, nothing to debug.")
        return
    pdb.post_mortem(traceback)


@_builtin("pdb")
def _pdb(rt: MagicRuntime, args: str) -> None:
    """Start the debugger after every exception: ``%pdb on``, ``%pdb off``, ``%pdb`` toggles."""
    word = args.strip().lower()
    shell = rt.shell
    if word in ("on", "1", "true"):
        enabled = True
    elif word in ("off", "0", "false"):
        enabled = False
    elif not word:
        enabled = not shell.extensions.get("auto_pdb")
    else:
        raise CellError(f"%pdb takes on or off, not {args.strip()!r}")
    shell.extensions["auto_pdb"] = enabled
    if "auto_pdb_hook" not in shell.extensions:

        def debug_after_error(code: str, outcome: CellOutcome) -> None:
            """After a cell that raised, with ``%pdb on``: the debugger where it raised."""
            traceback = getattr(sys, "last_traceback", None)
            if shell.extensions.get("auto_pdb") and outcome.status == "error" \
                    and outcome.ename not in _NOT_DEBUGGED and traceback is not None:
                import pdb

                pdb.post_mortem(traceback)

        shell.extensions["auto_pdb_hook"] = debug_after_error
        shell.post_run_hooks.append(debug_after_error)
    print(f"Automatic pdb calling has been turned {'ON' if enabled else 'OFF'}")


XMODES = ("Plain", "Context", "Verbose", "Minimal")


@_builtin("xmode")
def _xmode(rt: MagicRuntime, args: str) -> None:
    """How tracebacks look: ``%xmode Minimal`` (the error line only), ``Plain``/``Context``
    (the usual), ``Verbose`` (with each frame's local variables); no argument cycles."""
    word = args.strip().lower()
    current = str(rt.shell.extensions.get("xmode", "Context"))
    if not word:
        mode = XMODES[(XMODES.index(current) + 1) % len(XMODES)]
    else:
        found = [m for m in XMODES if m.lower().startswith(word)]
        if len(found) != 1:
            raise CellError(f"%xmode takes one of {', '.join(XMODES)}, not {args.strip()!r}")
        mode = found[0]
    rt.shell.extensions["xmode"] = mode
    print(f"Exception reporting mode: {mode}")


def _prun_options(args: str) -> tuple[str, int, str]:
    """(sort key, lines, statement) from ``[-s key] [-l lines] statement``."""
    words = args.split()
    sort, limit = "cumulative", 25
    while words and words[0] in ("-s", "-l"):
        if len(words) < 2:
            raise CellError(f"%prun {words[0]} needs a value")
        option, value = words[0], words[1]
        if option == "-s":
            sort = value
        else:
            if not value.isdigit():
                raise CellError(f"%prun -l needs a number of lines, not {value!r}")
            limit = int(value)
        words = words[2:]
    return sort, limit, " ".join(words)


def _profile(rt: MagicRuntime, source: str, sort: str, limit: int) -> Any:
    import cProfile
    import pstats

    if not source.strip():
        raise CellError("%prun needs a statement to profile, e.g. %prun sum(range(10**6))")
    if sort not in pstats.Stats.sort_arg_dict_default:
        raise CellError(f"%prun -s {sort}: unknown sort key (cumulative, tottime, calls, ...)")
    code = compile(rt.shell.transform(source), "<prun>", "exec")
    profile = cProfile.Profile()
    profile.enable()
    try:
        exec(code, rt.shell.user_ns)  # noqa: S102 - the user's own statement
    finally:
        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats(sort).print_stats(limit)


@_builtin("prun")
def _prun(rt: MagicRuntime, args: str) -> None:
    """Profile a statement with cProfile: ``%prun [-s sortkey] [-l lines] statement``."""
    sort, limit, statement = _prun_options(args)
    _profile(rt, statement, sort, limit)


@_builtin("prun", cell=True)
def _prun_cell(rt: MagicRuntime, args: str, body: str) -> None:
    """Profile the whole cell: ``%%prun [-s sortkey] [-l lines]``."""
    sort, limit, _ = _prun_options(args)
    _profile(rt, body, sort, limit)
