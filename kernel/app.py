"""Kernel start-up and sockets: connection file, the five channels, threads, signals.

Threads: the main thread serves shell requests and runs user code; a control thread serves
control requests even while a cell runs; a heartbeat thread echoes pings (in C, via
``zmq.proxy``); an io thread turns captured output into stream messages, answers iopub
subscriptions with ``iopub_welcome`` (and counts the subscribers) and watches the parent
process: when the console that started the kernel is gone the kernel exits, unless other
clients are still subscribed; then it is left running for them (until one shuts it down).
"""

from __future__ import annotations

import functools
import os
import select
import signal
import sys
import threading
import time
from typing import Any

import zmq

from . import connection
from .dispatch import Dispatcher
from .execution.shell import Shell
from .iostream import FLUSH_INTERVAL, FdCapture, OutStream, StreamSink, in_fork_child
from .log import log, set_log_fd
from .sockets import readable as _readable
from .sockets import recv_frames, send_frames
from .threads import start_helper
from .wire import Session, Signer, WireError, new_id

# iopub messages queued per subscriber before that subscriber misses messages (zmq's own
# default, stated here because it is the kernel's memory bound for a stopped client, e.g. a
# console suspended with Ctrl-Z: at most this many messages of at most
# iostream.MAX_MESSAGE_CHARS each). 100 was tried: 20 clients reading at once on 2 busy cores
# then missed messages, because their zmq threads fell that far behind.
IOPUB_HWM = 1000
IDLE_AFTER_MS = 300  # quiet time after which one-time warm-up work runs
SHARED_SLICE = 0.02  # seconds each of a GUI loop and asyncio tasks runs in turn when both do
SIGNAL_CHECK_MS = 1000  # longest blocking receive in the main thread: signal handlers run between
COMM_MESSAGES = ("comm_open", "comm_msg", "comm_close")  # served even while a cell awaits
# This kernel's iopub message saying it waits for input (content: prompt, password, state).
INPUT_WAIT = "mycon_input_wait"


def _warm_language_services() -> None:
    """Import and prime completion and inspection so the first Tab or ``?`` is quick."""
    from .services import completion, inspection  # noqa: F401 - now, not at the first ``?``

    completion.warm()


def bind_socket(context: zmq.Context, info: connection.ConnectionInfo, kind: int, port_name: str) -> zmq.Socket:
    """A socket of ``kind`` bound to ``info``'s port ``port_name`` (a free one when 0, which is
    then written into ``info``), with Curve when ``info`` has a secret key."""
    sock = context.socket(kind)
    sock.linger = 1000
    if kind == zmq.XPUB:
        sock.setsockopt(zmq.XPUB_VERBOSE, 1)
        sock.setsockopt(zmq.XPUB_VERBOSER, 1)  # unsubscriptions too: count who is attached
        sock.sndhwm = IOPUB_HWM
    if kind == zmq.ROUTER:
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
    if info.curve_secretkey:
        sock.curve_secretkey = info.curve_secretkey.encode("ascii")
        sock.curve_server = True
    port = getattr(info, port_name)
    if port:
        sock.bind(info.endpoint(port))
    elif info.transport == "ipc":
        port = 1
        while os.path.exists(f"{info.ip}-{port}"):
            port += 1
        sock.bind(info.endpoint(port))
    else:
        host = f"[{info.ip}]" if ":" in info.ip else info.ip
        if ":" in info.ip:
            sock.ipv6 = True
        port = sock.bind_to_random_port(f"tcp://{host}")
    setattr(info, port_name, port)
    return sock


class Topics(dict[str, bytes]):
    """Each message type's iopub topic frame (``kernel.<session>.<msg_type>``), made once."""

    def __init__(self, prefix: bytes) -> None:
        super().__init__()
        self.prefix = prefix

    def __missing__(self, msg_type: str) -> bytes:
        topic = self[msg_type] = self.prefix + msg_type.encode()
        return topic


class Channels:
    """The kernel's sockets and the ways to send on them safely from several threads."""

    def __init__(self, info: connection.ConnectionInfo, session: Session) -> None:
        self.info = info
        self.session = session
        self.context = zmq.Context()
        self.iopub_lock = threading.Lock()
        self.cleanups: list[Any] = []
        self.dispatcher: Dispatcher | None = None
        self.sink: StreamSink | None = None
        self.capture: FdCapture | None = None
        self._topics = Topics(f"kernel.{session.session_id[:8]}.".encode())
        self._stopping = False
        self._control_ident: int | None = None
        self._input_wait: tuple[dict[str, Any], dict[str, Any]] | None = None  # (content, parent)
        self.subscribers = 0  # iopub subscriptions now (a console, exec, ... holds one each)
        self.left_running = False  # the process that started us is gone; clients remain
        self.connection_file: str | None = None
        self.idle_tasks: list[Any] = [_warm_language_services]
        # shell requests read while a cell awaited (comms were served then), oldest first
        self.held: list[tuple[list[bytes], dict[str, Any]]] = []
        self.shell = self._bind(zmq.ROUTER, "shell_port")
        self.control = self._bind(zmq.ROUTER, "control_port")
        self.stdin = self._bind(zmq.ROUTER, "stdin_port")
        self.iopub = self._bind(zmq.XPUB, "iopub_port")
        self.heartbeat = self._bind(zmq.ROUTER, "hb_port")
        self.shell_socket = self.shell  # ``shell`` is the main thread's inbox while subshells exist
        self.handover = ShellHandover(self)

    def _bind(self, kind: int, port_name: str) -> zmq.Socket:
        return bind_socket(self.context, self.info, kind, port_name)

    def ports(self) -> dict[str, int]:
        return {name: getattr(self.info, name) for name in connection.PORT_NAMES}

    # ----- sending -------------------------------------------------------------------------------

    def send(self, sock: zmq.Socket, msg_type: str, content: dict[str, Any], parent: dict[str, Any], idents: list[bytes], metadata: dict[str, Any] | None = None) -> None:
        """Send a reply on a ROUTER socket (shell, control, stdin)."""
        if in_fork_child():
            return  # a forked child shares the sockets' descriptors but must never use them
        routed = self.handover.routed
        if sock is self.shell_socket and routed is not None and threading.current_thread() is not routed.serving:
            sock = self.shell  # a request read before the router took the socket: reply through it
        send_frames(sock, self.session.serialize(msg_type, content, parent, metadata, idents))

    def publish(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any],
                buffers: list[bytes] | None = None) -> None:
        """Publish on iopub (thread-safe); ``buffers``: binary frames (comm messages)."""
        if in_fork_child():
            return
        frames = self.session.serialize(msg_type, content, parent, None, [self._topics[msg_type]], buffers)
        with self.iopub_lock:
            if _readable(self.iopub):
                self._welcome_locked()  # a new subscriber's first message is its welcome
            send_frames(self.iopub, frames)

    def emit_stream(self, name: str, text: str, parent: Any = None) -> None:
        """Publish one stream message for ``parent`` (None: the request being served)."""
        if parent is None:
            parent = self.dispatcher.parent if self.dispatcher else {}
        self.publish("stream", {"name": name, "text": text}, parent)

    def route_streams(self) -> None:
        """Output may now belong to a request other than the current one: tag each write."""
        if self.sink is not None:
            self.sink.route()

    def flush_streams(self) -> None:
        """Publish all output written so far (Python buffers, then the fd pipes, in order)."""
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        if in_fork_child():
            return  # the pipes and the sink belong to the parent kernel
        if self.capture is not None:
            self.capture.drain()
        if self.sink is not None:
            self.sink.flush()

    def reopen_streams(self) -> None:
        """Give user code a working sys.stdout/sys.stderr again if an earlier cell closed them.

        A closed stream would make every later ``print`` fail; a stream the user replaced with
        another open object is left alone (that was asked for).
        """
        if self.sink is None:
            return
        for name, fd in (("stdout", 1), ("stderr", 2)):
            if getattr(getattr(sys, name), "closed", True):
                setattr(sys, name, OutStream(name, self.sink, fd))
                log(f"sys.{name} was closed or removed by user code: reopened")

    # ----- stdin -------------------------------------------------------------------------------

    def request_input(self, prompt: str, password: bool, parent: dict[str, Any], idents: list[bytes]) -> str:
        """Ask the client for a line of input; wait (interruptibly) for its input_reply."""
        stale = 0
        while self.stdin.poll(0):
            self.stdin.recv_multipart()  # stale replies from an earlier request
            stale += 1
        if stale:
            log(f"stdin: dropped {stale} message(s) sent while no input was requested")
        asked = {"prompt": prompt, "password": password}
        self._announce_input_wait({**asked, "state": "waiting"}, parent)
        outcome = "cancelled"
        try:
            self.send(self.stdin, "input_request", asked, parent, idents)
            value = self._await_input_reply()
            outcome = "answered"
            return value
        finally:
            self._announce_input_wait({**asked, "state": outcome}, parent)

    def _await_input_reply(self) -> str:
        """The value of the next input_reply on stdin (KeyboardInterrupt if it says error)."""
        while True:
            if not self.stdin.poll(100):
                continue
            raw = self.stdin.recv_multipart()
            try:
                _, msg = self.session.deserialize(raw)
            except WireError as exc:
                log(f"stdin: dropped a message: {exc}")
                continue
            if msg["msg_type"] != "input_reply":
                log(f"stdin: unexpected {msg['msg_type']} ignored")
                continue
            value = msg["content"].get("value", "")
            if msg["content"].get("status") == "error":
                raise KeyboardInterrupt
            return value if isinstance(value, str) else str(value)

    def _announce_input_wait(self, content: dict[str, Any], parent: dict[str, Any]) -> None:
        """Tell every client on iopub that the kernel waits for input, or no longer does.

        The protocol sends ``input_request`` only to the client that ran the cell, so the others
        cannot see why the kernel is stuck. ``INPUT_WAIT`` is this kernel's own iopub message
        (clients ignore iopub types they do not know); its parent is the request that asked.
        A client that subscribes during the wait gets the announcement after its welcome.
        """
        if in_fork_child():
            return
        with self.iopub_lock:
            if _readable(self.iopub):
                self._welcome_locked()
            self._input_wait = (content, parent) if content.get("state") == "waiting" else None
            self._send_input_wait_locked(content, parent)

    def _send_input_wait_locked(self, content: dict[str, Any], parent: dict[str, Any]) -> None:
        """One freshly signed ``INPUT_WAIT`` (a resent signature would look like a replay)."""
        topic = self._topics[INPUT_WAIT]
        send_frames(self.iopub, self.session.serialize(INPUT_WAIT, content, parent, None, [topic]))

    # ----- shell loop --------------------------------------------------------------------------

    def receive(self, sock: zmq.Socket) -> tuple[list[bytes], dict[str, Any]] | None:
        """One verified message from ``sock``, or None if it had to be dropped."""
        raw = recv_frames(sock)
        if len(raw) == 1 and self.handover.routed and sock is self.shell:
            self.handover.take_back = True  # the router's only signal to the main thread (subshells.py)
            return None
        try:
            return self.session.deserialize(raw)
        except WireError as exc:
            log(f"dropped a message: {exc}")
        except Exception as exc:  # noqa: BLE001 - never die on input
            log(f"dropped a malformed message: {type(exc).__name__}: {exc}")
        return None

    def take_queued(self) -> list[tuple[zmq.Socket, list[bytes], dict[str, Any]]]:
        """The shell requests already waiting in the socket (verified), oldest first."""
        queued = [(self.shell, idents, msg) for idents, msg in self.held]
        self.held = []
        with self.handover:
            while _readable(self.shell):
                received = self.receive(self.shell)
                if received is not None and not self.handover.passed_on(*received):
                    queued.append((self.shell, received[0], received[1]))
        return queued

    def serve_shell(self, dispatcher: Dispatcher) -> None:
        """The main loop: serve shell requests forever."""
        self.shell.rcvtimeo = SIGNAL_CHECK_MS  # see the zmq.Again case below
        while True:
            try:
                self.handover.own()
                if self.held:
                    idents, msg = self.held.pop(0)
                    self.handover.free()
                    dispatcher.handle((self.shell, idents, msg), dispatcher.shell_handlers, True)
                    continue
                if self.idle_tasks and not _readable(self.shell) and not self.shell.poll(IDLE_AFTER_MS):
                    self._run_idle_tasks()
                    continue
                if not self._run_loops_until_request(dispatcher.shell):
                    continue
                received = self.receive(self.shell)
                if received is None:
                    continue
                idents, msg = received
                if self.handover.passed_on(idents, msg):
                    continue
                self.handover.free()
                dispatcher.handle((self.shell, idents, msg), dispatcher.shell_handlers, True)
            except KeyboardInterrupt:
                continue
            except zmq.Again:
                # an idle second: running bytecode here lets Python run a signal handler that
                # the blocking receive did not wake for (SIGTERM was seen to wait forever)
                continue
            except zmq.ZMQError:
                if not self._stopping:
                    raise
                self.stdin.close(linger=0)
                self._closed_by_term(self.shell)

    def serve_comms_while_awaiting(self) -> None:
        """While a cell awaits: serve comm messages now (the cell may await what a widget
        sends), hold every other shell request for after the cell, in order."""
        dispatcher = self.dispatcher
        with self.handover:
            while dispatcher is not None and _readable(self.shell):
                received = self.receive(self.shell)
                if received is None or self.handover.passed_on(*received):
                    continue
                idents, msg = received
                if msg["msg_type"] in COMM_MESSAGES:  # ahead of held requests, as in ipykernel
                    dispatcher.handle_aside((self.shell, idents, msg))
                else:
                    self.held.append((idents, msg))

    def _run_loops_until_request(self, shell: Shell) -> bool:
        """Between requests: run the GUI toolkit's loop (``%gui``) and the asyncio tasks cells
        started, if any, until a request waits (True) or a second passed (False). Both at once
        take turns in short slices."""
        gui_loop = shell.gui_loop
        cell_loop = shell._cell_loop
        tasks = cell_loop is not None and cell_loop.pending()
        if gui_loop is None and not tasks:
            return True  # nothing to run: block in the receive
        limit = SHARED_SLICE if gui_loop is not None and tasks else SIGNAL_CHECK_MS / 1000
        if gui_loop is not None:  # windows respond while no request waits
            try:
                gui_loop.run_until_readable(self.shell.FD, self._request_waiting, limit)
            except Exception as exc:  # noqa: BLE001 - a broken toolkit must not stop the kernel
                log(f"the {gui_loop.name} event loop failed ({type(exc).__name__}: {exc}); it is off")
                shell.gui_loop = None
        if tasks and not self._request_waiting():
            cell_loop.run_until_readable(self.shell.FD, self._request_waiting, limit)
        return self._request_waiting()

    def _request_waiting(self) -> bool:
        return _readable(self.shell)

    def _run_idle_tasks(self) -> None:
        """One-time work done in the first quiet moment (e.g. warming completion)."""
        tasks, self.idle_tasks = self.idle_tasks, []
        for task in tasks:
            try:
                task()
            except Exception as exc:  # noqa: BLE001
                log(f"idle task failed: {type(exc).__name__}: {exc}")

    def serve_control(self, dispatcher: Dispatcher) -> None:
        """The control thread: interrupt, shutdown and kernel_info, even during a long cell."""
        self._control_ident = threading.get_ident()
        while not self._stopping:
            try:
                received = self.receive(self.control)
            except zmq.ZMQError:
                if self._stopping:
                    self._closed_by_term(self.control)
                return
            if received is None:
                continue
            idents, msg = received
            dispatcher.handle((self.control, idents, msg), dispatcher.control_handlers, False)

    def serve_heartbeat(self) -> None:
        try:
            zmq.proxy(self.heartbeat, self.heartbeat)
        except zmq.ZMQError:
            self._closed_by_term(self.heartbeat)

    def serve_io(self, parent_pid: int | None, parent_ppid: int) -> None:
        """The io thread: captured output, iopub subscriptions, parent watching.

        ``parent_ppid`` is our parent as seen at start-up: when it changes, the launcher is gone.
        """
        poller = select.poll()
        if self.capture is not None:
            for fd in self.capture.readers:
                poller.register(fd, select.POLLIN)
        next_parent_check = time.monotonic() + 1.0
        launcher_gone = False
        interval_ms = int(FLUSH_INTERVAL * 1000)
        while not self._stopping:
            try:
                events = poller.poll(interval_ms)
                if events and self.capture is not None:
                    self.capture.drain()
                self._answer_subscriptions()
                if self.sink is not None:
                    self.sink.flush()
                if parent_pid is not None and not self.left_running and time.monotonic() >= next_parent_check:
                    next_parent_check = time.monotonic() + 1.0
                    if launcher_gone:
                        # A second later its own iopub subscription is surely gone too.
                        if self.subscribers <= 0:
                            log("the process that started this kernel is gone: exiting")
                            self.stop(0)
                        else:
                            log("the process that started this kernel is gone; other clients remain: running on")
                            self.left_running = True
                            if self.connection_file:  # its starter will not remove it now
                                self.cleanups.append(functools.partial(_remove, self.connection_file))
                    launcher_gone = os.getppid() != parent_ppid
            except Exception as exc:  # noqa: BLE001 - this thread must not die
                if self._stopping:
                    return
                log(f"io thread: {type(exc).__name__}: {exc}")
                time.sleep(FLUSH_INTERVAL)

    def _answer_subscriptions(self) -> None:
        with self.iopub_lock:
            self._welcome_locked()

    def _welcome_locked(self) -> None:
        """Answer each new subscription with ``iopub_welcome`` (the iopub lock is held).

        Called by the io thread, and by ``publish`` before anything else goes out, so that
        nothing published after a client subscribed reaches it before its welcome.
        """
        while _readable(self.iopub):
            frame = self.iopub.recv()
            if frame[:1] == b"\x00":
                self.subscribers = max(0, self.subscribers - 1)
            if frame[:1] == b"\x01":
                self.subscribers += 1
                topic = frame[1:].decode("utf-8", "replace")
                welcome = self.session.serialize("iopub_welcome", {"subscription": topic}, {}, None,
                                                 [self._topics["iopub_welcome"]])
                self.iopub.send_multipart(welcome)
                if self._input_wait is not None:
                    self._send_input_wait_locked(*self._input_wait)  # others see it twice: harmless

    # ----- stopping ----------------------------------------------------------------------------

    def stop(self, code: int = 0) -> None:
        """Flush, run clean-ups (connection file, history), deliver what is queued, exit."""
        if in_fork_child():
            os._exit(code)  # the connection file, history and sockets are the parent's
        terminator = self.shut_down()
        if terminator is not None:
            terminator.join(timeout=1.5)
            os._exit(code)

    def shut_down(self) -> threading.Thread | None:
        """Flush and clean up once, then close the sockets and end the context.

        Returns the thread running ``context.term()`` (None if already shut down): closing
        with linger and terminating delivers the last replies; sockets owned by busy threads
        are closed by those threads when term() wakes them (ETERM).
        """
        if self._stopping:
            return None
        self._stopping = True
        _run_exit_functions()  # the user's atexit work (ipyparallel stops its clusters there)
        try:
            self.flush_streams()
        except Exception:  # noqa: BLE001
            pass
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001
                log(f"clean-up failed: {exc}")
        with self.iopub_lock:
            self.iopub.close(linger=1000)
        if threading.current_thread() is threading.main_thread():
            self.shell.close(linger=1000)
            self.stdin.close(linger=0)
        elif threading.get_ident() == self._control_ident:
            self.control.close(linger=1000)
        # any other thread (SIGTERM's) leaves each socket to its own thread: zmq sockets are
        # not thread-safe, and term() wakes the threads blocked on them to close them
        return start_helper(self.context.term, name="terminator")

    def _closed_by_term(self, sock: zmq.Socket) -> None:
        """Called by a thread whose blocking call returned ETERM: close its socket and wait."""
        sock.close(linger=1000)
        while True:
            time.sleep(3600)


class ShellHandover:
    """Who reads the shell socket: the main thread, or the router of kernel subshells.

    Kernel subshells (kernel/subshells.py, loaded on the first create_subshell_request): while
    they exist a router thread owns the shell socket and the main thread reads its inbox from
    the router (``Channels.shell`` is then that inbox). The main thread holds ``lock`` while it
    may touch the shell socket (between requests); the router takes the socket under it.
    """

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.lock = threading.Lock()
        self.router: Any = None  # the router that wants or owns the shell socket
        self.routed: Any = None  # the router the main thread reads its inbox from
        self.main_holds = False  # the main thread holds the lock
        self.take_back = False  # the router gave the shell socket back (switch at the loop top)
        self._held: list[bool] = []  # per ``with`` block: whether it took the lock

    def own(self) -> None:
        """Main thread, between requests: hold the shell socket, or switch to the inbox of a
        router that wants it, or take the socket back from a router that is done."""
        if self.take_back:
            self._switch_back()
        if self.routed is not None:
            return
        if not self.main_holds:
            self.lock.acquire()
            self.main_holds = True
            if self.routed is not None:  # the router switched us during the request
                self.free()
                return
        router = self.router
        if router is not None:
            self.read_inbox(router)
            self.free()

    def free(self) -> None:
        """Main thread: let a router take the shell socket (while a request runs)."""
        if self.main_holds:
            self.main_holds = False
            self.lock.release()

    def __enter__(self) -> None:
        """Main thread, inside a request (``with handover:``): hold the shell socket to read it."""
        held = False
        if self.routed is None and not self.main_holds:
            self.lock.acquire()
            self.main_holds = held = True
            if self.routed is not None:  # the router switched us: the inbox is ours anyway
                self.free()
                held = False
        self._held.append(held)

    def __exit__(self, *exc_info: object) -> None:
        if self._held.pop():
            self.free()

    def read_inbox(self, router: Any) -> None:
        """Read shell requests from ``router`` from now on (called with the lock held)."""
        router.main_inbox.rcvtimeo = SIGNAL_CHECK_MS  # as the shell socket's (see serve_shell)
        self._read_from(router.main_inbox)
        self.routed = router

    def _switch_back(self) -> None:
        """The last subshell is gone: read the shell socket again (and say so to the router)."""
        self.take_back = False
        if not self.routed.confirm_give_back():
            return  # a new subshell came first: the router keeps the socket
        inbox = self.channels.shell
        inbox.send(b"taken")  # any single frame: subshells.TAKEN
        inbox.close(linger=1000)
        self._read_from(self.channels.shell_socket)
        self.routed = None

    def _read_from(self, sock: zmq.Socket) -> None:
        channels = self.channels
        channels.shell = sock
        if channels.dispatcher is not None:  # comms served while a cell awaits come from there
            channels.dispatcher.shell.await_watch = (sock.FD, channels.serve_comms_while_awaiting)

    def passed_on(self, idents: list[bytes], msg: dict[str, Any]) -> bool:
        """Main thread, on a request it read: if it is for a subshell (and so was read from the
        shell socket, not from a router), answer it or pass it on (True)."""
        if self.routed is not None or msg["header"].get("subshell_id") is None:
            return False
        self._not_for_main(idents, msg)
        return True

    def _not_for_main(self, idents: list[bytes], msg: dict[str, Any]) -> None:
        """A request for a subshell read by the main thread (which holds the socket): answer
        it (no subshells) or leave it to the router and switch to the router's inbox now."""
        router = self.router
        if router is None:
            from .subshells import answer_unknown

            answer_unknown(self.channels, self.channels.shell, idents, msg)
            return
        with router.lock:
            router.stash.append((idents, msg))
        self.read_inbox(router)
        self.free()


def _run_exit_functions() -> None:
    """Run what user code registered with ``atexit``: the process ends with ``os._exit``,
    which would skip it (ipykernel's kernels end normally, and run it)."""
    atexit = sys.modules.get("atexit")
    if atexit is None:
        return
    try:
        atexit._run_exitfuncs()
    except Exception as exc:  # noqa: BLE001 - each failure is printed by atexit itself
        log(f"atexit functions failed: {exc}")


USAGE = """usage: python -m kernel [-f CONNECTION_FILE] [--ip IP] [--transport tcp|ipc]
                        [--encryption | --no-encryption] [--allow-no-key]

mycon's Python kernel for Jupyter front ends.

  -f, --connection-file FILE  connection file to read (written there if it does not exist;
                              without -f a new kernel-<id>.json goes to the runtime directory)
  --ip IP                     address to bind when we write the connection file (127.0.0.1)
  --transport tcp|ipc         transport when we write the connection file (tcp)
  --encryption                CurveZMQ keys in the connection file we write (the default when
                              --ip is beyond loopback); only clients that read those keys can
                              attach (mycon, jupyter_client 8.9+), not jupyter console or qtconsole
  --no-encryption             plain TCP (messages signed) even beyond loopback: unsafe there
  --allow-no-key              accept a connection file with an empty key: unsafe
"""


class Options:
    """Command-line options of the kernel (parsed by hand: argparse costs start-up time)."""

    def __init__(self) -> None:
        self.connection_file: str | None = None
        self.idle_tasks: list[Any] = [_warm_language_services]
        self.ip: str | None = None
        self.transport = "tcp"
        self.allow_no_key = False
        self.encryption: bool | None = None  # None: CurveZMQ when --ip is beyond loopback


def parse_args(argv: list[str]) -> Options:
    """Parse the kernel's few flags; a mistake exits with status 2 and one line."""
    options = Options()
    valued = {"-f": "connection_file", "--connection-file": "connection_file", "--ip": "ip", "--transport": "transport"}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, eq, inline = arg.partition("=")
        if arg in ("-h", "--help"):
            sys.stdout.write(USAGE)
            raise SystemExit(0)
        if arg == "--allow-no-key":
            options.allow_no_key = True
        elif arg in ("--encryption", "--no-encryption"):
            options.encryption = arg == "--encryption"
        elif name in valued:
            if eq:
                value = inline
            elif args:
                value = args.pop(0)
            else:
                sys.stderr.write(f"python -m kernel: {name} needs a value (see --help)\n")
                raise SystemExit(2)
            setattr(options, valued[name], value)
        elif arg.startswith("-") and arg != "-":
            # an option for IPython or ipykernel (``--profile-dir DIR``, ``--IPKernelApp.x=y``)
            # in a kernelspec written for them: say so and start anyway
            ignored = arg
            if not eq and args and not args[0].startswith("-"):
                ignored += " " + args.pop(0)
            sys.stderr.write(f"python -m kernel: ignoring option {ignored!r}, which this kernel "
                             "does not use (see --help)\n")
        else:
            sys.stderr.write(f"python -m kernel: unexpected argument {arg!r} (see --help)\n")
            raise SystemExit(2)
    if options.transport not in ("tcp", "ipc"):
        sys.stderr.write(f"python -m kernel: --transport must be tcp or ipc, not {options.transport!r}\n")
        raise SystemExit(2)
    return options


def _prepare_connection(args: Options) -> tuple[connection.ConnectionInfo, str | None]:
    """Read the connection file, or make a new one; returns the file we must remove on exit."""
    if args.connection_file and os.path.exists(args.connection_file):
        return connection.read_connection_file(args.connection_file), None
    info = connection.ConnectionInfo(key=new_id(), transport=args.transport)
    if args.ip:
        info.ip = args.ip
    encrypt = args.encryption
    if encrypt is None:  # readable on the network otherwise
        encrypt = info.transport == "tcp" and info.ip not in connection.LOOPBACK
    if encrypt:
        if not zmq.has("curve"):
            raise connection.ConnectionFileError(
                "this pyzmq cannot encrypt (its libzmq has no CurveZMQ); pass --no-encryption "
                "or install a pyzmq built with libsodium"
            )
        public, secret = zmq.curve_keypair()
        info.curve_publickey, info.curve_secretkey = public.decode("ascii"), secret.decode("ascii")
    if args.connection_file:
        path = args.connection_file
        if not os.path.dirname(path):
            path = os.path.join(connection.runtime_dir(), path)
    else:
        path = os.path.join(connection.runtime_dir(), f"kernel-{new_id()[:12]}.json")
    return info, path


def readable_on_the_network(info: connection.ConnectionInfo) -> bool:
    """True when others could copy (and replay) our traffic: plain tcp off loopback."""
    return info.ip not in connection.LOOPBACK and info.transport == "tcp" and not info.curve_secretkey


def main(argv: list[str] | None = None) -> None:
    """Start the kernel and serve until shut down."""
    parent_ppid = os.getppid()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        info, own_file = _prepare_connection(args)
    except connection.ConnectionFileError as exc:
        sys.stderr.write(f"mycon kernel: {exc}\n")
        raise SystemExit(2) from None
    if not info.key and not args.allow_no_key:
        sys.stderr.write(
            "mycon kernel: the connection file has an empty key, so anyone who can reach the ports "
            "could run code here. Refusing to start; pass --allow-no-key to accept that risk.\n"
        )
        raise SystemExit(2)
    if not info.key:
        log("warning: empty key (--allow-no-key): messages are not signed; anyone who can reach the ports can run code")
    exposed = readable_on_the_network(info)
    if exposed:
        log(f"warning: listening on {info.ip} without transport encryption; messages can be read on the network")
    try:
        signer = Signer(info.key.encode(), info.signature_scheme, dated=exposed)
    except ValueError as exc:
        sys.stderr.write(f"mycon kernel: {exc}\n")
        raise SystemExit(2) from None
    session = Session(signer)
    try:
        channels = Channels(info, session)
    except zmq.ZMQError as exc:
        sys.stderr.write(f"mycon kernel: cannot listen on {info.ip}: {exc}\n")
        raise SystemExit(1) from None
    channels.connection_file = os.path.abspath(own_file or args.connection_file or "")
    if own_file is not None:
        connection.write_connection_file(info, own_file)
        channels.cleanups.append(lambda: _remove(own_file))
        sys.stdout.write(
            f"mycon kernel listening; connection file: {own_file}\n"
            f"Attach a console with:\n    mycon --existing {os.path.basename(own_file)}\n"
            f"{connection.encryption_note(info, own_file)}\n"
        )
        sys.stdout.flush()

    shell = Shell()
    _make_namespace_main(shell)
    dispatcher = Dispatcher(channels, shell)
    channels.dispatcher = dispatcher
    shell.await_watch = (channels.shell.FD, channels.serve_comms_while_awaiting)
    sink = StreamSink(channels.emit_stream)
    channels.sink = sink
    try:
        capture = FdCapture(sink)
        channels.capture = capture
        set_log_fd(capture.original_stderr)
        capture.drain_on_signal()
    except OSError as exc:
        log(f"cannot capture file descriptors 1 and 2: {exc}")
    sys.stdout = OutStream("stdout", sink, 1)
    sys.stderr = OutStream("stderr", sink, 2)
    _install_getpass(dispatcher)
    signal.signal(signal.SIGINT, dispatcher.on_sigint)
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop_from_signal(channels))

    parent_pid = os.environ.get("JPY_PARENT_PID")
    for target, thread_args in (
        (channels.serve_control, (dispatcher,)),
        (channels.serve_heartbeat, ()),
        (channels.serve_io, (int(parent_pid) if parent_pid and parent_pid.isdigit() else None, parent_ppid)),
    ):
        start_helper(target, *thread_args, name=target.__name__)
    channels.publish("status", {"execution_state": "starting"}, {})
    sys.path.insert(0, "")  # user code may import modules from its working directory
    sys.meta_path.insert(_path_finder_index(), StdlibFirst())
    _start_services(shell, channels)
    channels.serve_shell(dispatcher)


class StdlibFirst:
    """Finds standard-library modules in the standard library, never in the working directory.

    The working directory is on ``sys.path`` (first, as in any Python REPL) so user code can
    import its own modules; but a ``json.py``, ``sqlite3.py`` or ``asyncio.py`` lying there
    would otherwise shadow the standard module for the kernel's own lazy imports (history,
    top-level await, completion) and for user code alike, breaking both in confusing ways.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or name not in _STDLIB_NAMES:
            return None
        from importlib.machinery import PathFinder

        return PathFinder.find_spec(name, [entry for entry in sys.path if entry not in ("", ".")], target)


_STDLIB_NAMES: frozenset[str] = frozenset(getattr(sys, "stdlib_module_names", ()))


def _path_finder_index() -> int:
    """Where a finder goes to be asked just before the normal path search."""
    from importlib.machinery import PathFinder

    for index, finder in enumerate(sys.meta_path):
        if finder is PathFinder:
            return index
    return len(sys.meta_path)


def _make_namespace_main(shell: Shell) -> None:
    """Make the user namespace the ``__main__`` module's dict, as in a script or IPython.

    pickle finds functions and classes by ``module.qualname``; cell code runs with
    ``__name__ == "__main__"``, so without this ``pickle.dumps`` of a class defined in a cell,
    and multiprocessing with such a function, fail ("attribute lookup on __main__ failed").
    """
    import types

    module = types.ModuleType("__main__")
    module.__dict__.update(shell.user_ns)
    shell.user_ns = module.__dict__
    sys.modules["__main__"] = module


def _stop_from_signal(channels: Channels) -> None:
    """SIGTERM: stop in a new thread, not in the handler.

    The handler runs in the main thread between two bytecodes, possibly inside ``publish``
    with the iopub lock held (or inside a flush holding the sink's); stopping right there
    flushed and published again and waited for that lock forever (seen: about one SIGTERM in
    twenty after a cell, the process hung instead of exiting).
    """
    start_helper(channels.stop, 0, name="sigterm")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _install_getpass(dispatcher: Dispatcher) -> None:
    import getpass

    getpass.getpass = dispatcher.getpass


def _start_services(shell: Shell, channels: Channels) -> None:
    """Attach the language layer (history, magics, display, exit) to the shell."""
    from . import language

    language.install(shell, channels)
