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


@_builtin("prun")
def _prun(rt: MagicRuntime, args: str) -> Any:
    """Profile a statement with cProfile: ``%prun [-s key] [-l limit] [-q] [-r] [-D file]
    [-T file] statement``. The table goes to the pager, sorted by internal time by default."""
    options, statement = _prun_options(args)
    return _profile(rt, statement, options)


@_builtin("prun", cell=True)
def _prun_cell(rt: MagicRuntime, args: str, body: str) -> Any:
    """Profile the whole cell: ``%%prun [options] [first statement]`` (options as %prun)."""
    options, statement = _prun_options(args)
    return _profile(rt, statement + "\n" + body, options)


def _prun_options(args: str) -> tuple[dict[str, list[str]], str]:
    """IPython's %prun options (``-s``/``-l`` may repeat) and the statement after them."""
    options: dict[str, list[str]] = {"s": [], "l": [], "D": [], "T": [], "q": [], "r": []}
    rest = args.lstrip()
    while rest.startswith("-") and len(rest) > 1 and rest[1] in options:
        flag, rest = rest[1], rest[2:]
        if flag in "qr":
            options[flag].append("")
            rest = rest.lstrip()
            continue
        value, _, rest = rest.lstrip().partition(" ")
        if not value:
            raise CellError(f"%prun -{flag} needs a value")
        options[flag].append(value)
        rest = rest.lstrip()
    return options, rest


def _profile(rt: MagicRuntime, source: str, options: dict[str, list[str]]) -> Any:
    """Run ``source`` under cProfile; its table as a page, as IPython's %prun shows it."""
    import cProfile
    import io
    import pstats

    if not source.strip():
        raise CellError("%prun needs a statement to profile, e.g. %prun sum(range(10**6))")
    sort = options["s"] or ["time"]
    for key in sort:
        if key not in pstats.Stats.sort_arg_dict_default:
            raise CellError(f"%prun -s {key}: unknown sort key (time, cumulative, calls, ...)")
    limits: list[Any] = []
    for limit in options["l"]:
        try:
            limits.append(int(limit))
        except ValueError:
            try:
                limits.append(float(limit))
            except ValueError:
                limits.append(limit)
    profile = cProfile.Profile()
    exit_note = ""
    try:
        profile.runctx(rt.shell.transform(source), rt.shell.user_ns, rt.shell.user_ns)
    except SystemExit:
        exit_note = "*** SystemExit exception caught in code being profiled."
    table = io.StringIO()
    stats = pstats.Stats(profile, stream=table).strip_dirs().sort_stats(*sort)
    stats.print_stats(*limits)
    if not options["q"]:
        rt.shell.payloads.append({"source": "page", "data": {"text/plain": table.getvalue().rstrip()}, "start": 0})
    print(exit_note, end=" ")
    if options["D"]:
        profile.dump_stats(options["D"][0])
        print(f"\n*** Profile stats marshalled to file {options['D'][0]!r}.{exit_note}")
    if options["T"]:
        with open(options["T"][0], "w", encoding="utf-8") as handle:
            handle.write(table.getvalue().rstrip())
        print(f"\n*** Profile printout saved to text file {options['T'][0]!r}.{exit_note}")
    return stats if options["r"] else None
