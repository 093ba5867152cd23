"""Kernel subshells (protocol 5.5): more shells in threads of their own, sharing the namespace.

Loaded on the first ``create_subshell_request`` (never at start-up). Until then the main thread
reads the shell socket itself, as fast as ever. While subshells exist:

- a router thread owns the shell socket: it reads each request and passes it, by the
  ``subshell_id`` in its header, to the main thread or a subshell thread over an inproc PAIR
  socket (the "inbox" of that thread), and sends the replies those threads write back to the
  same inbox out on the shell socket;
- each subshell thread serves its requests in order, with its own dispatcher state (the parent
  of its output, its queue aborted after an error) and its own asyncio loop for ``await``;
- the main thread reads its inbox instead of the shell socket (it takes the switch between two
  requests, or the router makes it while the main thread runs a request; the lock of
  ``app.ShellHandover`` says who may touch the socket).

When the last subshell is deleted the router hands the shell socket back to the main thread
(which takes it between two requests) and ends; a create before that keeps the router. An
interrupt reaches the main shell only (as in ipykernel: SIGINT is the main thread's); a cell
running in a subshell runs on.

Frames between the router and a thread: a request or a reply is a whole message (several
frames); a single frame is a signal: ``STOP`` (to a subshell: end), ``PARSED`` (to a subshell: a
request the main thread already read waits in its ``parsed`` list), ``BYE`` (from a subshell:
ended), ``TAKE_BACK`` (to the main thread: own the shell socket again) and ``TAKEN`` (from it).
"""

from __future__ import annotations

import collections
import copy
import json
import threading
import uuid
from typing import Any

import zmq

from .iostream import set_thread_parent
from .log import log
from .threads import start_helper
from .wire import WireError

STOP, PARSED, BYE, TAKE_BACK, TAKEN = b"stop", b"parsed", b"bye", b"take-back", b"taken"
DELIMITER = b"<IDS|MSG>"
COMMAND_TIMEOUT_MS = 10_000  # the router answers a command from the control thread within this
JOIN_TIMEOUT = 1.0  # seconds a delete waits for an idle subshell's thread (and the router) to end;
# a busy one ends after its cell (the control channel must not wait for that)
TAKE_OVER_POLL = 0.05  # seconds between the router's tries to take the shell socket


class UnknownSubshellError(KeyError):
    """A ``subshell_id`` that names no subshell of this kernel."""

    def __init__(self, subshell_id: Any) -> None:
        super().__init__(subshell_id)
        self.subshell_id = subshell_id

    def __str__(self) -> str:
        return f"Unknown subshell_id {self.subshell_id!r}"


def destinations(frames: list[bytes], comm_routes: dict[Any, Any]) -> list[Any]:
    """Where a raw message goes, best first (None: the main shell): the ``subshell_id`` in its
    header, except that a front end's comm message goes first to the shell that last sent on
    that comm (the code awaiting its answer runs there, as in ipykernel). Only read here: the
    thread that serves the message verifies its signature."""
    try:
        start = frames.index(DELIMITER)
        header = json.loads(frames[start + 2])
        subshell_id = header.get("subshell_id")
        if comm_routes and header.get("msg_type") in ("comm_msg", "comm_close"):
            comm_id = json.loads(frames[start + 5]).get("comm_id")
            if comm_id in comm_routes:
                return [comm_routes[comm_id], subshell_id]
    except (ValueError, IndexError, AttributeError, TypeError):
        return [None]
    return [subshell_id]


def answer_unknown(channels: Any, sock: Any, idents: list[bytes], msg: dict[str, Any]) -> None:
    """Answer a request for a subshell that does not exist: busy, an error reply (for a request),
    idle, so that the client waiting for it learns why (a comm message has only the idle)."""
    header = msg["header"]
    error = UnknownSubshellError(header.get("subshell_id"))
    log(f"{msg['msg_type']} for a subshell that does not exist: {error}")
    channels.publish("status", {"execution_state": "busy"}, header)
    if msg["msg_type"].endswith("_request"):
        content = {"status": "error", "ename": type(error).__name__, "evalue": str(error), "traceback": []}
        channels.send(sock, msg["msg_type"][: -len("request")] + "reply", content, header, idents,
                      {"status": "error"})
    channels.publish("status", {"execution_state": "idle"}, header)


class SubshellChannels:
    """What a subshell's dispatcher sees as the kernel's channels: the real ones, except that
    requests queued behind a failed cell are read from the subshell's own inbox."""

    def __init__(self, channels: Any, subshell: Subshell) -> None:
        self._channels = channels
        self._subshell = subshell

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channels, name)

    def take_queued(self) -> list[tuple[Any, list[bytes], dict[str, Any]]]:
        return self._subshell.take_queued()


class Subshell:
    """One subshell: its thread, its inbox (the thread's end of a PAIR) and its dispatcher."""

    def __init__(self, subshell_id: str, inbox: zmq.Socket, main_dispatcher: Any) -> None:
        self.subshell_id = subshell_id
        self.inbox = inbox
        self.parsed: collections.deque[tuple[list[bytes], dict[str, Any]]] = collections.deque()
        self.stopping = False
        self.channels = main_dispatcher.channels
        self.dispatcher = _dispatcher_for(main_dispatcher, self)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = start_helper(self.serve, name=f"subshell-{self.subshell_id}")

    def serve(self) -> None:
        """The subshell's thread: serve its requests in order until told to stop."""
        shell = self.dispatcher.shell
        from .execution.aio import CellLoop

        shell.on_thread.cell_loop = CellLoop()  # its own asyncio loop for top-level await
        try:
            while not self.stopping:
                for request in self._next_requests():
                    self.dispatcher.handle(request, self.dispatcher.shell_handlers, True)
                    set_thread_parent(None)
        except zmq.ZMQError:
            pass  # the kernel is shutting down (ETERM)
        finally:
            loop = shell.on_thread.cell_loop.loop
            if loop is not None and not loop.is_closed():
                loop.close()
            try:
                self.inbox.send(BYE)
            except zmq.ZMQError:
                pass
            self.inbox.close(linger=0)

    def _next_requests(self) -> list[tuple[Any, list[bytes], dict[str, Any]]]:
        """The next request (blocking), as a list: empty for a signal or a dropped message."""
        return self._read(self.inbox.recv_multipart())

    def _read(self, frames: list[bytes]) -> list[tuple[Any, list[bytes], dict[str, Any]]]:
        if len(frames) == 1:
            if frames[0] == STOP:
                self.stopping = True
            elif frames[0] == PARSED and self.parsed:
                idents, msg = self.parsed.popleft()
                return [(self.inbox, idents, msg)]
            return []
        try:
            idents, msg = self.channels.session.deserialize(frames)
        except WireError as exc:
            log(f"subshell {self.subshell_id}: dropped a message: {exc}")
            return []
        except Exception as exc:  # noqa: BLE001 - never die on input
            log(f"subshell {self.subshell_id}: dropped a malformed message: {type(exc).__name__}: {exc}")
            return []
        return [(self.inbox, idents, msg)]

    def take_queued(self) -> list[tuple[Any, list[bytes], dict[str, Any]]]:
        """The requests already waiting in the inbox (a failed cell aborts those)."""
        queued = []
        while not self.stopping and self.inbox.poll(0):
            queued.extend(self._read(self.inbox.recv_multipart()))
        return queued


def _dispatcher_for(main: Any, subshell: Subshell) -> Any:
    """A dispatcher for a subshell: the main one's shell, comms and handlers, with its own
    request state (parent, queue, execution lock) and channels (its inbox for queued requests)."""
    own = copy.copy(main)
    own.channels = SubshellChannels(main.channels, subshell)
    own.parent, own.parent_idents = {}, []
    own.after_idle = []
    own.execution_lock = threading.Lock()
    own.subshell_id = subshell.subshell_id
    own.shell_handlers = {name: getattr(own, handler.__name__) for name, handler in main.shell_handlers.items()}
    return own


class Router:
    """The thread that owns the shell socket while subshells exist (see the module's text)."""

    def __init__(self, channels: Any, dispatcher: Any) -> None:
        self.channels = channels
        self.dispatcher = dispatcher
        context = channels.context
        self.name = f"inproc://mycon-shell-{uuid.uuid4().hex[:12]}"
        self.shell_socket: zmq.Socket = channels.shell_socket
        # the router's end and the main thread's end of the main inbox
        self.main_end = context.socket(zmq.PAIR)
        self.main_end.bind(f"{self.name}-main")
        self.main_inbox = context.socket(zmq.PAIR)
        self.main_inbox.connect(f"{self.name}-main")
        # commands from the control thread (create, delete), answered at once
        self.commands = context.socket(zmq.PAIR)
        self.commands.bind(f"{self.name}-commands")
        self.command_sender = context.socket(zmq.PAIR)
        self.command_sender.connect(f"{self.name}-commands")
        self.stash: list[tuple[list[bytes], dict[str, Any]]] = []  # read by the main thread first
        self.ends: dict[str, zmq.Socket] = {}  # subshell id -> the router's end of its inbox
        self.subshells: dict[str, Subshell] = {}
        self.lock = threading.Lock()  # guards subshells (listed by the control thread)
        self.owning = False  # the router reads the shell socket (until it hands it back)
        self.finishing = False  # the last subshell was deleted
        self.given_back = False  # TAKE_BACK sent (a create before the main thread took it revives)
        self.returned = False  # the main thread took the socket back (under ``lock``): ending
        self.poller: zmq.Poller | None = None
        # the thread serving as router, set by that thread first thing: a reply sent from any
        # other thread meanwhile goes through the main inbox, which is right (it is not the router)
        self.serving: threading.Thread | None = None
        self.thread = start_helper(self.serve, name="subshell-router")

    # ----- control thread ------------------------------------------------------------------------

    def command(self, **command: Any) -> dict[str, Any]:
        """Ask the router thread to do something; its answer (bounded wait)."""
        self.command_sender.send_json(command)
        if not self.command_sender.poll(COMMAND_TIMEOUT_MS):
            raise TimeoutError(f"the shell router did not answer {command['op']} within "
                               f"{COMMAND_TIMEOUT_MS // 1000} s")
        reply: dict[str, Any] = self.command_sender.recv_json()  # type: ignore[assignment]
        return reply

    def ids(self) -> list[str]:
        with self.lock:
            return list(self.subshells)

    # ----- router thread -----------------------------------------------------------------------

    def serve(self) -> None:
        self.serving = threading.current_thread()
        poller = zmq.Poller()
        for sock in (self.commands, self.main_end):
            poller.register(sock, zmq.POLLIN)
        try:
            self._serve(poller)
        except zmq.ZMQError:
            pass  # the kernel is shutting down (ETERM)
        finally:
            for sock in (self.main_end, self.commands, *self.ends.values()):
                sock.close(linger=0)
            if self.owning:
                self.shell_socket.close(linger=1000)

    def _serve(self, poller: zmq.Poller) -> None:
        self.poller = poller
        while True:
            if not self.owning and not self.given_back and self._take_over():
                poller.register(self.shell_socket, zmq.POLLIN)
                self._route_stash()
                self._maybe_give_back()
            waiting = not self.owning and not self.given_back
            for sock, _ in poller.poll(int(TAKE_OVER_POLL * 1000) if waiting else None):
                if sock is self.shell_socket:
                    if self.owning:
                        self._route(sock.recv_multipart())
                elif sock is self.commands:
                    self._obey(self.commands.recv_json(), poller)  # type: ignore[arg-type]
                elif sock is self.main_end:
                    frames = self.main_end.recv_multipart()
                    if len(frames) == 1:
                        return  # the main thread took the shell socket back (TAKEN)
                    self.shell_socket.send_multipart(frames)
                else:
                    self._from_subshell(sock, poller)

    def _take_over(self) -> bool:
        """Own the shell socket once the main thread lets go of it (True: now owned)."""
        channels = self.channels
        if channels.handover.routed is self:  # the main thread switched itself to its inbox
            self.owning = True
            return True
        # never wait for the lock here: the main thread holds it while it waits for a request,
        # and the router must answer commands meanwhile (a create_subshell_request's reply was
        # seen 50 ms late, after the main shell's short cell, which ipykernel's suite refuses);
        # the main thread switches to the inbox itself at its next turn (``ShellHandover.own``)
        if not channels.handover.lock.acquire(blocking=False):
            return False
        try:
            if channels.handover.routed is None:  # the main thread runs a request: switch it
                channels.handover.read_inbox(self)
            if channels.handover.routed is not self:
                return False  # an earlier router still waits for the main thread to take back
        finally:
            channels.handover.lock.release()
        self.owning = True
        return True

    def _route_stash(self) -> None:
        """Requests for subshells the main thread read before the router owned the socket."""
        with self.lock:
            stash, self.stash = self.stash, []
        for idents, msg in stash:
            subshell_id = msg["header"].get("subshell_id")
            subshell = self.subshells.get(subshell_id)
            if subshell is None:
                answer_unknown(self.channels, self.shell_socket, idents, msg)
                continue
            subshell.parsed.append((idents, msg))
            self.ends[subshell_id].send(PARSED)

    def _route(self, frames: list[bytes]) -> None:
        for subshell_id in destinations(frames, self.dispatcher.comm_routes):
            # (a deleted subshell's end stays until its thread ends: not a destination)
            end = self.main_end if subshell_id is None else (
                self.ends.get(subshell_id) if subshell_id in self.subshells else None)
            if end is not None:
                end.send_multipart(frames)
                return
        try:
            idents, msg = self.channels.session.deserialize(frames)
        except Exception as exc:  # noqa: BLE001 - never die on input
            log(f"shell router: dropped a message: {type(exc).__name__}: {exc}")
            return
        answer_unknown(self.channels, self.shell_socket, idents, msg)

    def _from_subshell(self, sock: zmq.Socket, poller: zmq.Poller) -> None:
        frames = sock.recv_multipart()
        if frames != [BYE]:
            self.shell_socket.send_multipart(frames)
            return
        poller.unregister(sock)
        for subshell_id, end in list(self.ends.items()):
            if end is sock:
                del self.ends[subshell_id]
        sock.close(linger=0)
        self._maybe_give_back()

    def _obey(self, command: dict[str, Any], poller: zmq.Poller) -> None:
        op = command.get("op")
        if op == "create":
            with self.lock:
                if self.returned:  # too late to revive: the control thread makes a new router
                    self.commands.send_json({"ended": True})
                    return
                self.finishing = False
                if self.given_back:  # the main thread has not taken the socket back: keep it
                    self.given_back = False
                    self.owning = True
                    poller.register(self.shell_socket, zmq.POLLIN)
            subshell_id = str(uuid.uuid4())
            address = f"{self.name}-{subshell_id}"
            end = self.channels.context.socket(zmq.PAIR)
            end.bind(address)
            inbox = self.channels.context.socket(zmq.PAIR)
            inbox.connect(address)
            subshell = Subshell(subshell_id, inbox, self.dispatcher)
            self.ends[subshell_id] = end
            poller.register(end, zmq.POLLIN)
            with self.lock:
                self.subshells[subshell_id] = subshell
            subshell.start()
            self.commands.send_json({"subshell_id": subshell_id})
        elif op == "delete":
            with self.lock:
                gone = self.subshells.pop(command["subshell_id"], None)
            if gone is not None:
                self.ends[gone.subshell_id].send(STOP)
                self.finishing = not self.subshells
            self.commands.send_json({"deleted": gone is not None})
        else:
            self.commands.send_json({"error": f"unknown command {op!r}"})

    def _maybe_give_back(self) -> None:
        """No subshell left: stop reading the shell socket and give it back to the main thread
        (the router ends when the main thread says it took it)."""
        if not self.finishing or self.ends or not self.owning:
            return
        if self.poller is not None:
            self.poller.unregister(self.shell_socket)
        with self.lock:
            self.owning = False
            self.given_back = True
        self.main_end.send(TAKE_BACK)

    def confirm_give_back(self) -> bool:
        """Main thread, on TAKE_BACK: True if the router still gives the socket back (then it
        is the main thread's again, and this router is no more the hand-over's); False if a
        create revived the router meanwhile."""
        with self.lock:
            if not self.given_back:
                return False
            self.returned = True
            handover = self.channels.handover
            if handover.router is self:
                handover.router = None
            return True


class Subshells:
    """The kernel's subshells, as the control thread creates, lists and deletes them."""

    def __init__(self, channels: Any, dispatcher: Any) -> None:
        self.channels = channels
        self.dispatcher = dispatcher
        self.router: Router | None = None
        self.ending: list[Router] = []  # routers still waiting for the main thread to take back
        dispatcher.comm_routes = {}
        channels.cleanups.append(self.close)

    def create(self) -> str:
        router = self.router
        if router is not None:
            reply = router.command(op="create")  # also revives a router that is giving back
            if "subshell_id" in reply:
                subshell_id: str = reply["subshell_id"]
                return subshell_id
            self._forget(router)  # it ended: the main thread reads the shell socket again
        self.channels.route_streams()  # output of several threads: tag each write
        router = self.router = Router(self.channels, self.dispatcher)
        self.channels.handover.router = router
        subshell_id = router.command(op="create")["subshell_id"]
        return subshell_id

    def _forget(self, router: Router) -> None:
        """A router that gave the socket back: wait (bounded) for its thread, close our end."""
        self.router = None
        router.thread.join(JOIN_TIMEOUT)
        if router.thread.is_alive():
            log("the shell router ends when the main shell's request does")
            self.ending.append(router)
        else:
            router.command_sender.close(linger=0)
        for ended in [old for old in self.ending if not old.thread.is_alive()]:
            ended.command_sender.close(linger=0)
            self.ending.remove(ended)

    def ids(self) -> list[str]:
        return self.router.ids() if self.router is not None else []

    def close(self) -> None:
        """At shut-down: close the control thread's socket to the router (the other sockets
        are closed by their threads when the context ends), so the context can end at once."""
        for router in [*self.ending, *([self.router] if self.router is not None else [])]:
            router.command_sender.close(linger=0)

    def delete(self, subshell_id: Any) -> None:
        router = self.router
        subshell = None
        if router is not None and isinstance(subshell_id, str):
            with router.lock:
                subshell = router.subshells.get(subshell_id)
        if router is None or subshell is None:
            raise UnknownSubshellError(subshell_id)
        router.command(op="delete", subshell_id=subshell_id)
        if subshell.thread is not None:
            subshell.thread.join(JOIN_TIMEOUT)
            if subshell.thread.is_alive():
                log(f"subshell {subshell_id} is deleted; its thread ends when its cell does")
        if not router.ids():
            # the router gives the shell socket back; wait (bounded) so that an idle kernel
            # has no thread of its left when the reply goes out; a busy main shell takes the
            # socket after its cell (a create meanwhile keeps the router)
            router.thread.join(JOIN_TIMEOUT)
            if not router.thread.is_alive():
                self._forget(router)


def serve_control(subshells: Subshells, dispatcher: Any, request: Any) -> None:
    """Answer a create/delete/list_subshell_request (on the control channel)."""
    msg_type = request[2]["msg_type"]
    content: dict[str, Any] = {"status": "ok"}
    try:
        if msg_type == "create_subshell_request":
            content["subshell_id"] = subshells.create()
        elif msg_type == "delete_subshell_request":
            subshells.delete(request[2]["content"].get("subshell_id"))
        else:
            content["subshell_id"] = subshells.ids()
    except (UnknownSubshellError, TimeoutError) as exc:
        content = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": []}
    dispatcher.reply(request, msg_type[: -len("request")] + "reply", content)
