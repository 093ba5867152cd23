"""The language layer put together on a started kernel's shell: history, magics, display, exit.

``install`` runs at the end of start-up, before the first request is served, so it only puts
small stand-ins in place: the history module is imported (and its database opened, by its
writer thread) when the first cell has run or history is asked for; the magics module when the
first magic, shell escape or ``?`` runs.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import TYPE_CHECKING, Any

from .execution.shell import CellOutcome, Shell

if TYPE_CHECKING:
    from .magics.runtime import MagicRuntime
    from .services.history import HistoryStore

HELPER_NAME = "__mycon_magic__"


class LazyHistory:
    """``shell.extensions["history"]``: the history store, created on first use."""

    def __init__(self, kernel_id: str) -> None:
        self.kernel_id = kernel_id
        self._store: HistoryStore | None = None

    @property
    def store(self) -> HistoryStore:
        if self._store is None:
            from .services.history import HistoryStore, default_path

            self._store = HistoryStore(default_path(), kernel_id=self.kernel_id)
        return self._store

    def reply(self, content: dict[str, Any]) -> dict[str, Any]:
        """The ``history_reply`` content (see ``HistoryStore.reply``)."""
        return self.store.reply(content)

    def close(self) -> None:
        """Flush and close at exit; nothing to do if history was never used."""
        if self._store is not None:
            self._store.close()

    def __getattr__(self, name: str) -> Any:  # tail, range, search, current_session, ...
        return getattr(self.store, name)


class HistoryRecorder:
    """Hooks that feed each stored cell's input and text/plain result to the history store."""

    def __init__(self, shell: Shell, history: LazyHistory) -> None:
        self.shell = shell
        self.history = history
        self.last_count = shell.execution_count
        self.result_text: str | None = None
        self.stored = False  # this run's input went to the store (its output may follow)

    def before(self, code: str) -> None:
        """Store the input before it runs, as IPython does: ``%history`` sees its own line."""
        self.result_text = None
        count = self.shell.execution_count
        if count != self.last_count:  # silent and store_history=False runs keep the count
            self.last_count = count
            try:
                source = self.shell.transform(code)
            except Exception:  # noqa: BLE001 - the cell reports its own error when it runs
                source = code
            self.history.store.store_input(count, source, code)
            self.stored = True

    def on_publish(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "execute_result":
            text = content.get("data", {}).get("text/plain")
            self.result_text = text if isinstance(text, str) else None

    def after(self, code: str, outcome: CellOutcome) -> None:
        if self.stored:
            self.stored = False
            store = self.history.store
            if self.result_text is not None:
                store.store_output(outcome.execution_count, self.result_text)
            for warning in store.take_warnings():
                print(warning, file=sys.stderr)
        self.result_text = None


class ExitRequest:
    """``exit`` / ``quit`` in the kernel: calling it (or typing it as a cell) asks to leave.

    Its repr has no side effect (printing ``vars(builtins)`` must not end the session); a cell
    whose value is this object asks to leave instead of showing it (see ``install``).
    """

    def __init__(self, shell: Shell, name: str) -> None:
        self._shell = shell
        self._name = name

    def __call__(self, keep_kernel: bool = False) -> None:
        payloads = self._shell.payloads
        if not any(p.get("source") == "ask_exit" for p in payloads):
            payloads.append({"source": "ask_exit", "keepkernel": bool(keep_kernel)})

    def __repr__(self) -> str:
        return f"Use {self._name}() or Ctrl-D to leave the console."


class LazyMagics:
    """``__mycon_magic__`` until the first magic runs: then the real runtime takes its place."""

    def __init__(self, shell: Shell, info: Any, connection_file: str | None) -> None:
        self._args = (shell, info, connection_file)
        self._hidden = set(shell.user_ns)  # the names present before the user typed anything

    def __getattr__(self, name: str) -> Any:
        from .magics import runtime

        shell, info, connection_file = self._args
        magic_runtime: MagicRuntime = runtime.install(shell, info, connection_file, hidden=self._hidden)
        return getattr(magic_runtime, name)


class Automagic:
    """``shell.automagic``: is a line starting with ``word`` a magic typed without its %?

    Yes for a line magic's name that no variable, builtin or keyword hides (``cd ..``,
    ``pwd``, ``pip install x``), while ``enabled`` (``%automagic`` turns it off and on).
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.enabled = True

    def __call__(self, word: str) -> bool:
        if not self.enabled or word in self.shell.user_ns or hasattr(builtins, word):
            return False
        import keyword

        if keyword.iskeyword(word):
            return False
        from .magics import registry

        return registry.is_line_magic(word)


class KernelView:
    """``get_ipython().kernel``: what code written for ipykernel reaches through it (the comm
    manager, the session, the shell)."""

    def __init__(self, channels: Any) -> None:
        self._channels = channels
        self.shell: Any = None  # the ZMQInteractiveShell, once made
        self.connection_file: str = str(getattr(channels, "connection_file", None) or "")

    @property
    def comm_manager(self) -> Any:
        dispatcher = getattr(self._channels, "dispatcher", None)
        return getattr(dispatcher, "comms", None)

    @property
    def session(self) -> Any:
        return getattr(self._channels, "session", None)

    @property
    def parents(self) -> Any:
        """Which request output belongs to (``kernel.dispatch.Parents``), or None unserved."""
        return getattr(getattr(self._channels, "dispatcher", None), "parents", None)

    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        """The request being served on ``channel`` (ipykernel's ``kernel.get_parent``)."""
        return self.parents.get_parent(channel) if self.parents is not None else {}

    @property
    def _parent_ident(self) -> dict[str, list[bytes]]:
        """The routing identities of the last request per channel, as ipykernel keeps them."""
        parents = self.parents
        if parents is None:
            return {"shell": [], "control": []}
        return {"shell": parents.idents_of("shell"), "control": parents.idents_of("control")}


def _get_ipython_for(shell: Shell) -> Any:
    """The ``get_ipython`` of the user namespace (and of IPython, once imported): its first
    call builds the IPython shell object (``kernel.ipython``)."""

    def get_ipython() -> Any:
        """The IPython shell object of this kernel (``ZMQInteractiveShell``)."""
        from .ipython.shell import shell_for

        return shell_for(shell)

    return get_ipython


def _register_shell_class(module: Any) -> None:
    """Make our shell pass IPython's ``isinstance(shell, InteractiveShellABC)`` checks (the
    traits of IPython's components that take a shell)."""
    from .ipython.shell import ZMQInteractiveShell

    module.InteractiveShellABC.register(ZMQInteractiveShell)


def install(shell: Shell, channels: Any) -> None:
    """Attach history, magics, exit/quit and display helpers to ``shell``."""
    connection_file = getattr(channels, "connection_file", None)
    kernel_id = os.path.basename(str(connection_file)) if connection_file else ""
    get_ipython = _get_ipython_for(shell)
    shell.user_ns["get_ipython"] = get_ipython
    builtins.get_ipython = get_ipython  # type: ignore[attr-defined]  # as in IPython: libraries find it
    shell.extensions["kernel"] = KernelView(channels)
    history = LazyHistory(kernel_id)
    shell.extensions["history"] = history
    recorder = HistoryRecorder(shell, history)
    shell.pre_run_hooks.append(recorder.before)
    shell.post_run_hooks.append(recorder.after)
    _wrap_publish(shell, recorder)
    _wrap_display_result(shell)
    cleanups = getattr(channels, "cleanups", None)
    if cleanups is not None:
        cleanups.append(history.close)
    setattr(builtins, HELPER_NAME, LazyMagics(shell, getattr(channels, "info", None), connection_file))
    shell.automagic = Automagic(shell)
    builtins.exit = ExitRequest(shell, "exit")  # type: ignore[assignment]
    builtins.quit = ExitRequest(shell, "quit")  # type: ignore[assignment]
    from .display import api as display

    display.install(shell)
    # IPython.get_ipython() (and IPython.core.getipython's) give ours once user code imports IPython
    display.after_import("IPython.core.getipython", lambda module: setattr(module, "get_ipython", get_ipython))
    display.after_import("IPython.core.interactiveshell", _register_shell_class)
    # asyncio.get_event_loop() in a cell is the kernel's loop, which runs between cells
    display.after_import("asyncio", shell.cell_loop().adopt)
    display.after_import("pdb", _make_pdb_interruptible)
    dispatcher = getattr(channels, "dispatcher", None)
    if dispatcher is not None:  # comm.create_comm() (ipywidgets) opens comms of this kernel
        display.after_import("comm", dispatcher.comms.adopt_comm_package)
        display.after_import("ipykernel.comm", dispatcher.comms.adopt_ipykernel_comm)


def _make_pdb_interruptible(module: Any) -> None:
    """pdb was imported: an interrupt at its prompt ends the debugger (kernel.execution.debugger)."""
    from .execution.debugger import make_interruptible

    make_interruptible(module)


def _wrap_publish(shell: Shell, recorder: HistoryRecorder) -> None:
    """Let the recorder see each ``execute_result`` (its text goes to output history)."""
    publish = shell.publish

    def publish_and_record(msg_type: str, content: dict[str, Any]) -> None:
        recorder.on_publish(msg_type, content)
        publish(msg_type, content)

    shell.publish = publish_and_record


def _wrap_display_result(shell: Shell) -> None:
    """``exit`` / ``quit`` typed as a cell ask the console to leave instead of showing a repr."""
    display_result = shell.display_result

    def display_or_exit(value: Any, count: int, store: bool = True) -> None:
        if isinstance(value, ExitRequest):
            value()
            return
        display_result(value, count, store=store)

    shell.display_result = display_or_exit  # type: ignore[method-assign]
