"""Request dispatch: one handler per message type, busy/idle around each request.

Protocol logic only: handlers turn request content into reply content by calling the language
services (``shell``, ``completion``, ...). A handler that raises is logged and answered with an
error reply; the kernel keeps serving.
"""

from __future__ import annotations

import builtins
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import __version__, iostream
from .comms import CommManager, set_manager
from .execution.shell import CellOutcome, Shell
from .iostream import in_fork_child, request_parent
from .log import log
from .wire import PROTOCOL_VERSION, utc_timestamp

Request = tuple[Any, list[bytes], dict[str, Any]]  # (socket, routing ids, message)
# Code longer than this gets no completion, inspection or is_complete analysis: those services
# take about a second per MB, so a 50 MB request would hold the shell for a minute.
MAX_SERVICE_CODE = 1 << 20
Handler = Callable[[Request], None]


def language_info() -> dict[str, Any]:
    """The ``language_info`` of kernel_info_reply."""
    return {
        "name": "python",
        "version": ".".join(map(str, sys.version_info[:3])),
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "pygments_lexer": "python3",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "nbconvert_exporter": "python",
    }


def kernel_info_content() -> dict[str, Any]:
    """The content of kernel_info_reply."""
    return {
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "mycon",
        "implementation_version": __version__,
        "language_info": language_info(),
        "banner": f"Python {sys.version.split()[0]} (mycon kernel {__version__})",
        "help_links": [
            {"text": "Python Reference", "url": "https://docs.python.org/3/"},
            {"text": "mycon: %lsmagic lists the magics", "url": "https://docs.python.org/3/tutorial/"},
        ],
        "debugger": _debugger_available(),
        "supported_features": supported_features(),
    }


def supported_features() -> list[str]:
    """kernel_info's ``supported_features``: what this kernel offers beyond the basics."""
    features = ["kernel subshells"]
    if _debugger_available():
        features.append("debugger")
    return features


_debugger_found: list[bool] = []  # whether debugpy is installed, once looked up


def _debugger_available() -> bool:
    """True when the visual debugger can run (debugpy is installed); looked up once."""
    if not _debugger_found:
        from .debugger import available

        _debugger_found.append(available())
    return _debugger_found[0]


def _cursor_in(code: str, cursor: Any) -> int:
    """A request's ``cursor_pos`` as a position in ``code``: the end when it is missing or
    not an integer (``true`` is not a position, though Python counts bools as ints)."""
    if not isinstance(cursor, int) or isinstance(cursor, bool):
        return len(code)
    return max(0, min(cursor, len(code)))


def _header_of(parent: Any) -> Any:
    """A message's header: ``parent`` may be a whole message (``get_parent()``) or a header."""
    if isinstance(parent, dict) and isinstance(parent.get("header"), dict):
        return parent["header"]
    return parent


def debugger_of(dispatcher: Dispatcher) -> Any:
    """The kernel's visual debugger, made (and the debugger package imported) on the first
    ``debug_request``; its DAP events go out as ``debug_event`` (parent: the shell request)."""
    debugger = getattr(dispatcher, "debugger", None)
    if debugger is None:
        from .debugger.session import Debugger

        def publish_event(event: dict[str, Any]) -> None:
            dispatcher.channels.publish("debug_event", event, dispatcher.parent)

        debugger = Debugger(dispatcher.channels, dispatcher.shell, publish_event)
        dispatcher.debugger = debugger  # type: ignore[attr-defined]
    return debugger


def _undeliverable(handler: Any) -> str | None:
    """Why a SIGINT would not interrupt the running code under ``handler``, or None."""
    if handler not in (signal.SIG_IGN, signal.SIG_DFL, None):
        return None
    what = "ignores SIGINT" if handler == signal.SIG_IGN else "set SIGINT to its default action"
    return (
        f"the running code {what}, so the interrupt was not delivered; "
        "the kernel restores its own handler when the cell ends"
    )


def send_sigint(main_thread_id: int | None, own_handler: Any, running: bool,
                warn: Callable[[str], None]) -> str | None:
    """Raise KeyboardInterrupt in the running user code (if any) with a SIGINT to the main thread.

    Returns None, or why the interrupt could not be delivered: user code that replaced the
    SIGINT handler with SIG_IGN or SIG_DFL (a signal would be ignored, or kill the kernel).
    ``running``: user code runs now (then a handler of its own that gets the signal is named).
    """
    handler = signal.getsignal(signal.SIGINT)
    problem = _undeliverable(handler)
    if problem is not None:
        return problem
    if main_thread_id is not None and hasattr(signal, "pthread_kill"):
        signal.pthread_kill(main_thread_id, signal.SIGINT)
    else:
        os.kill(os.getpid(), signal.SIGINT)
    if handler != own_handler and running:
        name = getattr(handler, "__qualname__", repr(handler))
        warn(f"Interrupt: passed to the SIGINT handler the running code installed ({name})\n")
    return None


# the handler as set, without the enum wrapping of ``signal.getsignal`` (a microsecond per cell)
_current_handler: Any = getattr(signal, "_signal", signal).getsignal  # type: ignore[attr-defined]


def restore_sigint(own_handler: Any) -> None:
    """Put ``own_handler`` back as SIGINT's handler if a cell replaced it.

    Otherwise later interrupts would be ignored, kill the kernel (SIG_DFL), or raise inside
    the kernel's own code between cells (``default_int_handler``).
    """
    try:
        handler = _current_handler(signal.SIGINT)
        if handler != own_handler:
            signal.signal(signal.SIGINT, own_handler)
            bdb = sys.modules.get("bdb")
            if bdb is None or not isinstance(getattr(handler, "__self__", None), bdb.Bdb):
                # (pdb's own handler, left by `continue`, is routine: not worth a line)
                log("user code replaced the SIGINT handler: the kernel's own is back")
    except (ValueError, OSError) as exc:
        log(f"cannot restore the SIGINT handler: {exc}")


class StdinNotImplementedError(RuntimeError):
    """``input()`` was called for a request that does not allow stdin."""


class Parents:
    """Which request output belongs to, as ipykernel's kernel and shell expose it
    (``get_parent``, ``set_parent``, ``set_thread_parent``...; ``get_ipython()`` reaches these)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        """The request that output written here belongs to, or the last control request (as
        ipykernel's ``get_parent``): a message with its ``header``."""
        if channel == "control":
            return {"header": self.dispatcher.control_parent}
        parent = iostream.parent_of_write()
        return {"header": parent if parent is not None else self.dispatcher.parent}

    def idents_of(self, channel: str = "shell") -> list[bytes]:
        """The routing identities of the last request on ``channel`` (ipykernel's
        ``_parent_ident``, which front ends read)."""
        return self.dispatcher.control_idents if channel == "control" else self.dispatcher.parent_idents

    def set_parent(self, parent: Any) -> None:
        """Send output of this thread, and of code with no parent of its own, to ``parent``."""
        self.dispatcher.parent = _header_of(parent)
        self.set_thread_parent(parent)

    def set_thread_parent(self, parent: Any) -> Any:
        """Send this thread's output to ``parent``; returns the token ``reset_thread_parent``
        takes."""
        self.dispatcher.channels.route_streams()
        return iostream.set_thread_parent(_header_of(parent))

    def reset_thread_parent(self, token: Any) -> None:
        iostream.reset_thread_parent(token)


class Dispatcher:
    """Serves shell and control requests for one kernel."""

    def __init__(self, channels: Any, shell: Shell) -> None:
        self.channels = channels
        self.shell = shell
        self.parent: dict[str, Any] = {}
        self.parent_idents: list[bytes] = []
        self.control_parent: dict[str, Any] = {}  # the last control request (get_parent)
        self.control_idents: list[bytes] = []
        self.parents = Parents(self)
        self.allow_stdin = False
        self.main_thread_id = threading.main_thread().ident
        self.after_idle: list[Request] = []  # requests queued behind a failed cell
        self.comms = CommManager(self.publish)
        set_manager(self.comms)
        self.shell_handlers: dict[str, Handler] = {
            "execute_request": self.execute_request,
            "kernel_info_request": self.kernel_info_request,
            "complete_request": self.complete_request,
            "inspect_request": self.inspect_request,
            "is_complete_request": self.is_complete_request,
            "history_request": self.history_request,
            "comm_info_request": self.comm_info_request,
            "comm_open": self.comm_open,
            "comm_msg": self.comm_msg,
            "comm_close": self.comm_close,
            "connect_request": self.connect_request,
            "shutdown_request": self.shutdown_request,
            "interrupt_request": self.interrupt_request,
        }
        self.control_handlers: dict[str, Handler] = {
            "kernel_info_request": self.kernel_info_request,
            "shutdown_request": self.shutdown_request,
            "interrupt_request": self.interrupt_request,
            "debug_request": self.debug_request,
            "execute_request": self.control_execute_request,
            "create_subshell_request": self.subshell_request,
            "delete_subshell_request": self.subshell_request,
            "list_subshell_request": self.subshell_request,
        }
        self.subshell_id: str | None = None  # the subshell this dispatcher serves (None: main)
        self.subshells: Any = None  # kernel.subshells.Subshells, made by the first request
        self.comm_routes: dict[Any, Any] | None = None  # comm id -> subshell that last sent on it
        # held while a cell runs: one on the control channel waits for one on shell and back
        self.execution_lock = threading.Lock()
        shell.publish = self.publish
        builtins.input = self.input  # type: ignore[assignment]
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget_hooks_in_fork_child)

    # ----- plumbing ----------------------------------------------------------------------------

    def publish(self, msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """Publish on iopub with the current request as parent (``buffers``: binary frames)."""
        if msg_type != "stream":
            self.channels.flush_streams()
        parent = self.parent
        sink = self.channels.sink
        if sink is not None and sink.routed:  # a task's or thread's display goes to its cell
            parent = iostream.parent_of_write() or parent
        if self.comm_routes is not None and msg_type in ("comm_open", "comm_msg"):  # answers go there
            self.comm_routes[content.get("comm_id")] = parent.get("subshell_id")
        self.channels.publish(msg_type, content, parent, buffers)

    def reply(self, request: Request, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        socket, idents, msg = request
        self.channels.send(socket, msg_type, content, msg["header"], idents, metadata)

    def handle(self, request: Request, handlers: dict[str, Handler], on_shell: bool) -> None:
        """Run one request between busy and idle; never let a handler's error escape."""
        _, idents, msg = request
        msg_type = msg["msg_type"]
        handler = handlers.get(msg_type)
        header = msg["header"]
        if on_shell:
            self.parent, self.parent_idents = header, idents
            request_parent.set(header)  # asyncio tasks the request starts keep it (their output)
        else:
            self.control_parent, self.control_idents = header, idents
        self.channels.publish("status", {"execution_state": "busy"}, header)
        try:
            if handler is None:
                log(f"unknown message type {msg_type!r} ignored")
                if msg_type.endswith("_request"):
                    self.reply(request, msg_type[: -len("request")] + "reply", {
                        "status": "error",
                        "ename": "UnknownMessageType",
                        "evalue": f"this kernel does not handle {msg_type}",
                        "traceback": [],
                    })
            else:
                handler(request)
        except KeyboardInterrupt:
            log(f"interrupted while handling {msg_type}")
        except Exception as exc:  # noqa: BLE001
            log(f"error while handling {msg_type}: {type(exc).__name__}: {exc}", exc)
            if msg_type.endswith("_request"):
                try:
                    self.reply(request, msg_type[: -len("request")] + "reply", {
                        "status": "error",
                        "ename": type(exc).__name__,
                        "evalue": str(exc),
                        "traceback": [],
                    })
                except Exception as exc2:  # noqa: BLE001
                    log(f"could not send the error reply: {exc2}")
        finally:
            self.channels.flush_streams()
            self.channels.publish("status", {"execution_state": "idle"}, header)
        if in_fork_child():
            os._exit(0)  # user code forked and the child came back here: it must not serve
        if on_shell and self.after_idle:
            queued, self.after_idle = self.after_idle, []
            for queued_request in queued:
                if queued_request[2]["msg_type"] == "execute_request":
                    self.abort(queued_request)
                else:
                    self.handle(queued_request, self.shell_handlers, True)

    def handle_aside(self, request: Request) -> None:
        """Serve a shell request while a cell runs (a comm message during an ``await``); the
        cell's request stays the parent of its output."""
        self.channels.flush_streams()  # the cell's output so far goes out as the cell's
        saved = self.parent, self.parent_idents
        try:
            self.handle(request, self.shell_handlers, True)
        finally:
            self.parent, self.parent_idents = saved

    def _forget_hooks_in_fork_child(self) -> None:
        """A child forked by user code skips the run hooks (history): their threads and locks
        stayed in the parent, so a lock held at fork time would hang the child forever."""
        self.shell.pre_run_hooks = []
        self.shell.post_run_hooks = []

    # ----- execution ---------------------------------------------------------------------------

    def execute_request(self, request: Request) -> None:
        content = request[2]["content"]
        code = content.get("code", "")
        if not isinstance(code, str):
            raise TypeError("execute_request: code must be a string")
        started = utc_timestamp()  # execute_reply metadata, as ipykernel's (ipyparallel reads it)
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", not silent)) and not silent
        self.allow_stdin = bool(content.get("allow_stdin", True))
        self.channels.reopen_streams()
        header = request[2]["header"]
        shell = self.shell
        with self.execution_lock:
            if not silent:
                count = shell.execution_count + (1 if store_history else 0)
                self.channels.publish("execute_input", {"code": code, "execution_count": count}, header)
            if shell.typed_cell_runner is None or silent:
                outcome: CellOutcome = shell.run_cell(code, silent=silent, store_history=store_history)
            else:  # get_ipython().run_cell was replaced (%autopx): typed cells go through it
                # (silent ones are a front end's own queries: they stay here)
                outcome = shell.typed_cell_runner(code, silent, store_history)
        self.restore_sigint()
        self._after_cell_tasks()
        if in_fork_child():
            # os.fork() in the cell: the child ran the rest of the cell; it ends here, so it
            # never answers or reads requests meant for the parent (which answers this one).
            self.channels.flush_streams()
            os._exit(0 if outcome.status == "ok" else 1)
        reply: dict[str, Any] = {"status": outcome.status, "execution_count": outcome.execution_count}
        if outcome.status == "ok":
            expressions = content.get("user_expressions") or {}
            reply["user_expressions"] = (
                self.shell.user_expressions(expressions) if isinstance(expressions, dict) else {}
            )
            reply["payload"] = outcome.payload
        else:
            reply.update(ename=outcome.ename, evalue=outcome.evalue, traceback=outcome.traceback)
            reply["user_expressions"] = {}
            reply["payload"] = outcome.payload
        self.channels.flush_streams()
        # Requests that arrived before this reply were sent without knowing of the failure:
        # take them now, so a request sent after the client saw the error is served normally.
        queued = []
        on_main = threading.get_ident() == self.main_thread_id or self.subshell_id is not None
        if outcome.status == "error" and not silent and content.get("stop_on_error", True) and on_main:
            queued = self.channels.take_queued()
        self.reply(request, "execute_reply", reply, {"status": outcome.status, "started": started})
        self.after_idle.extend(queued)

    def control_execute_request(self, request: Request) -> None:
        """An execute_request on the control channel (as ipykernel allows): run in the control
        thread, after any running cell; its output goes to it (its reply too, on control)."""
        header = request[2]["header"]
        self.channels.route_streams()
        token = iostream.set_thread_parent(header)
        try:
            self.execute_request(request)
        finally:
            self.channels.flush_streams()
            iostream.reset_thread_parent(token)

    def _after_cell_tasks(self) -> None:
        """Tasks the cell left on the asyncio loop run on between cells: their output must go
        to the cell that started them from now on."""
        if "asyncio" not in sys.modules:
            return
        cell_loop = self.shell.cell_loop()
        cell_loop.adopt()  # asyncio imported by another thread, or asyncio.run() unset ours
        if cell_loop.pending():
            self.channels.route_streams()

    def abort(self, request: Request) -> None:
        """Answer a queued execute_request with ``aborted`` (after a failed cell)."""
        _, _, msg = request
        header = msg["header"]
        self.channels.publish("status", {"execution_state": "busy"}, header)
        self.reply(request, "execute_reply", {
            "status": "aborted",
            "execution_count": self.shell.execution_count,
        }, {"status": "aborted", "started": utc_timestamp()})
        self.channels.publish("status", {"execution_state": "idle"}, header)

    # ----- stdin ---------------------------------------------------------------------------------

    def input(self, prompt: str = "", password: bool = False) -> str:
        """``input()`` in user code: ask the client that sent the running request."""
        if not self.allow_stdin:
            raise StdinNotImplementedError(
                "input() was called, but this frontend does not support input requests."
            )
        if in_fork_child():
            raise StdinNotImplementedError("input() is not available in a process forked from the kernel")
        self.channels.flush_streams()
        if threading.get_ident() != self.main_thread_id:
            raise StdinNotImplementedError("input() is only supported from the main thread")
        try:
            value = self.channels.request_input(str(prompt), password, self.parent, self.parent_idents)
        except KeyboardInterrupt:
            # Raised afresh here, the traceback ends at the user's input() call instead of
            # going on through the kernel's socket polling.
            raise KeyboardInterrupt("interrupted while waiting for input") from None
        if value == "\x04":  # Ctrl-D at the client: end of file, as input() says at a terminal
            raise EOFError("EOF when reading a line")
        return value

    def getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        """``getpass.getpass()`` in user code: like input(), with the password flag set."""
        return self.input(prompt, password=True)

    # ----- simple requests --------------------------------------------------------------------

    def kernel_info_request(self, request: Request) -> None:
        content = kernel_info_content()
        # Not in the specification: who else is attached, for a console deciding on leaving
        # whether to ask before it shuts the kernel down (clients ignore keys they do not know).
        content["mycon_sharing"] = {
            "subscribers": self.channels.subscribers,
            "left_running": self.channels.left_running,
        }
        self.reply(request, "kernel_info_reply", content)

    def connect_request(self, request: Request) -> None:
        self.reply(request, "connect_reply", {"status": "ok", **self.channels.ports()})

    def _service(self, name: str) -> Any:
        return importlib.import_module(f"{__package__}.services.{name}")

    def complete_request(self, request: Request) -> None:
        content = request[2]["content"]
        code = content.get("code", "")
        cursor = content.get("cursor_pos")
        if not isinstance(code, str):
            raise TypeError("complete_request: code must be a string")
        cursor = _cursor_in(code, cursor)
        try:
            if len(code) > MAX_SERVICE_CODE:
                log(f"complete_request for {len(code)} characters of code: answered with no matches")
                raise ImportError
            service = self._service("completion")
            reply = service.complete(code, cursor, self.shell.user_ns)
        except ImportError:
            reply = {"matches": [], "cursor_start": cursor, "cursor_end": cursor, "metadata": {}}
        reply.setdefault("status", "ok")
        self.reply(request, "complete_reply", reply)

    def inspect_request(self, request: Request) -> None:
        content = request[2]["content"]
        code = content.get("code", "")
        cursor = content.get("cursor_pos")
        detail = content.get("detail_level", 0)
        if not isinstance(code, str):
            raise TypeError("inspect_request: code must be a string")
        cursor = _cursor_in(code, cursor)
        detail = 1 if detail == 1 else 0
        try:
            if len(code) > MAX_SERVICE_CODE:
                log(f"inspect_request for {len(code)} characters of code: answered not found")
                raise ImportError
            service = self._service("inspection")
            reply = service.inspect(code, cursor, detail, self.shell.user_ns)
        except ImportError:
            reply = {"found": False, "data": {}, "metadata": {}}
        reply.setdefault("status", "ok")
        self.reply(request, "inspect_reply", reply)

    def is_complete_request(self, request: Request) -> None:
        code = request[2]["content"].get("code", "")
        if not isinstance(code, str):
            raise TypeError("is_complete_request: code must be a string")
        try:
            if len(code) > MAX_SERVICE_CODE:
                log(f"is_complete_request for {len(code)} characters of code: answered unknown")
                raise ImportError
            reply = self._service("iscomplete").is_complete(code, self.shell.automagic)
        except ImportError:
            reply = {"status": "unknown"}
        self.reply(request, "is_complete_reply", reply)

    def history_request(self, request: Request) -> None:
        store = self.shell.extensions.get("history")
        if store is None:
            reply: dict[str, Any] = {"status": "ok", "history": []}
        else:
            reply = store.reply(request[2]["content"])
        self.reply(request, "history_reply", reply)

    # ----- comms ---------------------------------------------------------------------------------

    def comm_info_request(self, request: Request) -> None:
        target = request[2]["content"].get("target_name")
        comms = self.comms.info(target if isinstance(target, str) else None)
        self.reply(request, "comm_info_reply", {"status": "ok", "comms": comms})

    def comm_open(self, request: Request) -> None:
        if not self.comms.handle_open(request[2]):
            log(f"comm_open for unknown target {request[2]['content'].get('target_name')!r}: closed it")

    def comm_msg(self, request: Request) -> None:
        if not self.comms.handle_msg(request[2]):
            log("comm_msg for an unknown comm ignored")

    def comm_close(self, request: Request) -> None:
        self.comms.handle_close(request[2])

    # ----- control -------------------------------------------------------------------------------

    def interrupt_request(self, request: Request) -> None:
        problem = self.interrupt()
        if problem is None:
            self.reply(request, "interrupt_reply", {"status": "ok"})
            return
        self._warn(f"Interrupt: {problem}\n")
        self.reply(request, "interrupt_reply", {
            "status": "error",
            "ename": "InterruptNotDelivered",
            "evalue": problem,
            "traceback": [],
        })

    def interrupt(self) -> str | None:
        """Interrupt the running user code: None, or why that could not be done."""
        return send_sigint(self.main_thread_id, self.on_sigint, self.shell.interruptible, self._warn)

    def _warn(self, text: str) -> None:
        """A line on stderr of the running request, from the kernel itself."""
        self.channels.publish("stream", {"name": "stderr", "text": text}, self.parent)

    def restore_sigint(self) -> None:
        """Put the kernel's SIGINT handler back if the cell replaced it."""
        if threading.current_thread() is threading.main_thread():  # (only it may set handlers)
            restore_sigint(self.on_sigint)

    def shutdown_request(self, request: Request) -> None:
        restart = bool(request[2]["content"].get("restart", False))
        content = {"status": "ok", "restart": restart}
        self.reply(request, "shutdown_reply", content)
        self.channels.publish("shutdown_reply", content, request[2]["header"])
        self.channels.publish("status", {"execution_state": "idle"}, request[2]["header"])
        self.channels.stop(0)

    def subshell_request(self, request: Request) -> None:
        """create/delete/list_subshell_request (kernel subshells, protocol 5.5)."""
        from . import subshells

        if self.subshells is None:
            self.subshells = subshells.Subshells(self.channels, self)
        subshells.serve_control(self.subshells, self, request)

    def debug_request(self, request: Request) -> None:
        """A Debug Adapter Protocol request (the visual debugger, see ``debugger_of``)."""
        self.reply(request, "debug_reply", debugger_of(self).handle(request[2]["content"]))

    def on_sigint(self, signum: int, frame: Any) -> None:
        """SIGINT: interrupt user code while it runs; ignore it otherwise."""
        if self.shell.interruptible:
            raise KeyboardInterrupt
