"""Magics that notebooks written for IPython commonly use, so they run here unchanged.

Cell magics: ``%%capture`` (run a cell without showing its output, optionally keeping it),
``%%html``, ``%%javascript`` / ``%%js``, ``%%latex``, ``%%markdown``, ``%%svg`` (the cell shown
as that mime type). Line magics: ``%config`` (the matplotlib figure format; other settings are
acknowledged and ignored), ``%precision``, ``%who_ls``, ``%save``, ``%conda`` and ``%mamba``.

Imported with the other built-in magics on the first magic
(``kernel.magics.registry.BUILTIN_MODULES``); heavy modules are imported inside the functions
that need them.
"""

from __future__ import annotations

import io
import keyword
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from ..display import api as _display
from ..display import pretty as _pretty
from ..execution.shell import TOP_LEVEL_AWAIT
from ..execution.tracebacks import CellError
from .basic import _history_range, _split_options
from .registry import _builtin
from .runtime import MagicRuntime, run_process

if TYPE_CHECKING:
    from collections.abc import Callable

# ----- %%capture --------------------------------------------------------------------------------


class RichOutput:
    """One display output kept by ``%%capture``: its mime bundle, shown again by ``display()``."""

    def __init__(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        transient: dict[str, Any] | None = None,
        update: bool = False,
    ) -> None:
        self.data = data
        self.metadata = metadata or {}
        self.transient = transient or {}
        self.update = update  # it replaced an earlier output (update_display_data)

    def display(self) -> None:
        """Publish this output now, as it was published in the captured cell."""
        _display.publish_display_data(self.data, self.metadata, self.transient, update=self.update)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.data, self.metadata

    def __repr__(self) -> str:
        return f"<RichOutput: {', '.join(self.data)}>"


class CapturedIO:
    """What ``%%capture name`` keeps: ``stdout``, ``stderr`` (text) and ``outputs`` (displays).

    ``show()`` (or calling the object) publishes all of it now.
    """

    def __init__(self, stdout: str = "", stderr: str = "", outputs: list[RichOutput] | None = None) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.outputs: list[RichOutput] = outputs if outputs is not None else []

    def show(self) -> None:
        """Write the captured text to stdout/stderr and publish the captured displays."""
        if self.stdout:
            sys.stdout.write(self.stdout)
            sys.stdout.flush()
        if self.stderr:
            sys.stderr.write(self.stderr)
            sys.stderr.flush()
        for output in self.outputs:
            output.display()

    __call__ = show

    def __repr__(self) -> str:
        count = len(self.outputs)
        return (
            f"<CapturedIO: {len(self.stdout):,} characters of stdout, {len(self.stderr):,} of stderr, "
            f"{count} display output{'s' if count != 1 else ''}; .show() shows them>"
        )


class _FdWriter(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` while captured: text written straight to the descriptor,
    so it stays in order with what child processes write there."""

    def __init__(self, fd: int, name: str) -> None:
        super().__init__()
        self._fd = fd
        self._name = name

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"<captured {self._name}>"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self._fd, data) :]
        return len(text)


class _StreamCapture:
    """Sends one stream (Python's ``sys.stdout`` and file descriptor 1, or stderr and 2) to a
    temporary file until ``stop()``, which returns the text."""

    def __init__(self, name: str, fd: int) -> None:
        import tempfile

        self.name = name
        self.fd = fd
        self.file = tempfile.TemporaryFile()
        self.saved_stream = getattr(sys, name)
        try:
            self.saved_stream.flush()  # what was written before the cell is not captured
        except (OSError, ValueError, AttributeError):
            pass
        try:
            self.saved_fd: int | None = os.dup(fd)
        except OSError:  # the descriptor is closed: capture Python-level writes only
            self.saved_fd = None
        target = self.file.fileno()
        if self.saved_fd is not None:
            os.dup2(target, fd)
            target = fd
        setattr(sys, name, _FdWriter(target, name))

    def stop(self) -> str:
        setattr(sys, self.name, self.saved_stream)
        if self.saved_fd is not None:
            os.dup2(self.saved_fd, self.fd)
            os.close(self.saved_fd)
        self.file.seek(0)
        text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        return text


def _flush_figures() -> None:
    """Show the figures the cell left open now, while displays are still captured."""
    backend = sys.modules.get(f"{_display.__package__}.mpl_backend")
    if backend is None or "matplotlib.pyplot" not in sys.modules:
        return
    try:
        backend.flush_figures()
    except Exception as exc:  # noqa: BLE001 - a figure that fails to draw must not hide the cell's own error
        sys.stderr.write(f"%%capture: showing the figures failed: {type(exc).__name__}: {exc}\n")


class _Capture:
    """Captures stdout, stderr and display outputs of one cell (each may be left alone)."""

    def __init__(self, rt: MagicRuntime, stdout: bool, stderr: bool, displays: bool) -> None:
        self.shell = rt.shell
        self.want = {"stdout": stdout, "stderr": stderr}
        self.displays = displays
        self.result = CapturedIO()
        self.streams: dict[str, _StreamCapture] = {}
        self.saved_publish: Callable[[str, dict[str, Any]], None] | None = None

    def start(self) -> None:
        for name, fd in (("stdout", 1), ("stderr", 2)):
            if self.want[name]:
                self.streams[name] = _StreamCapture(name, fd)
        self.saved_publish = self.shell.publish
        self.shell.publish = self._publish

    def _publish(self, msg_type: str, content: dict[str, Any]) -> None:
        if self.displays and msg_type in ("display_data", "update_display_data"):
            self.result.outputs.append(RichOutput(
                content.get("data", {}), content.get("metadata"), content.get("transient"),
                update=msg_type == "update_display_data",
            ))
            return
        if self.displays and msg_type == "clear_output":
            self.result.outputs.clear()
            return
        name = content.get("name")
        if msg_type == "stream" and name in self.streams:
            getattr(sys, str(name)).write(content.get("text", ""))
            return
        assert self.saved_publish is not None
        self.saved_publish(msg_type, content)

    def stop(self) -> CapturedIO:
        if self.displays:
            _flush_figures()
        if self.saved_publish is not None:
            self.shell.publish = self.saved_publish
        if "stdout" in self.streams:
            self.result.stdout = self.streams.pop("stdout").stop()
        if "stderr" in self.streams:
            self.result.stderr = self.streams.pop("stderr").stop()
        return self.result


@_builtin("capture", cell=True)
def _capture(rt: MagicRuntime, args: str, body: str) -> None:
    """Run the cell without showing its output: ``%%capture [--no-stdout] [--no-stderr]
    [--no-display] [name]``.

    Printed text, ``!command`` output and displays (figures included) are held back; with a
    name, they are kept in that variable: ``name.stdout``, ``name.stderr``, ``name.outputs``,
    and ``name.show()`` (or ``name()``) shows them. The cell's last value is not shown.
    Errors are shown as usual.
    """
    options = {"--no-stdout": False, "--no-stderr": False, "--no-display": False}
    name = None
    for word in args.split():
        if word in options:
            options[word] = True
        elif word.startswith("-"):
            raise CellError(f"%%capture: unknown option {word} (use --no-stdout, --no-stderr, --no-display)")
        elif name is not None:
            raise CellError("%%capture takes at most one variable name")
        elif not word.isidentifier() or keyword.iskeyword(word):
            raise CellError(f"%%capture: {word!r} is not a valid variable name")
        else:
            name = word
    shell = rt.shell
    source = shell.transform(body)
    filename = shell.register_source(source, shell.execution_count)
    code = compile(source, filename, "exec", flags=TOP_LEVEL_AWAIT, dont_inherit=True)
    capture = _Capture(rt, not options["--no-stdout"], not options["--no-stderr"], not options["--no-display"])
    try:
        capture.start()
        shell._run_code(code)
    finally:
        result = capture.stop()
        if name is not None:
            shell.user_ns[name] = result


# ----- cells shown as a mime type ---------------------------------------------------------------


def _no_arguments(magic: str, args: str) -> None:
    if args.strip():
        raise CellError(f"%%{magic} takes no arguments (the cell is its content)")


def _publish(mime: str, body: str, plain: str, metadata: dict[str, Any] | None = None) -> None:
    _display.publish_display_data({mime: body, "text/plain": plain}, metadata)


@_builtin("html", cell=True)
def _html(rt: MagicRuntime, args: str, body: str) -> None:
    """Show the cell as HTML; ``--isolated`` asks the front end to show it in an iframe."""
    words = args.split()
    unknown = [word for word in words if word not in ("--isolated", "-i")]
    if unknown:
        raise CellError(f"%%html: unknown argument {unknown[0]!r} (only --isolated)")
    metadata = {"text/html": {"isolated": True}} if words else None
    _publish("text/html", body, "<IPython.core.display.HTML object>", metadata)


@_builtin("javascript", cell=True)
def _javascript(rt: MagicRuntime, args: str, body: str) -> None:
    """Send the cell as JavaScript, for front ends that run it (browsers, not terminals)."""
    _no_arguments("javascript", args)
    _publish("application/javascript", body, "<IPython.core.display.Javascript object>")


@_builtin("js", cell=True)
def _js(rt: MagicRuntime, args: str, body: str) -> None:
    """Same as %%javascript."""
    _no_arguments("js", args)
    _publish("application/javascript", body, "<IPython.core.display.Javascript object>")


@_builtin("latex", cell=True)
def _latex(rt: MagicRuntime, args: str, body: str) -> None:
    """Show the cell as LaTeX (``$...$``, ``\\begin{align}`` ...)."""
    _no_arguments("latex", args)
    _publish("text/latex", body, "<IPython.core.display.Latex object>")


@_builtin("markdown", cell=True)
def _markdown(rt: MagicRuntime, args: str, body: str) -> None:
    """Show the cell as Markdown."""
    _no_arguments("markdown", args)
    _publish("text/markdown", body, "<IPython.core.display.Markdown object>")


@_builtin("svg", cell=True)
def _svg(rt: MagicRuntime, args: str, body: str) -> None:
    """Show the cell as an SVG image (it must hold an ``<svg>`` element)."""
    _no_arguments("svg", args)
    start = body.find("<svg")
    if start < 0:
        raise CellError("%%svg: the cell holds no <svg> element")
    image = body[start:]
    _publish("image/svg+xml", image, "<IPython.core.display.SVG object>")


# ----- %config ----------------------------------------------------------------------------------

_CONFIG = re.compile(r"^([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=\s*(.+)$", re.DOTALL)
_FORMAT_ALIASES = {"png": "png", "retina": "retina", "png2x": "retina", "svg": "svg"}
_FORMATS_NOT_HERE = ("jpeg", "jpg", "pdf")  # IPython's other figure formats


@_builtin("config")
def _config(rt: MagicRuntime, args: str) -> None:
    """Settings written for IPython: ``%config Class.trait = value``.

    This kernel honours ``InlineBackend.figure_format = 'png' | 'retina' | 'svg'`` and
    ``InlineBackend.figure_formats = {...}`` (how matplotlib figures are shown); other settings
    are accepted with a note that they are ignored. ``%config`` alone lists what is supported.
    """
    text = args.strip()
    if not text:
        _config_summary()
        return
    if text.isidentifier():
        if text == "InlineBackend":
            _config_summary()
        else:
            print(f"This kernel has no settings for {text}; %config alone lists what it supports.", file=sys.stderr)
        return
    match = _CONFIG.match(text)
    if match is None:
        raise CellError(f"%config: expected Class.trait = value, e.g. %config InlineBackend.figure_format = 'retina', not {text!r}")
    owner, trait, value_text = match.groups()
    if owner == "InlineBackend" and trait in ("figure_format", "figure_formats"):
        value = _config_value(rt, value_text)
        names = [value] if trait == "figure_format" else value
        _set_figure_formats(trait, names)
        return
    if _configure_extension(rt, owner, trait, value_text):
        return
    print(f"%config {owner}.{trait}: ignored (this kernel has no such setting; %config lists what it supports).",
          file=sys.stderr)


def _configure_extension(rt: MagicRuntime, owner: str, trait: str, value_text: str) -> bool:
    """``%config SqlMagic.autolimit = 3``: set a trait of a configurable an extension registered
    with ``get_ipython()`` (its Magics classes); False when no such configurable was registered."""
    ipython = rt.shell.extensions.get("ipython")
    for configurable in getattr(ipython, "configurables", ()):
        if type(configurable).__name__ == owner and configurable.has_trait(trait):
            value = _config_value(rt, value_text)
            try:
                setattr(configurable, trait, value)
            except Exception as exc:  # noqa: BLE001 - traitlets' validation error
                raise CellError(f"%config {owner}.{trait}: {type(exc).__name__}: {exc}") from None
            return True
    return False


def _config_value(rt: MagicRuntime, text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        pass
    try:
        return eval(text, rt.shell.user_ns)  # noqa: S307 - the user's own expression, as IPython does
    except Exception as exc:  # noqa: BLE001
        raise CellError(f"%config: cannot evaluate {text.strip()!r}: {type(exc).__name__}: {exc} (quote strings: 'retina')") from None


def _set_figure_formats(trait: str, names: Any) -> None:
    if isinstance(names, str) or not hasattr(names, "__iter__") or not all(isinstance(n, str) for n in names):
        expected = "a string" if trait == "figure_format" else "a set of strings"
        raise CellError(f"%config InlineBackend.{trait}: expected {expected} such as 'retina', not {names!r}")
    chosen: set[str] = set()
    for name in names:
        key = name.lower()
        if key in _FORMAT_ALIASES:
            chosen.add(_FORMAT_ALIASES[key])
        elif key in _FORMATS_NOT_HERE:
            print(f"%config: figure format {name!r} is not supported by this kernel (png, retina, svg); ignored.",
                  file=sys.stderr)
        else:
            raise CellError(f"%config InlineBackend.{trait}: unknown figure format {name!r} (use png, retina or svg)")
    if chosen:
        _display.set_figure_formats(chosen)


def _config_summary() -> None:
    current = ", ".join(repr(name) for name in sorted(_display.figure_formats()))
    print(
        "This kernel honours:\n"
        "  %config InlineBackend.figure_format = 'png' | 'retina' | 'svg'\n"
        "  %config InlineBackend.figure_formats = {'png', 'svg'}   (any of png, retina, svg)\n"
        f"Figures are now shown as: {current}\n"
        "Other settings written for IPython (Completer.use_jedi, ...) are accepted and ignored."
    )


# ----- %precision -------------------------------------------------------------------------------


@_builtin("precision")
def _precision(rt: MagicRuntime, args: str) -> str:
    """How floats in results are printed: ``%precision 3`` (3 decimals), ``%precision %e``
    (a %-format), ``%precision`` alone (back to repr). Numpy's print precision follows
    when numpy is already imported. Returns the format in use."""
    text = args.strip()
    numpy = sys.modules.get("numpy")
    if not text:
        _pretty.set_float_format(None)
        if numpy is not None:
            numpy.set_printoptions(precision=8)
        return "%r"
    if "%" in text:
        try:
            sample = text % 3.14159
        except (TypeError, ValueError) as exc:
            raise CellError(f"%precision: {text!r} is not a format for one float: {exc}") from None
        if not isinstance(sample, str):
            raise CellError(f"%precision: {text!r} is not a format for one float")
        _pretty.set_float_format(text)
        return text
    try:
        digits = int(text)
    except ValueError:
        raise CellError(f"%precision: expected a number of decimals or a %-format such as %e, not {text!r}") from None
    if digits < 0:
        raise CellError("%precision: the number of decimals cannot be negative")
    fmt = f"%.{digits}f"
    _pretty.set_float_format(fmt)
    if numpy is not None:
        numpy.set_printoptions(precision=digits)
    return fmt


# ----- %who_ls ----------------------------------------------------------------------------------


@_builtin("who_ls")
def _who_ls(rt: MagicRuntime, args: str) -> list[str]:
    """The sorted names you defined, as a list (``names = %who_ls``); ``%who_ls int function``
    keeps only those types."""
    wanted = args.split()
    ns = rt.shell.user_ns
    return sorted(name for name in rt.user_names() if not wanted or type(ns[name]).__name__ in wanted)


# ----- %save ------------------------------------------------------------------------------------


@_builtin("save", expand=True)
def _save(rt: MagicRuntime, args: str) -> None:
    """Write input cells to a Python file: ``%save [-a] [-f] FILE [RANGE ...]``.

    Ranges as in %history: ``4``, ``1-3``, ``~1/2-5``; none: this session so far. ``.py`` is
    added to the name when missing; ``-a`` appends; an existing file is replaced only with -f.
    The cells are written as typed.
    """
    opts, rest = _split_options(args, "afr")
    if not rest:
        raise CellError("%save needs a file name, e.g. %save analysis.py 1-5")
    store = rt.history
    if store is None:
        raise CellError("history is not available in this kernel")
    path = os.path.expanduser(rest[0])
    if not path.endswith((".py", ".ipy")):
        path += ".py"
    if os.path.exists(path) and "a" not in opts and "f" not in opts:
        raise CellError(f"%save: {path} exists; use %save -f to replace it or -a to append")
    current = store.current_session()
    if len(rest) > 1:
        entries = [entry for spec in rest[1:] for entry in _history_range(store, spec, True, False)]
    else:
        entries = store.range(0, 1, None, True, False)
    this_cell = (current, rt.shell.execution_count)
    sources = [source for session, line, source in entries if (session, line) != this_cell]
    if not sources:
        raise CellError("%save: no input in that range")
    code = "\n".join(source.rstrip("\n") for source in sources) + "\n"
    try:
        with open(path, "a" if "a" in opts else "w", encoding="utf-8") as handle:
            handle.write(code)
    except OSError as exc:
        raise CellError(f"%save: cannot write {path}: {exc.strerror or exc}") from None
    verb = "appended to" if "a" in opts else "written to"
    print(f"The following commands were {verb} file `{path}`:\n{code}", end="")


# ----- %conda, %mamba ---------------------------------------------------------------------------

_PREFIXED = ("install", "remove", "uninstall", "update", "upgrade", "list")  # act on one environment
_CONFIRMING = ("install", "remove", "uninstall", "update", "upgrade")  # would ask y/n


def _run_package_manager(rt: MagicRuntime, tool: str, args: str) -> None:
    import shlex
    import shutil

    executable = shutil.which(tool)
    if executable is None and tool == "conda":
        executable = os.environ.get("CONDA_EXE") or None
    if executable is None:
        raise CellError(
            f"%{tool}: `{tool}` is not on this kernel's PATH, so it cannot install packages here; "
            "use %pip install, or start the kernel from a conda environment"
        )
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise CellError(f"cannot parse the arguments: {exc}") from None
    command = words[0] if words else ""
    if command in _PREFIXED:
        chosen = any(
            word in ("-n", "--name", "-p", "--prefix") or word.startswith(("--name=", "--prefix="))
            for word in words
        )
        if not chosen:
            words[1:1] = ["--prefix", sys.prefix]  # this kernel's environment
        if command in _CONFIRMING and not {"-y", "--yes"} & set(words):
            words.append("--yes")  # no one can answer its question here
    code = run_process([executable, *words])
    rt.shell.user_ns["_exit_code"] = code
    if command in _CONFIRMING and code == 0:
        print("Note: you may need to restart the kernel to use updated packages.")


@_builtin("conda", expand=True)
def _conda(rt: MagicRuntime, args: str) -> None:
    """Run conda for this kernel's environment (``--prefix sys.prefix``), output streamed."""
    _run_package_manager(rt, "conda", args)


@_builtin("mamba", expand=True)
def _mamba(rt: MagicRuntime, args: str) -> None:
    """Run mamba for this kernel's environment (``--prefix sys.prefix``), output streamed."""
    _run_package_manager(rt, "mamba", args)
