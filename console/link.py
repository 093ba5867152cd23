"""The kernel link: start or attach to a kernel and talk to it over its five channels.

Built on jupyter_client's asynchronous manager and client (imported lazily: they cost a large
part of start-up). The channels are read from the event loop (``console.channels``) and every
message is dispatched: replies go to the waiter registered under their parent ``msg_id``;
iopub and stdin messages go to callbacks. Every wait is bounded and a timeout is reported in
words (``LinkTimeout``). Launching an owned kernel is ``console.launch``'s, watching its
heartbeat ``console.heartbeat``'s, ssh tunnels ``console.tunnels``' and finding connection
files ``console.connection_files``'.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from console.channels import ZmqChannels
from console.connection_files import attach_hint, client_for, read_connection_file
from console.errors import LinkError, LinkTimeout
from console.heartbeat import HeartbeatWatch
from console.launch import EarlyHandover, KernelOutput, launch_owned

Msg = dict[str, Any]
Handler = Callable[[Msg], None]

INTERRUPT_TIMEOUT = 5.0  # seconds an interrupt_request may go unanswered
SHUTDOWN_TIMEOUT = 8.0  # seconds an owned kernel gets to shut down by itself when the console leaves
IDENTITY_TIMEOUT = 1.0  # seconds to wait for the kernel_info that tells which process answers


def unreadable_reason(error: Exception) -> str:
    """Why jupyter_client's Session could not read a message, in words."""
    text = str(error)
    if "IDS|MSG" in text or "DELIM" in text:
        return "frames without the <IDS|MSG> delimiter"
    if text.startswith("Unsigned"):
        return "no signature"
    if text.startswith("Invalid Signature"):
        return "a bad signature"
    if text.startswith("Duplicate Signature"):
        return "a replayed signature"
    if isinstance(error, MalformedMessage):
        return f"a malformed message ({error})"
    if isinstance(error, ValueError):  # JSONDecodeError and UnicodeDecodeError among them
        return f"not valid JSON ({text[:60]})"
    return f"{type(error).__name__}: {text[:80]}"


async def wait_unless(work: Awaitable[Any], stop: asyncio.Event, timeout: float) -> None:
    """Await ``work`` for at most ``timeout`` seconds, or until ``stop`` is set; its failure is
    ignored (what follows checks what is left to do)."""
    done = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({done, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in (done, stopped):
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def kernelspec_guess(kernel_info: Msg) -> str:
    """The likely kernelspec name of a kernel from its kernel_info: ours is ``mycon``,
    IPython's ``python3``, others are named by their language."""
    implementation = str(kernel_info.get("implementation") or "")
    if implementation in ("mycon", "ipython"):
        return "mycon" if implementation == "mycon" else "python3"
    language_info = kernel_info.get("language_info") or {}
    return str(language_info.get("name") or "") if isinstance(language_info, dict) else ""


class MalformedMessage(Exception):
    """A signed message whose parts have the wrong JSON types."""


def well_formed(msg: Msg) -> None:
    """Raise MalformedMessage unless header, parent_header, metadata and content are objects
    and the header names a msg_type (everything after the link relies on that much)."""
    for part in ("header", "parent_header", "metadata", "content"):
        if not isinstance(msg.get(part), dict):
            raise MalformedMessage(f"its {part} is not a JSON object")
    if not isinstance(msg["header"].get("msg_type"), str):
        raise MalformedMessage("its header has no msg_type")
    if not isinstance(msg["parent_header"].get("msg_id", ""), str):
        raise MalformedMessage("its parent msg_id is not a string")


def new_request(session: Any, msg_type: str, content: Msg, channel: str, subshell_id: str) -> Msg:
    """A request made by jupyter_client's ``session``; one on shell carries ``subshell_id`` in
    its header when given (protocol 5.5: a kernel subshell answers it, ``console.subshell``).
    The link's ``send`` and ``request`` take ``subshell`` ("" for the main shell), else use its
    ``subshell_id`` (``--subshell``)."""
    msg: Msg = session.msg(msg_type, content)
    if channel == "shell" and subshell_id:
        msg["header"]["subshell_id"] = subshell_id
    return msg


@dataclass
class _Waiter:
    future: asyncio.Future[Msg]
    msg_type: str


async def _reply(fut: asyncio.Future[Msg], msg_type: str, timeout: float, forget: Callable[[], None]) -> Msg:
    """The reply ``fut`` awaits, for at most ``timeout`` seconds (LinkTimeout); then ``forget``."""
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        raise LinkTimeout(f"the kernel did not answer {msg_type} within {timeout:g} s") from None
    finally:
        forget()


@dataclass
class KernelLink:
    """One connection to one kernel: owned (started by us) or attached (``--existing``)."""

    on_iopub: Handler = field(default=lambda msg: None)
    on_stdin: Handler = field(default=lambda msg: None)
    on_kernel_output: Callable[[str], None] = field(default=lambda text: None)
    on_death: Callable[[str], None] = field(default=lambda reason: None)
    on_revival: Callable[[], None] = field(default=lambda: None)
    on_drop: Callable[[str], None] = field(default=lambda why: None)  # an unreadable message
    on_silent: Callable[[str], None] = field(default=lambda reason: None)
    manager: Any = None
    client: Any = None
    owned: bool = False
    connection_file: str = ""
    kernel_info: Msg = field(default_factory=dict)
    kernel_session: str = ""  # the session id in the kernel's own headers: new with each kernel process
    interrupt_mode: str = "signal"
    subshell_id: str = ""  # every shell request goes to this kernel subshell ("": the main shell)
    _waiters: dict[str, _Waiter] = field(default_factory=dict)
    _channels: ZmqChannels | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _info_ids: set[str] = field(default_factory=set)
    _iopub_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _info_iopub: bool = False
    _closed: bool = False
    _output: KernelOutput | None = None  # an owned kernel's own stdout/stderr
    dropped: list[str] = field(default_factory=list)  # why recent messages were dropped
    encrypt: bool = False  # launch kernels with CurveZMQ (their spec must support it)
    alive: bool = True  # False from a missed heartbeat until the kernel answers again
    silent: bool = False  # our own kernel's process lives but its heartbeat is silent
    _hb_task: asyncio.Task[None] | None = None
    _restarting: bool = False
    _hurry: asyncio.Event = field(default_factory=asyncio.Event)  # leaving: kill, do not wait
    early: Any = None  # a console.prelaunch.EarlyKernel that ``start`` takes over
    _handover: EarlyHandover | None = None  # the early kernel (``start``), handed to its manager

    # -- start and stop -------------------------------------------------------------------

    async def start(self, kernel_name: str, connection_file: str = "", cwd: str = "") -> None:
        """Launch kernelspec ``kernel_name`` and connect to it; ``early``, launched before the
        console's UI was imported, is connected to at once if it is that one (``settle``)."""
        handover, self.early = EarlyHandover.make(self.early, kernel_name, self.on_kernel_output), None
        if handover is not None:
            self._handover, self.interrupt_mode, self.client = handover, handover.interrupt_mode, handover.client()
        else:
            self.manager, self.interrupt_mode, self._output = await launch_owned(
                kernel_name, connection_file, self.encrypt, cwd, self.on_kernel_output
            )
            self.client = self.manager.client()
        self.owned = True
        self.connection_file = self.client.connection_file
        self._connect()

    async def settle(self) -> None:
        """An early kernel goes to its jupyter_client manager now (once; each use of it waits)."""
        if self._handover is not None and self.manager is None:
            self.manager, self._output = await self._handover.manager(), self._handover.output

    async def attach(self, connection_file: str, ssh: str = "") -> None:
        """Connect to a running kernel described by ``connection_file``; with ``ssh``
        ([user@]host[:port]) through ssh tunnels opened in a thread (the loop stays live)."""
        info = read_connection_file(connection_file)
        if ssh:
            from console.tunnels import open_tunnels

            info = await asyncio.to_thread(open_tunnels, info, ssh)
        self.client = client_for(info, connection_file)
        self.owned = False
        self.connection_file = connection_file
        self.interrupt_mode = "message"
        self._connect()

    def _connect(self) -> None:
        """Open the kernel's channels and read them from the event loop (console.channels)."""
        self._channels = ZmqChannels(self.client, self._receive, lambda: self._closed)
        self._channels.open()

    async def restart(self, now: bool = True) -> None:
        """Restart an owned kernel on the same ports (channels reconnect by themselves).

        ``now``: kill at once (a dead or hung kernel); otherwise ask it to shut down first, so
        other clients see a shutdown_reply with restart=True on iopub.

        Afterwards await ``wait_ready`` again; replies awaited from the old kernel fail.
        """
        await self.settle()
        if self.manager is None:
            raise LinkError("only a kernel this console started can be restarted")
        self._restarting = True
        try:
            self._fail_waiters("the kernel was restarted")
            if self._output is None:
                self._output = KernelOutput(lambda text: self.on_kernel_output(text))
            self._output.close()
            manager = self.manager
            await self._output.launch(
                manager,
                lambda fd: manager.restart_kernel(now=now, stdout=fd, stderr=fd),
                lambda e: LinkError(f"could not restart the kernel: {e}"),
            )
            self._forget_readiness()
            self.alive, self.silent = True, False
        finally:
            self._restarting = False

    @property
    def can_restart(self) -> bool:
        """Whether this console may restart the kernel (only one it started: restarting another
        client's kernel from here would start a second one under the same connection file)."""
        return self.owned

    @property
    def subscribers_are_clients(self) -> bool:
        """Whether each iopub subscriber is one client (a Jupyter server subscribes for many)."""
        return True

    @property
    def kernel_comes_back(self) -> bool:
        """Whether a kernel lost under a running cell is brought back for us (restarted by this
        console, or by the server that holds it): then the console goes on."""
        return self.owned

    def restart_is_ours(self) -> bool:
        """Whether a restart seen on iopub now was made by this console (then it says so itself)."""
        return self.owned

    def _fail_waiters(self, reason: str) -> None:
        for waiter in self._waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(LinkError(reason))
        self._waiters.clear()

    # -- heartbeat --------------------------------------------------------------------------

    def watch_heartbeat(self) -> None:
        """Ping the kernel's heartbeat every second from now on (idempotent)."""
        if self._hb_task is None or self._hb_task.done():
            self._hb_task = asyncio.ensure_future(self._heartbeat())

    async def _heartbeat(self) -> None:
        """Watch the kernel's heartbeat until the link closes (console.heartbeat)."""
        await HeartbeatWatch(self).run()

    async def _begin_close(self) -> bool:
        """Mark the link closed and stop the heartbeat; False when it was closed already."""
        if self._closed:
            return False
        self._closed = True
        if self._hb_task is not None:
            self._hb_task.cancel()
            with contextlib.suppress(BaseException):
                await self._hb_task
        return True

    async def unless_hurried(self, work: Awaitable[Any], timeout: float) -> None:
        """Await ``work`` for at most ``timeout`` seconds, or until ``hurry_close``."""
        await wait_unless(work, self._hurry, timeout)

    def hurry_close(self) -> None:
        """Leaving: stop waiting for the kernel to shut down by itself, kill it at once."""
        self._hurry.set()

    async def close(self, shutdown: bool) -> None:
        """Stop reading; shut the kernel down when ``shutdown`` (owned kernels only): politely
        for at most SHUTDOWN_TIMEOUT seconds (or until ``hurry_close``), then killed."""
        if not await self._begin_close():
            return
        await self.settle()
        if self._handover is not None and self.manager is None:
            self._handover.discard()  # never taken over by its manager: ended here
        if not shutdown and self.manager is not None:
            self.manager._connection_file_written = False  # left running: keep its file
        if shutdown and self.manager is not None:
            await self.unless_hurried(self.manager.shutdown_kernel(now=False), SHUTDOWN_TIMEOUT)
            with contextlib.suppress(Exception):
                if await self.manager.is_alive():
                    await self.manager.shutdown_kernel(now=True)
        if self._output is not None:
            self._output.close()
        if self._channels is not None:
            self._channels.close()
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
        self._fail_waiters("the connection to the kernel was closed")

    # -- readers ----------------------------------------------------------------------------

    def _receive(self, name: str, frames: list[Any]) -> None:
        """One message read off a socket: checked, then handed on (or dropped, and why)."""
        session = self.client.session
        try:
            _, parts = session.feed_identities(frames)
            msg = session.deserialize(parts)
            well_formed(msg)
        except Exception as e:  # a bad signature, frame or shape: drop it, keep reading
            self._note_drop(f"on {name}, {unreadable_reason(e)}")
            return
        self._hand_on(name, msg)

    def _note_drop(self, why: str) -> None:
        """Keep (the last 20) and report why a message was dropped."""
        self.dropped.append(why)
        del self.dropped[:-20]
        self.on_drop(why)

    def _hand_on(self, name: str, msg: Msg) -> None:
        """Dispatch one readable message; a bug in a handler must not kill the reader."""
        try:
            self._dispatch(name, msg)
        except Exception as e:
            kind = msg.get("header", {}).get("msg_type", "?")
            self._note_drop(f"on {name}, a {kind} message that could not be handled ({type(e).__name__}: {e})")
            if os.environ.get("MYCON_DEBUG"):
                import traceback

                traceback.print_exc()

    def _dispatch(self, name: str, msg: Msg) -> None:
        if name == "iopub":
            self._iopub_seen.set()
            parent = msg.get("parent_header", {}).get("msg_id")
            if parent in self._info_ids and msg["header"]["msg_type"] == "status":
                self._info_iopub = True
                if self.kernel_info:
                    self._ready.set()
            self.on_iopub(msg)
            return
        if name == "stdin":
            self.on_stdin(msg)
            return
        parent = msg.get("parent_header", {}).get("msg_id")
        waiter = self._waiters.pop(parent, None) if parent else None
        if waiter is not None and not waiter.future.done():
            waiter.future.set_result(msg)

    # -- requests ---------------------------------------------------------------------------

    def send(self, msg_type: str, content: Msg, channel: str = "shell", subshell: str | None = None) -> str:
        """Send a request without waiting; returns its msg_id."""
        msg = new_request(self.client.session, msg_type, content, channel, self.subshell_id if subshell is None else subshell)
        self._send(channel, msg)
        return str(msg["header"]["msg_id"])

    def _send(self, channel: str, msg: Msg) -> None:
        if self._channels is None or not self._channels.send(channel, msg):
            raise LinkError("the connection to the kernel is closed")

    def expect(self, msg_id: str, msg_type: str = "") -> asyncio.Future[Msg]:
        """A future for the reply to ``msg_id`` (register before the reply can arrive)."""
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._waiters[msg_id] = _Waiter(fut, msg_type)
        return fut

    def forget(self, msg_id: str) -> None:
        """Drop the waiter for ``msg_id``: a late reply is then ignored."""
        self._waiters.pop(msg_id, None)

    async def request(self, msg_type: str, content: Msg, timeout: float, channel: str = "shell",
                      subshell: str | None = None) -> Msg:
        """Send a request and await its reply for at most ``timeout`` seconds."""
        return await self.start_request(msg_type, content, timeout, channel, subshell)

    def start_request(self, msg_type: str, content: Msg, timeout: float, channel: str = "shell",
                      subshell: str | None = None) -> Awaitable[Msg]:
        """Send a request now (not when awaited); await the result for its reply (``timeout``)."""
        msg = new_request(self.client.session, msg_type, content, channel, self.subshell_id if subshell is None else subshell)
        msg_id = msg["header"]["msg_id"]
        self._send(channel, msg)  # first: the loop reads a reply later, never during the send
        return _reply(self.expect(msg_id, msg_type), msg_type, timeout, lambda: self.forget(msg_id))

    def _forget_readiness(self) -> None:
        """The kernel behind the ports changed: readiness must be shown again."""
        self._ready.clear()
        self._info_iopub = False
        self._iopub_seen.clear()
        self._info_ids.clear()
        self.kernel_info = {}

    async def reconfirm(self, timeout: float) -> Msg:
        """After the kernel came back (heartbeat answers again), wait until it is ready again:
        kernel_info answered and the iopub subscription live on the new process, so a cell
        sent next cannot lose its output to a subscription still being re-made."""
        self._forget_readiness()
        return await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> Msg:
        """Ready = kernel_info answered AND its iopub status seen (subscription live).

        kernel_info is re-sent every second until both hold, as a kernel still binding its
        sockets or a slow iopub subscription may miss the first. Returns the kernel_info reply.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        asked: list[str] = []
        pending: list[asyncio.Future[Msg]] = []
        try:
            while not self._ready.is_set():
                left = deadline - loop.time()
                if left <= 0:
                    raise LinkTimeout(f"the kernel did not answer within {timeout:g} s")
                # Ask on shell and on control: a kernel busy with another client's cell
                # answers on control at once (protocol 5.5; older kernels answer on shell).
                for channel in ("shell", "control"):
                    msg = self.client.session.msg("kernel_info_request", {})
                    msg_id = msg["header"]["msg_id"]
                    self._info_ids.add(msg_id)
                    asked.append(msg_id)
                    pending.append(self.expect(msg_id))
                    self._send(channel, msg)
                done, _ = await asyncio.wait(
                    pending, timeout=min(1.0, left), return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    await self._check_alive()
                    continue
                reply = done.pop().result()
                self.kernel_info = reply.get("content", {})
                self.kernel_session = str((reply.get("header") or {}).get("session") or "")
                if self._info_iopub:
                    self._ready.set()
                    break
                ready_wait = asyncio.ensure_future(self._ready.wait())
                try:
                    await asyncio.wait_for(ready_wait, min(1.0, max(0.05, deadline - loop.time())))
                except asyncio.TimeoutError:
                    # Some kernels publish no status for kernel_info: any iopub traffic shows
                    # that the subscription is live.
                    if self._iopub_seen.is_set():
                        self._ready.set()
        finally:
            for msg_id in asked:
                self.forget(msg_id)
        return self.kernel_info

    async def _check_alive(self) -> None:
        if self.owned and not await self.is_alive():
            raise LinkError("the kernel exited during start-up")

    @property
    def ready(self) -> bool:
        """True once the kernel answered kernel_info and iopub is known to be live."""
        return self._ready.is_set()

    async def ready_event(self) -> None:
        """Await readiness (no bound: callers bound it)."""
        await self._ready.wait()

    async def is_alive(self) -> bool:
        """Whether the kernel process (owned) is alive; True for attached kernels."""
        await self.settle()
        if self.manager is not None:
            try:
                return bool(await self.manager.is_alive())
            except Exception:
                return False
        return True

    async def interrupt(self) -> None:
        """Interrupt the running cell: a signal for owned kernels whose spec says so,
        ``interrupt_request`` on control otherwise."""
        await self.settle()
        if self.manager is not None and self.interrupt_mode == "signal":
            try:
                await self.manager.interrupt_kernel()
                return
            except Exception:
                pass
        await self.request("interrupt_request", {}, INTERRUPT_TIMEOUT, channel="control")

    async def replaced(self) -> bool:
        """Whether a new process answers on an attached kernel's ports (restarted by its owner
        between two heartbeats): its kernel_info on control comes from a new session."""
        if self.manager is not None or self.kernel_comes_back or not self.kernel_session or not self.ready:
            return False
        try:  # no answer in time: unsure, so not replaced
            reply = await self.request("kernel_info_request", {}, IDENTITY_TIMEOUT, channel="control")
        except LinkError:
            return False
        session = str((reply.get("header") or {}).get("session") or "")
        return bool(session) and session != self.kernel_session

    def input_reply(self, value: str) -> None:
        """Answer the kernel's pending input_request."""
        self._send("stdin", self.client.session.msg("input_reply", {"value": value}))

    def kernel_name(self) -> str:
        """The kernelspec name of this kernel: known when we started it, else guessed."""
        if self.manager is not None and self.manager.kernel_name:
            return str(self.manager.kernel_name)
        return kernelspec_guess(self.kernel_info)

    def attach_hint(self) -> str:
        """One line telling how to attach another terminal to this kernel."""
        encrypted = bool(getattr(self.client, "curve_publickey", None))
        return attach_hint(self.connection_file, encrypted) if self.connection_file else ""
