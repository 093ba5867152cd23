"""``embed_kernel()``: serve a mycon kernel from inside any running Python program.

The kernel runs on the program's main thread, on the caller's namespace, with the pieces of
``kernel.app`` (channels, dispatcher, shell, services). Unlike ``python -m kernel`` it does not
end the process when shut down: the call returns and the program goes on.

Differences from a standalone kernel, on purpose:
- ``sys.stdout``/``sys.stderr`` go to the clients while the kernel serves; file descriptors 1
  and 2 are left alone (subprocess and C-level output stays on the program's terminal).
- Ctrl-C in the program's terminal while no cell runs shuts the kernel down (an interrupt
  asked by a client is told apart); SIGTERM does too.
"""

from __future__ import annotations

import builtins
import getpass
import os
import signal
import sys
import threading
from typing import Any

import zmq

from . import app, connection
from .dispatch import Dispatcher
from .execution.shell import Shell
from .iostream import OutStream, StreamSink, in_fork_child
from .threads import start_helper
from .wire import Session, Signer


class _Leave(BaseException):
    """Raised in the main thread by a signal handler: stop serving."""


class EmbeddedChannels(app.Channels):
    """The kernel's channels, stopping without ending the process."""

    def __init__(self, info: connection.ConnectionInfo, session: Session) -> None:
        super().__init__(info, session)
        self._terminator: threading.Thread | None = None
        self.leave_requested = False

    def request_leave(self) -> None:
        """From a signal handler: stop serving, but not from inside the handler.

        The handler may run while the main thread holds the iopub lock (in ``publish``), so
        stopping there would deadlock: unwind to ``serve_shell``, which stops. A running cell
        is interrupted first.
        """
        if self._stopping:
            return
        self.leave_requested = True
        if self.dispatcher is not None and self.dispatcher.shell.interruptible:
            raise KeyboardInterrupt
        raise _Leave

    def publish(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any],
                buffers: list[bytes] | None = None) -> None:
        try:
            super().publish(msg_type, content, parent, buffers)
        except zmq.ZMQError:
            if not self._stopping:
                raise

    def stop(self, code: int = 0) -> None:
        """Flush, run clean-ups, close our sockets and end the context; threads then return."""
        if in_fork_child():
            os._exit(code)  # user code forked: the child must not touch the parent's kernel
        terminator = self.shut_down()
        if terminator is not None:
            self._terminator = terminator

    def _closed_by_term(self, sock: zmq.Socket) -> None:
        sock.close(linger=1000)  # the thread returns instead of sleeping forever

    def serve_shell(self, dispatcher: Dispatcher) -> None:
        """Serve shell requests until the kernel is stopped.

        The receive is bounded: a signal that arrives just before the receive blocks has its
        Python handler run only at the next bytecode, so Ctrl-C at the program would otherwise
        wait for the next request (seen in CI: the program never left).
        """
        self.shell.rcvtimeo = app.SIGNAL_CHECK_MS
        while not self._stopping:
            try:
                if self.leave_requested:
                    self.stop(0)
                    break
                self.handover.own()  # (kernel subshells: see app.ShellHandover)
                received = self.receive(self.shell)
                if received is None or self.handover.passed_on(*received):
                    continue
                idents, msg = received
                self.handover.free()
                dispatcher.handle((self.shell, idents, msg), dispatcher.shell_handlers, True)
            except KeyboardInterrupt:
                continue
            except _Leave:
                self.stop(0)
            except zmq.Again:
                continue  # a quiet second: pending signal handlers run here
            except zmq.ZMQError:
                if not self._stopping:
                    raise
        self.stdin.close(linger=0)
        self.shell.close(linger=1000)
        if self._terminator is not None:
            self._terminator.join(timeout=2.0)


class _Saved:
    """What the kernel replaces in the program while it serves, put back afterwards."""

    def __init__(self) -> None:
        self.stdout, self.stderr = sys.stdout, sys.stderr
        self.input = builtins.input
        self.getpass = getpass.getpass
        self.sigint = signal.getsignal(signal.SIGINT)
        self.sigterm = signal.getsignal(signal.SIGTERM)
        self.displayhook = sys.displayhook
        self.builtins = dict(vars(builtins))  # services add display, exit, quit, magics

    def restore(self) -> None:
        sys.stdout, sys.stderr = self.stdout, self.stderr
        names = vars(builtins)
        for name in [name for name in names if name not in self.builtins]:
            del names[name]
        names.update(self.builtins)
        display = sys.modules.get(f"{__package__}.display.api")
        if display is not None and hasattr(display, "_shell"):
            display._shell = None  # type: ignore[attr-defined]  # display() now prints
        builtins.input = self.input
        getpass.getpass = self.getpass
        signal.signal(signal.SIGINT, self.sigint)
        signal.signal(signal.SIGTERM, self.sigterm)
        sys.displayhook = self.displayhook


def caller_namespace(depth: int = 2) -> dict[str, Any]:
    """The namespace at the call site ``depth`` frames up.

    At module level that is the module's own globals (changes made in the kernel are the
    program's); inside a function, a new dict holding the globals and then the locals (the
    objects are shared, new names stay in the kernel).
    """
    frame = sys._getframe(depth)
    try:
        if frame.f_locals is frame.f_globals:
            return frame.f_globals
        namespace = dict(frame.f_globals)
        namespace.update(frame.f_locals)
        return namespace
    finally:
        del frame


def _bind_namespace(shell: Shell, namespace: dict[str, Any]) -> None:
    """Make ``namespace`` the shell's; it gains ``In``/``Out``/``_`` and keeps its own names."""
    for name, value in shell.user_ns.items():
        if name in ("__name__", "__doc__", "__builtins__"):
            namespace.setdefault(name, value)
        else:
            namespace[name] = value
    shell.user_ns = namespace


def embed_kernel(
    namespace: dict[str, Any] | None = None,
    connection_file: str | None = None,
    ip: str | None = None,
) -> None:
    """Serve a kernel on ``namespace`` (default: the caller's) until a client shuts it down.

    Prints the connection file and the command that attaches a console. Must be called
    from the main thread (signals and interrupts belong to it). Returns after shutdown.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("embed_kernel() must be called from the main thread")
    if namespace is None:
        namespace = caller_namespace()
    options = app.Options()
    options.connection_file = connection_file
    options.ip = ip
    info, own_file = app._prepare_connection(options)
    signer = Signer(info.key.encode(), info.signature_scheme, dated=app.readable_on_the_network(info))
    channels = EmbeddedChannels(info, Session(signer))
    path = own_file or os.path.abspath(connection_file or "")
    channels.connection_file = path
    if own_file is not None:
        connection.write_connection_file(info, own_file)
        channels.cleanups.append(lambda: app._remove(own_file))
    attach = os.path.basename(path) if os.path.dirname(path) == os.path.abspath(connection.runtime_dir()) else path
    saved = _Saved()
    sys.stdout.write(
        f"mycon kernel embedded in process {os.getpid()}; connection file: {path}\n"
        f"Attach a console with:\n    mycon --existing {attach}\n"
    )
    sys.stdout.flush()
    try:
        _serve(channels, namespace)
    finally:
        saved.restore()


def _serve(channels: EmbeddedChannels, namespace: dict[str, Any]) -> None:
    shell = Shell()
    _bind_namespace(shell, namespace)
    dispatcher = Dispatcher(channels, shell)
    channels.dispatcher = dispatcher
    sink = StreamSink(channels.emit_stream)
    channels.sink = sink
    sys.stdout = OutStream("stdout", sink, 1)
    sys.stderr = OutStream("stderr", sink, 2)
    app._install_getpass(dispatcher)
    asked = threading.Event()  # set by a client's interrupt_request, told apart from Ctrl-C
    interrupt = dispatcher.interrupt

    def client_interrupt() -> Any:
        asked.set()
        return interrupt()

    def on_sigint(signum: int, frame: Any) -> None:
        if shell.interruptible:
            asked.clear()
            raise KeyboardInterrupt
        if asked.is_set():
            asked.clear()
            return
        channels.request_leave()  # Ctrl-C at the program's terminal while idle: leave

    # Instance attributes: the dispatcher checks for, and restores, its own ``on_sigint``.
    dispatcher.interrupt = client_interrupt  # type: ignore[method-assign]
    dispatcher.on_sigint = on_sigint  # type: ignore[method-assign]
    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, lambda signum, frame: channels.request_leave())
    for target, args in (
        (channels.serve_control, (dispatcher,)),
        (channels.serve_heartbeat, ()),
        (channels.serve_io, (None, os.getppid())),
    ):
        start_helper(target, *args, name=f"embed-{target.__name__}")
    channels.publish("status", {"execution_state": "starting"}, {})
    app._start_services(shell, channels)
    channels.serve_shell(dispatcher)
