"""The object ``get_ipython()`` returns: IPython's shell API over this kernel's own shell.

``ZMQInteractiveShell`` (the class name libraries test for) wraps ``kernel.execution.shell.Shell``
and the magics runtime: the user namespace, magics, ``!`` commands, nested ``run_cell``, events,
extensions, type printers, custom exception handlers, the kernel's comms. It is a traitlets
``Configurable`` (traitlets comes with jupyter_client), so IPython ``Magics`` classes take it as
their parent and ``config`` works as extensions expect.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from traitlets.config import Configurable

from ..execution import tracebacks
from ..execution.shell import delete_variable
from .events import EventManager, ExecutionInfo, ExecutionResult
from .extensions import ExtensionManager
from .formatters import DisplayFormatter
from .magics import MagicsManager

if TYPE_CHECKING:
    from ..execution.shell import CellOutcome, Shell

RUNTIME_NAME = "__mycon_magic__"  # the magics runtime transformed cells call (in builtins)


class Hooks:
    """``get_ipython().hooks``: the one hook code calls here, ``show_in_pager`` (a page payload)."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def show_in_pager(self, data: Any, start: int = 0, screen_lines: int = 0) -> None:
        bundle = data if isinstance(data, dict) else {"text/plain": str(data)}
        self._shell.payloads.append({"source": "page", "data": bundle, "start": start})

    def synchronize_with_editor(self, filename: str, linenum: int, column: int) -> None:
        """IPython's debugger calls it at each stop; nothing to do here."""


class DisplayPublisher:
    """``get_ipython().display_pub``: publish a mime bundle or clear the output, as
    ``IPython.display`` does through it."""

    def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None, source: Any = None, *,
                transient: dict[str, Any] | None = None, update: bool = False) -> None:
        from ..display import api

        api.publish_display_data(data, metadata, transient, update)

    def clear_output(self, wait: bool = False) -> None:
        from ..display import api

        api.clear_output(wait)


class ProfileDir:
    """``get_ipython().profile_dir``: IPython's default profile folder (made if missing), where
    extensions such as ipyparallel keep their files."""

    def __init__(self, profile: str = "default") -> None:
        import os

        base = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
        self.location = os.path.join(base, f"profile_{profile}")
        self.security_dir = os.path.join(self.location, "security")
        self.log_dir = os.path.join(self.location, "log")
        self.startup_dir = os.path.join(self.location, "startup")
        self.pid_dir = os.path.join(self.location, "pid")
        self.static_dir = os.path.join(self.location, "static")
        for folder in (self.security_dir, self.log_dir, self.startup_dir, self.pid_dir):
            os.makedirs(folder, exist_ok=True)


class ZMQInteractiveShell(Configurable):  # type: ignore[misc]
    """IPython's ``InteractiveShell`` API, as code and extensions use it, on this kernel."""

    colors = "neutral"  # IPython's colour theme name
    autocall = 0
    profile = "default"

    def __init__(self, shell: Shell) -> None:
        super().__init__()
        self.custom_exceptions: tuple[type[BaseException], ...] = ()
        self._shell = shell
        self.configurables: list[Any] = [self]
        self.events = EventManager()
        self.display_formatter = DisplayFormatter()
        self.magics_manager = MagicsManager(self)
        self.extension_manager = ExtensionManager(self)
        self.hooks = Hooks(shell)
        self.display_pub = DisplayPublisher()
        self.user_ns_hidden: dict[str, Any] = {}
        self._info: ExecutionInfo | None = None
        self._run_cell_replacement: Callable[..., Any] | None = None
        self._run_nodes_replacement: Callable[..., Any] | None = None
        self._last_outcome: CellOutcome | None = None
        self._profile_dir: ProfileDir | None = None
        # as a kernel's: code tells a notebook kernel from a terminal by ``'IPKernelApp' in config``
        connection_file = getattr(shell.extensions.get("kernel"), "connection_file", "")
        self.config.IPKernelApp.connection_file = connection_file
        shell.pre_run_hooks.append(self._before_cell)
        shell.post_run_hooks.append(self._after_cell)

    # ----- state -------------------------------------------------------------------------------

    @property
    def user_ns(self) -> dict[str, Any]:
        return self._shell.user_ns

    @property
    def user_global_ns(self) -> dict[str, Any]:
        return self._shell.user_ns

    @property
    def user_module(self) -> Any:
        return sys.modules.get("__main__")

    @property
    def execution_count(self) -> int:
        return self._shell.execution_count

    @property
    def ast_transformers(self) -> list[Any]:
        return self._shell.ast_transformers

    @property
    def input_transformers_post(self) -> list[Callable[[list[str]], list[str]]]:
        return self._shell.input_transformers_post

    @property
    def kernel(self) -> Any:
        """The kernel's comms and session (``kernel.comm_manager``), as ipykernel's shell has."""
        return self._shell.extensions.get("kernel")

    @property
    def profile_dir(self) -> ProfileDir:
        if self._profile_dir is None:
            self._profile_dir = ProfileDir(self.profile)
        return self._profile_dir

    def get_ipython(self) -> ZMQInteractiveShell:
        return self

    # ----- magics and system commands ------------------------------------------------------------

    @property
    def _runtime(self) -> Any:
        return self._shell.extensions.get("magics") or getattr(builtins, RUNTIME_NAME)

    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        """Run ``%magic_name line`` and return its value."""
        return self._runtime.line(magic_name, line)

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        """Run ``%%magic_name line`` on ``cell`` and return its value."""
        return self._runtime.cell(magic_name, line, cell)

    def magic(self, arg_s: str) -> Any:
        """``magic('name args')``: the old way of running ``%name args``."""
        name, _, line = arg_s.lstrip("%").partition(" ")
        return self.run_line_magic(name, line)

    def find_line_magic(self, magic_name: str) -> Any:
        return self.magics_manager.find("line", magic_name)

    def find_cell_magic(self, magic_name: str) -> Any:
        return self.magics_manager.find("cell", magic_name)

    def find_magic(self, magic_name: str, magic_kind: str = "line") -> Any:
        return self.magics_manager.find(magic_kind, magic_name)

    def register_magics(self, *magic_objects: Any) -> None:
        """Register IPython ``Magics`` classes or instances."""
        self.magics_manager.register(*magic_objects)

    def register_magic_function(self, func: Callable[..., Any], magic_kind: str = "line",
                                magic_name: str | None = None) -> None:
        """Register ``func`` as a ``line``, ``cell`` or ``line_cell`` magic."""
        self.magics_manager.register_function(func, magic_kind, magic_name)

    def system(self, cmd: str) -> None:
        """Run ``cmd`` in a shell, its output streamed (``!cmd``); sets ``_exit_code``."""
        self._runtime.system(cmd)

    system_piped = system

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> Any:
        """The output of ``cmd`` as a list of lines (``x = !cmd``), or one string."""
        lines = self._runtime.getoutput(cmd)
        return lines if split else lines.n

    def var_expand(self, cmd: str, depth: int = 0, formatter: Any = None) -> str:
        """``$name`` and ``{expression}`` in ``cmd`` replaced by their values."""
        expanded: str = self._runtime.expand(cmd)
        return expanded

    # ----- running code ----------------------------------------------------------------------------

    def _run_cell(self, raw_cell: str, store_history: bool = False, silent: bool = False,
                  shell_futures: bool = True, cell_id: str | None = None) -> ExecutionResult:
        """Run a cell from code (output and events as for a typed one); its ``ExecutionResult``."""
        shell = self._shell
        outer_payloads = shell.payloads
        info = ExecutionInfo(raw_cell, store_history, silent)
        outer_info, self._info = self._info, info
        shown: list[Any] = []
        display_result = shell.display_result

        def show_and_keep(value: Any, count: int, store: bool = True) -> None:
            shown.append(value)
            display_result(value, count, store=store)

        shell.display_result = show_and_keep  # type: ignore[method-assign]
        try:
            outcome = shell.run_cell(raw_cell, silent=silent, store_history=store_history)
        finally:
            self._info = outer_info
            shell.display_result = display_result  # type: ignore[method-assign]
        shell.payloads = outer_payloads + outcome.payload
        self._last_outcome = outcome
        result = self._result(info, outcome)
        if shown:
            result.result = shown[-1]
        return result

    def _run_ast_nodes(self, nodelist: list[Any], cell_name: str, interactivity: str = "last_expr",
                       compiler: Any = None, result: Any = None) -> bool:
        """Run parsed statements in the user namespace; True if one raised (its error shown)."""
        import ast

        try:
            for node in nodelist:
                exec(compile(ast.Module([node], []), cell_name, "exec"), self.user_ns)  # noqa: S102
        except Exception:  # noqa: BLE001 - user code: shown, as IPython does
            self.showtraceback()
            return True
        return False

    # ``run_cell`` and ``run_ast_nodes`` can be replaced on the object, as ipyparallel's %autopx
    # does (it keeps the original and puts it back). A replacement of ``run_cell`` then runs the
    # cells the front end sends; one of ``run_ast_nodes`` runs each parsed cell instead of us.

    @property
    def run_cell(self) -> Callable[..., Any]:
        """``run_cell(raw_cell, store_history=False, silent=False)``: run a cell from code."""
        return self._run_cell_replacement or self._run_cell

    @run_cell.setter
    def run_cell(self, replacement: Callable[..., Any] | None) -> None:
        original = replacement is None or replacement == self._run_cell
        self._run_cell_replacement = None if original else replacement
        self._shell.typed_cell_runner = None if original else self._run_typed_cell

    @run_cell.deleter
    def run_cell(self) -> None:
        self.run_cell = None

    @property
    def run_ast_nodes(self) -> Callable[..., Any]:
        """``run_ast_nodes(nodelist, cell_name)``: run a parsed cell; True if it failed."""
        return self._run_nodes_replacement or self._run_ast_nodes

    @run_ast_nodes.setter
    def run_ast_nodes(self, replacement: Callable[..., Any] | None) -> None:
        original = replacement is None or replacement == self._run_ast_nodes
        self._run_nodes_replacement = None if original else replacement
        self._shell.parsed_cell_runner = None if original else self._run_parsed_elsewhere

    @run_ast_nodes.deleter
    def run_ast_nodes(self) -> None:
        self.run_ast_nodes = None

    def _run_typed_cell(self, code: str, silent: bool, store_history: bool) -> CellOutcome:
        """A cell from the front end, run through the replacement of ``run_cell``."""
        from ..execution.shell import CellOutcome

        shell = self._shell
        self._last_outcome = None
        result = self.run_cell(code, store_history=store_history, silent=silent)
        outcome, self._last_outcome = self._last_outcome, None
        shell.payloads = []
        if outcome is None:  # the replacement did not run the cell here: its result says how it went
            outcome = CellOutcome(shell.execution_count)
            error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
            if error is not None:
                outcome.status, outcome.ename, outcome.evalue = "error", type(error).__name__, str(error)
        return outcome

    def _run_parsed_elsewhere(self, source: str, filename: str) -> bool:
        """A parsed cell, given to the replacement of ``run_ast_nodes`` (True: it failed)."""
        import ast

        return bool(self.run_ast_nodes(ast.parse(source, filename).body, filename))

    def ev(self, expr: str) -> Any:
        """Evaluate ``expr`` in the user namespace."""
        return eval(expr, self.user_ns)  # noqa: S307 - the caller's own expression

    def ex(self, cmd: str) -> None:
        """Execute ``cmd`` in the user namespace."""
        exec(cmd, self.user_ns)  # noqa: S102 - the caller's own code

    def push(self, variables: dict[str, Any] | str | Iterable[str], interactive: bool = True) -> None:
        """Put variables into the user namespace: a dict, or names taken from the caller's frame."""
        if not isinstance(variables, dict):
            names = variables.replace(",", " ").split() if isinstance(variables, str) else list(variables)
            frame = sys._getframe(1)
            variables = {name: eval(name, frame.f_globals, frame.f_locals) for name in names}  # noqa: S307
        self.user_ns.update(variables)
        if not interactive:
            self.user_ns_hidden.update(variables)

    def del_var(self, varname: str, by_name: bool = False) -> None:
        """Delete ``varname`` from the user namespace (and the object from ``Out`` and ``_``)."""
        ns = self.user_ns
        if by_name:
            ns.pop(varname, None)
            return
        if varname not in ns:
            raise NameError(f"name '{varname}' is not defined")
        delete_variable(self._shell, varname)

    # ----- errors, payloads --------------------------------------------------------------------------

    def set_custom_exc(self, exc_tuple: tuple[type[BaseException], ...], handler: Callable[..., Any] | None) -> None:
        """Call ``handler(self, etype, value, tb, tb_offset=None)`` for these exceptions raised by
        a cell, instead of showing their traceback (the cell still fails), as ipykernel does."""
        if not exc_tuple or handler is None:
            self.custom_exceptions = ()
            self._shell.custom_exc = None
            return

        def handle(exc: BaseException) -> None:
            try:
                handler(self, type(exc), exc, exc.__traceback__, tb_offset=None)
            except Exception as failure:  # noqa: BLE001 - a broken handler: say so, once
                print(f"The custom exception handler {handler!r} failed: {type(failure).__name__}: {failure}",
                      file=sys.stderr)

        self.custom_exceptions = tuple(exc_tuple)
        self._shell.custom_exc = (self.custom_exceptions, handle)

    def showtraceback(self, exc_tuple: Any = None, filename: str | None = None,
                      tb_offset: int | None = None, exception_only: bool = False,
                      running_compiled_code: bool = False) -> None:
        """Show the exception being handled (or ``exc_tuple``) as an error output."""
        etype, value, _ = exc_tuple if exc_tuple else sys.exc_info()
        if value is None:
            print("No traceback available to show.", file=sys.stderr)
            return
        shell = self._shell
        sys.last_type, sys.last_value = type(value), value
        if exception_only:
            lines = [f"{tracebacks.BOLD_RED}{type(value).__name__}{tracebacks.RESET}: {value}"]
        else:
            lines = shell._format_current(value)
        shell.publish("error", {"ename": type(value).__name__, "evalue": str(value), "traceback": lines})

    def get_exception_only(self, exc_tuple: Any = None) -> str:
        """``'Name: message\\n'`` for the exception being handled (or ``exc_tuple``)."""
        _, value, _ = exc_tuple if exc_tuple else sys.exc_info()
        import traceback

        return "".join(traceback.format_exception_only(type(value), value)) if value is not None else ""

    def show_usage_error(self, exc: BaseException) -> None:
        print(f"UsageError: {exc}", file=sys.stderr)

    def set_next_input(self, text: str, replace: bool = False) -> None:
        """Put ``text`` at the front end's next prompt (the ``set_next_input`` payload)."""
        payloads = self._shell.payloads
        payloads[:] = [p for p in payloads if p.get("source") != "set_next_input"]
        payloads.append({"source": "set_next_input", "text": text, "replace": replace})

    # ----- the kernel's requests, GUI and inspection ------------------------------------------

    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        """The request output now belongs to (ipykernel's shell has it, for output in threads)."""
        return self.kernel.get_parent(channel)

    def set_parent(self, parent: Any) -> None:
        self.kernel.parents.set_parent(parent)

    def set_thread_parent(self, parent: Any) -> Any:
        return self.kernel.parents.set_thread_parent(parent)

    def reset_thread_parent(self, token: Any) -> None:
        self.kernel.parents.reset_thread_parent(token)

    def enable_gui(self, gui: str | None = None) -> None:
        """Run ``gui``'s event loop between requests (matplotlib calls this on backend change)."""
        from ..display.gui import enable_gui

        enable_gui(self._shell, gui)

    def object_inspect(self, oname: str, detail_level: int = 0) -> dict[str, Any]:
        """What IPython's ``object_inspect`` gives for ``oname`` in the user namespace: whether
        it was found, its type, its repr and its docstring."""
        try:
            obj = eval(oname, self._shell.user_ns)  # noqa: S307 - the user's own name
        except Exception:
            return {"name": oname, "found": False}
        import inspect

        text = repr(obj)
        return {
            "name": oname, "found": True, "isalias": False, "ismagic": False,
            "namespace": "Interactive", "type_name": type(obj).__name__,
            "string_form": text if len(text) < 200 else text[:100] + " ... " + text[-100:],
            "docstring": inspect.getdoc(obj),
        }

    # ----- events ------------------------------------------------------------------------------------

    def _before_cell(self, code: str) -> None:
        if not self.events.any():
            return
        info = self._info or self._typed_cell(code)
        self.events.trigger("pre_execute")
        if not info.silent:
            self.events.trigger("pre_run_cell", info)

    def _after_cell(self, code: str, outcome: CellOutcome) -> None:
        if not self.events.any():
            return
        info = self._info or self._typed_cell(code)
        result = self._result(info, outcome)
        self.events.trigger("post_execute")
        if not info.silent:
            self.events.trigger("post_run_cell", result)

    def _typed_cell(self, code: str) -> ExecutionInfo:
        """The info of a cell the front end sent (silent ones fire only pre/post_execute)."""
        silent = self._shell.running_silent
        return ExecutionInfo(code, store_history=not silent, silent=silent)

    def _result(self, info: ExecutionInfo, outcome: CellOutcome) -> ExecutionResult:
        result = ExecutionResult(info)
        result.execution_count = outcome.execution_count
        result.result = self._shell.outputs.get(outcome.execution_count) if info.store_history else None
        if outcome.status == "error":
            error = getattr(sys, "last_value", None)
            if error is None or type(error).__name__ != outcome.ename:
                error = RuntimeError(f"{outcome.ename}: {outcome.evalue}")
            result.error_in_exec = error
        return result


def shell_for(shell: Shell) -> ZMQInteractiveShell:
    """The one ``ZMQInteractiveShell`` of ``shell``, made on first use."""
    found = shell.extensions.get("ipython")
    if found is None:
        found = shell.extensions["ipython"] = ZMQInteractiveShell(shell)
        kernel = shell.extensions.get("kernel")
        if kernel is not None:
            kernel.shell = found
        found.events.trigger("shell_initialized", found)
    assert isinstance(found, ZMQInteractiveShell)
    return found
