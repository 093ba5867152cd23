"""A kernel inside a Jupyter server: its REST API for the kernel's life, one websocket for its channels.

Used by ``mycon --server URL``. The server (jupyter_server, JupyterLab, a JupyterHub single-user
server, a Kernel Gateway or Enterprise Gateway) owns the kernel process and its ZeroMQ sockets;
we talk to ``api/kernels`` over HTTP(S) and carry shell, iopub, stdin and control messages over
``api/kernels/<id>/channels`` as JSON text frames with a ``channel`` field, the format every
server version accepts. The token authenticates us; the server signs what it forwards to the
kernel. A gateway has no pages and (by default) does not list its kernels: one is found by its id.

tornado (HTTP and websocket client) comes with jupyter_client; it is imported only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

from console.errors import LinkError, LinkTimeout, UserInputError
from console.heartbeat import HB_INTERVAL, HB_MISSES
from console.link import KernelLink, Msg, unreadable_reason, well_formed

HTTP_TIMEOUT = 10.0  # seconds a REST call may take (a heartbeat check: HB_INTERVAL)
START_TIMEOUT = 60.0  # seconds a server may take to start a kernel (a gateway's may be a new pod)
PREFERRED_KERNEL = "mycon"  # started when the server has it and --kernel names none
SHUTDOWN_TIMEOUT = 8.0  # seconds the server may take to shut a kernel down
MAX_MESSAGE_BYTES = 1 << 30  # a websocket frame may carry a large display (tornado's default: 10 MiB)
UI_PATHS = ("lab", "tree", "notebooks", "edit", "terminals", "doc", "login")  # pages, not the API root
CHANNELS = ("shell", "iopub", "stdin", "control")
DEAD_IN_SERVER = "the kernel died and the Jupyter server could not restart it"


@dataclass(frozen=True)
class ServerAddress:
    """Where a Jupyter server's API lives, and the token that lets us in."""

    base: str  # http(s)://host:port/prefix/ (always ends with "/")
    token: str = ""

    def api(self, path: str) -> str:
        """The URL of ``api/<path>`` on this server."""
        return f"{self.base}api/{path}"

    def websocket(self, path: str) -> str:
        """The ws(s):// URL of ``api/<path>``."""
        url = self.api(path)
        return "ws" + url[len("http") :]

    def shown(self) -> str:
        """The address for people to read: the token is never printed."""
        return self.base


def parse_server(url: str, token: str = "") -> ServerAddress:
    """``--server`` as given (a URL copied from the server's log, with or without ``?token=``
    and a page such as ``/lab``) into the API root and the token; UserInputError if unusable.

    The token comes from ``token`` (``--token``), else the URL, else ``$JUPYTER_TOKEN``.
    """
    text = url.strip()
    if not text:
        raise UserInputError("--server needs the server's URL, e.g. http://127.0.0.1:8888/?token=...")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise UserInputError(f"--server {url}: use an http:// or https:// URL (the server's address)")
    if not parts.hostname:
        raise UserInputError(f"--server {url}: no host in the URL")
    try:
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError:
        raise UserInputError(f"--server {url}: the port is not a number") from None
    segments = [s for s in parts.path.split("/") if s]
    for i, segment in enumerate(segments):
        if segment in UI_PATHS or segment == "api":
            segments = segments[:i]
            break
    path = "/" + "".join(f"{s}/" for s in segments)
    found = parse_qs(parts.query).get("token", [""])[0]
    chosen = token or found or os.environ.get("JUPYTER_TOKEN", "")
    return ServerAddress(urlunsplit((parts.scheme, parts.netloc, path, "", "")), chosen)


class ServerError(LinkError):
    """The server answered a REST call with an error (``status`` is its HTTP code)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Refused(UserInputError):
    """The server refused a REST call (401 or 403): a token it does not accept, or (a Kernel
    Gateway's 403 on ``api/kernels``) a call it does not allow."""


class ServerApi:
    """The REST calls we make, with the token and (for a server without one) the XSRF cookie."""

    def __init__(self, address: ServerAddress) -> None:
        from tornado.httpclient import AsyncHTTPClient

        self.address = address
        self.http = AsyncHTTPClient(force_instance=True)
        self.xsrf = ""
        self.xsrf_asked = False  # asked once: a server without the cookie (a gateway) has none

    def headers(self) -> dict[str, str]:
        """Authentication for requests and the websocket."""
        headers = {"Accept": "application/json"}
        if self.address.token:
            headers["Authorization"] = f"token {self.address.token}"
        if self.xsrf:
            headers["X-XSRFToken"] = self.xsrf
            headers["Cookie"] = f"_xsrf={self.xsrf}"
        return headers

    async def call(self, method: str, path: str, body: Any = None, timeout: float = HTTP_TIMEOUT) -> Any:
        """One REST call; the decoded JSON answer (None when empty). Errors in words."""
        from tornado.httpclient import HTTPClientError, HTTPRequest

        if method != "GET" and not self.xsrf_asked and not self.address.token:
            self.xsrf_asked = True
            await self._fetch_xsrf()
        request = HTTPRequest(
            self.address.api(path),
            method=method,
            headers=self.headers(),
            body=None if method in ("GET", "DELETE") else json.dumps(body or {}),
            request_timeout=timeout,
            connect_timeout=timeout,
        )
        where = self.address.shown()
        try:
            response = await self.http.fetch(request)
        except HTTPClientError as e:
            if e.code in (401, 403):
                hint = "the token was not accepted" if self.address.token else "it needs a token"
                raise Refused(
                    f"the Jupyter server at {where} refused us ({e.code}): {hint}; give it with "
                    "--token, in the URL (?token=...) or in $JUPYTER_TOKEN"
                ) from None
            if e.code == 599:
                raise ServerError(f"the Jupyter server at {where} did not answer within {timeout:g} s", 599) from None
            raise ServerError(f"the Jupyter server at {where} answered {method} {path} with {e.code} {e.message or ''}".rstrip(), e.code) from None
        except OSError as e:
            raise ServerError(f"cannot reach a Jupyter server at {where}: {e.strerror or e}") from None
        except Exception as e:  # TLS and the like: in words
            raise ServerError(f"cannot reach a Jupyter server at {where}: {e}") from None
        if not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise ServerError(f"{where} is not a Jupyter server (its answer to {path} is not JSON)") from None

    async def _fetch_xsrf(self) -> None:
        """A server without a token wants the XSRF cookie echoed on POST and DELETE."""
        from tornado.httpclient import HTTPRequest

        with contextlib.suppress(Exception):
            response = await self.http.fetch(HTTPRequest(self.address.base, headers=self.headers(), request_timeout=HTTP_TIMEOUT), raise_error=False)
            for cookie in response.headers.get_list("Set-Cookie"):
                name, _, rest = cookie.partition("=")
                if name.strip() == "_xsrf":
                    self.xsrf = rest.split(";", 1)[0]

    def close(self) -> None:
        self.http.close()


def choose_kernel(specs: Any, wanted: str, where: str) -> tuple[str, str]:
    """The kernelspec to start, given the server's ``api/kernelspecs`` answer, and why:
    ``wanted`` when named ("", UserInputError when the server lacks it); else mycon when the
    server has it ("preferred"); else the server's default ("default")."""
    known = specs.get("kernelspecs") if isinstance(specs, dict) else None
    if not isinstance(known, dict):  # an answer we cannot read: the server decides
        return wanted, ""
    if wanted:
        if wanted not in known and wanted.lower() not in known:
            raise UserInputError(f"the Jupyter server at {where} cannot start kernel {wanted!r} (it has: {', '.join(sorted(known))})")
        return wanted, ""
    if PREFERRED_KERNEL in known:
        return PREFERRED_KERNEL, "preferred"
    return str(specs.get("default") or ""), "default"


async def find_kernel(api: ServerApi, wanted: str) -> dict[str, Any]:
    """The model of the server's kernel ``wanted`` names (an id or a unique start of one; the
    most recently active one when empty). A server that does not list its kernels (a Kernel
    Gateway, by default) is asked for the kernel by its whole id."""
    where = api.address.shown()
    try:
        models = await api.call("GET", "kernels")
    except Refused:
        await api.call("GET", "kernelspecs")  # a token it refuses: said by this call (Refused)
        return await _kernel_by_id(api, wanted)
    if not isinstance(models, list):
        raise LinkError(f"{where} did not list its kernels (is it a Jupyter server?)")
    return pick_kernel(models, wanted, where)


async def _kernel_by_id(api: ServerApi, kernel_id: str) -> dict[str, Any]:
    """The kernel with this whole id, from a server that keeps its list of kernels to itself."""
    unlisted = "does not list its kernels (a Kernel Gateway lists them only with --KernelGatewayApp.list_kernels=True)"
    if not kernel_id:
        raise UserInputError(f"the server at {api.address.shown()} {unlisted}: give the kernel's id, --existing ID")
    try:
        model = await api.call("GET", f"kernels/{quote(kernel_id)}")
    except ServerError as e:
        if e.status == 404:
            raise UserInputError(f"no kernel {kernel_id!r} on the server at {api.address.shown()}, which {unlisted}: give the whole id") from None
        raise
    return dict(model) if isinstance(model, dict) else {}


def check_before_start(address: ServerAddress, kernel: str, existing: str | None) -> None:
    """Before the console draws its prompt: the server answers, takes our token, and has the
    kernelspec (or, with ``existing``, the kernel) asked for; UserInputError or ServerError
    in words otherwise. One REST call (three on a gateway that does not list its kernels)."""

    async def check() -> None:
        api = ServerApi(address)
        try:
            if existing is not None:
                await find_kernel(api, existing)
            else:
                choose_kernel(await api.call("GET", "kernelspecs"), kernel, address.shown())
        finally:
            api.close()

    asyncio.run(check())


def pick_kernel(models: list[dict[str, Any]], wanted: str, where: str) -> dict[str, Any]:
    """The kernel ``wanted`` names (an id or a unique start of one); the most recently active
    one when empty."""
    if not models:
        raise UserInputError(f"the Jupyter server at {where} runs no kernel (`mycon --server URL` without --existing starts one there)")
    if not wanted:
        return max(models, key=lambda m: str(m.get("last_activity") or ""))
    matches = [m for m in models if str(m.get("id", "")).startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    ids = ", ".join(str(m.get("id", ""))[:8] for m in models)
    if not matches:
        raise UserInputError(f"no kernel {wanted!r} on the Jupyter server at {where} (it runs: {ids})")
    raise UserInputError(f"{wanted!r} starts more than one kernel id on {where} ({ids}): give more of it")


def decode_frame(frame: str | bytes) -> tuple[str, Msg]:
    """A websocket frame into (channel, message). Binary frames are the server's way of sending
    a message with buffers: a count, offsets, the JSON, then the buffers (kept as bytes)."""
    if isinstance(frame, bytes):
        if len(frame) < 4:
            raise ValueError("a binary frame too short to hold its offsets")
        (count,) = struct.unpack("!I", frame[:4])
        if count < 1 or len(frame) < 4 + 4 * count:
            raise ValueError("a binary frame with a bad offset table")
        offsets = list(struct.unpack(f"!{count}I", frame[4 : 4 + 4 * count])) + [len(frame)]
        msg = json.loads(frame[offsets[0] : offsets[1]].decode("utf-8"))
        if isinstance(msg, dict):
            msg["buffers"] = [frame[a:b] for a, b in zip(offsets[1:-1], offsets[2:], strict=True)]
    else:
        msg = json.loads(frame)
    if not isinstance(msg, dict):
        raise ValueError("a frame that is not a JSON object")
    channel = msg.pop("channel", None)
    if channel not in CHANNELS:
        raise ValueError(f"a message on no known channel ({channel!r})")
    msg.setdefault("metadata", {})
    msg.setdefault("buffers", [])
    return str(channel), msg


def encode_message(channel: str, msg: Msg) -> str:
    """A message we send, as the JSON text frame the server reads."""
    from jupyter_client.jsonutil import json_default

    wire = {
        "header": msg["header"],
        "parent_header": msg.get("parent_header") or {},
        "metadata": msg.get("metadata") or {},
        "content": msg.get("content") or {},
        "channel": channel,
        "buffers": [],
    }
    return json.dumps(wire, default=json_default)


@dataclass
class _Client:
    """What the console reads of a client: the session that makes and names our messages."""

    session: Any


@dataclass
class ServerLink(KernelLink):
    """A KernelLink whose kernel lives in a Jupyter server.

    ``owned``: we started the kernel there (it is shut down when we leave, as an owned local
    kernel is); otherwise we attached to one of its kernels. Either may restart it: the server
    restarts the same kernel, and every client keeps its connection.
    """

    address: ServerAddress = field(default_factory=lambda: ServerAddress("http://127.0.0.1:8888/"))
    kernel_id: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    chosen: str = ""  # why we picked the kernelspec started: "preferred", "default" or "" (named)
    _api: ServerApi | None = None
    _socket: Any = None
    _reader: asyncio.Task[None] | None = None
    _restarted_at: float = -1e9

    # -- start and stop -------------------------------------------------------------------

    def _api_client(self) -> ServerApi:
        if self._api is None:
            self._api = ServerApi(self.address)
        return self._api

    async def start(self, kernel_name: str, connection_file: str = "", cwd: str = "") -> None:
        """Start kernel ``kernel_name`` in the server; when empty, mycon if the server has it,
        else the server's default (``chosen`` says which, for the banner)."""
        api = self._api_client()
        if not kernel_name:
            kernel_name, self.chosen = choose_kernel(await api.call("GET", "kernelspecs"), "", self.address.shown())
        body = {"name": kernel_name} if kernel_name else {}
        try:
            model = await api.call("POST", "kernels", body, timeout=START_TIMEOUT)
        except ServerError as e:
            if e.status in (400, 404, 500) and kernel_name:
                names = await self._kernel_names()
                known = f" (it has: {', '.join(names)})" if names else ""
                raise UserInputError(f"the Jupyter server at {self.address.shown()} cannot start kernel {kernel_name!r}{known}") from None
            raise
        self._adopt(model)
        self.owned = True
        await self._open_socket()

    async def attach(self, connection_file: str, ssh: str = "") -> None:
        """Attach to the server's kernel named by ``connection_file`` (an id or its start; the
        most recently active one when empty)."""
        self._adopt(await find_kernel(self._api_client(), connection_file))
        self.owned = False
        await self._open_socket()

    async def _kernel_names(self) -> list[str]:
        with contextlib.suppress(Exception):
            specs = await self._api_client().call("GET", "kernelspecs")
            return sorted(specs.get("kernelspecs", {}))
        return []

    def _adopt(self, model: Any) -> None:
        if not isinstance(model, dict) or not model.get("id"):
            raise LinkError(f"{self.address.shown()} answered without a kernel id (is it a Jupyter server?)")
        from jupyter_client.session import Session

        self.model = model
        self.kernel_id = str(model["id"])
        self.connection_file = ""
        self.interrupt_mode = "message"
        if self.client is None:  # one session for our life: the server signs, it names our messages
            self.client = _Client(Session(key=b""))

    async def _open_socket(self) -> None:
        """(Re)open the websocket; the server sends what it held for our session meanwhile."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        api = self._api_client()
        query = urlencode({"session_id": self.client.session.session})
        request = HTTPRequest(
            self.address.websocket(self._kernel_path("/channels")) + "?" + query,
            headers=api.headers(),
            connect_timeout=HTTP_TIMEOUT,
            request_timeout=HTTP_TIMEOUT,
        )
        try:
            socket = await websocket_connect(request, max_message_size=MAX_MESSAGE_BYTES)
        except Exception as e:
            code = getattr(e, "code", 0)
            if code in (401, 403):
                raise UserInputError(f"the Jupyter server at {self.address.shown()} refused our websocket ({code}): check the token") from None
            raise ServerError(f"cannot open the kernel's channels on {self.address.shown()}: {e}", int(code or 0)) from None
        self._socket = socket
        self._reader = asyncio.ensure_future(self._read(socket))

    async def _read(self, socket: Any) -> None:
        """Hand every message the server sends on to the console; stop when the socket closes."""
        while not self._closed:
            frame = await socket.read_message()
            if frame is None:
                break
            try:
                channel, msg = decode_frame(frame)
                well_formed(msg)
            except Exception as e:  # an unreadable frame: drop it, keep reading
                self._note_drop(f"from the server, {unreadable_reason(e)}")
                continue
            self._hand_on(channel, msg)
        if self._socket is socket:
            self._socket = None

    def _send(self, channel: str, msg: Msg) -> None:
        if self._socket is None:
            raise LinkError("the connection to the Jupyter server is down (mycon reconnects within seconds)")
        from tornado.websocket import WebSocketClosedError

        try:
            future = self._socket.write_message(encode_message(channel, msg))
        except WebSocketClosedError:
            self._socket = None
            raise LinkError("the connection to the Jupyter server closed") from None
        future.add_done_callback(lambda f: f.exception())  # a write to a closing socket is not an error of the loop

    async def restart(self, now: bool = True) -> None:
        """Restart the kernel in the server (the same kernel id: every client stays attached);
        a kernel the server no longer has is started afresh, with the same kernelspec."""
        self._restarting = True
        self._restarted_at = time.monotonic()
        try:
            self._fail_waiters("the kernel was restarted")
            api = self._api_client()
            try:
                await api.call("POST", self._kernel_path("/restart"), {}, timeout=60)
            except ServerError as e:
                # (a kernel the server no longer has: 404 from some versions, 500 from others)
                if not await self._kernel_gone():
                    raise LinkError(f"could not restart the kernel: {e}") from None
                name = self.model.get("name")
                self._adopt(await api.call("POST", "kernels", {"name": name} if name else {}, timeout=START_TIMEOUT))
                await self._close_socket()
                await self._open_socket()
            if self._socket is None:
                await self._open_socket()
            self._forget_readiness()
            self.alive, self.silent = True, False
        finally:
            self._restarting = False
            self._restarted_at = time.monotonic()

    def _kernel_path(self, tail: str = "") -> str:
        """Our kernel's place in the server's API (``tail``: e.g. "/restart")."""
        return f"kernels/{quote(self.kernel_id)}{tail}"

    async def _kernel_gone(self) -> bool:
        """Whether the server says it has no kernel with our id (404)."""
        try:
            await self._api_client().call("GET", self._kernel_path())
        except ServerError as e:
            return e.status == 404
        return False

    def _dispatch(self, name: str, msg: Msg) -> None:
        """As for any kernel, and: the server says on iopub when the kernel died and it restarts
        it; replies awaited from the dead process will never come, so their waits end now.
        ("restarting" comes from the server only after a death, never for a restart asked over
        REST: even just after ours, it is not ours, and the console waits for the new process.)"""
        if name == "iopub" and msg["header"].get("msg_type") == "status" and not self._restarting:
            state = (msg.get("content") or {}).get("execution_state")
            if state == "restarting":
                self._restarted_at = -1e9
                self._fail_waiters("the kernel died; the Jupyter server is restarting it")
            elif state == "dead":
                self._fail_waiters(DEAD_IN_SERVER)
        super()._dispatch(name, msg)

    @property
    def subscribers_are_clients(self) -> bool:
        return False  # the server holds the kernel's iopub subscriptions for its websockets

    @property
    def kernel_comes_back(self) -> bool:
        """The server restarts a kernel that dies (and we restart one it lost)."""
        return True

    def restart_is_ours(self) -> bool:
        """Whether a restart seen on iopub now is the one this console asked for."""
        return time.monotonic() - self._restarted_at < 5.0

    @property
    def can_restart(self) -> bool:
        """Any client may ask the server to restart its kernel: the kernel id stays."""
        return True

    # -- heartbeat: the server's view of the kernel, every second ---------------------------

    async def _heartbeat(self) -> None:
        """Ask the server for the kernel every HB_INTERVAL: gone (404 or dead) at once,
        unreachable after HB_MISSES misses; a closed websocket is reopened."""
        loop = asyncio.get_running_loop()
        api = self._api_client()
        misses = 0
        while not self._closed:
            started = loop.time()
            if self._restarting:
                await asyncio.sleep(HB_INTERVAL)
                continue
            gone = ""
            answered = False
            try:
                model = await api.call("GET", self._kernel_path(), timeout=HB_INTERVAL * 2)
                if isinstance(model, dict):
                    self.model.update(model)
                    if model.get("execution_state") == "dead":
                        gone = DEAD_IN_SERVER
                    else:
                        answered = True
            except ServerError as e:
                if e.status == 404:
                    gone = "the kernel is no longer in the Jupyter server (shut down or culled)"
            except LinkError:
                pass
            if answered and self._socket is None and not self._closed:
                try:
                    await self._open_socket()
                except LinkError:
                    answered = False
            if self._restarting or self._closed:
                continue
            if answered:
                misses = 0
                if not self.alive:
                    self.alive = True
                    self.on_revival()
            else:
                misses = HB_MISSES if gone else misses + 1
                if misses >= HB_MISSES and self.alive:
                    self.alive = False
                    reason = gone or f"the Jupyter server at {self.address.shown()} did not answer for {HB_MISSES * HB_INTERVAL:g} s"
                    self._fail_waiters(reason)
                    self.on_death(reason)
            await asyncio.sleep(max(0.0, started + HB_INTERVAL - loop.time()))

    async def is_alive(self) -> bool:
        return self.alive

    async def interrupt(self) -> None:
        """Ask the server to interrupt the kernel (it knows the kernel's interrupt mode)."""
        try:
            await self._api_client().call("POST", self._kernel_path("/interrupt"), {}, timeout=5.0)
        except ServerError as e:
            raise LinkTimeout(f"the interrupt did not reach the kernel: {e}") from None

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                socket.close()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    async def close(self, shutdown: bool) -> None:
        """Stop reading; shut the kernel down in the server when ``shutdown`` and we started it."""
        if not await self._begin_close():
            return
        await self._close_socket()
        if shutdown and self.owned and self._api is not None:
            await self.unless_hurried(
                self._api.call("DELETE", self._kernel_path(), timeout=SHUTDOWN_TIMEOUT), SHUTDOWN_TIMEOUT
            )
        if self._api is not None:
            self._api.close()
        self._fail_waiters("the connection to the kernel was closed")

    # -- names ------------------------------------------------------------------------------

    def kernel_name(self) -> str:
        return str(self.model.get("name") or "") or super().kernel_name()

    def attach_hint(self) -> str:
        """Which kernelspec we picked (when --kernel named none), and how to attach another
        terminal: by the whole id, which a server that does not list its kernels needs."""
        name = self.kernel_name()
        lines = {
            "preferred": [f"Kernel {name} (--kernel NAME starts another of the server's kernelspecs)"],
            "default": [f"Kernel {name}, the server's default (it has no {PREFERRED_KERNEL} kernelspec)"],
        }.get(self.chosen, [])
        token = " (and the same token)" if self.address.token else ""
        lines.append(f"To attach another terminal: mycon --server {self.address.shown()} --existing {self.kernel_id}{token}")
        return "\n".join(lines)


# ----- mycon exec --server ---------------------------------------------------------------------


async def run_on_server(
    address: ServerAddress,
    kernel: str,
    code: str,
    output: Any,
    answer: Any,
    ready_timeout: float,
    run_timeout: float | None,
) -> str:
    """``mycon exec --server``: run ``code`` in one of the server's kernels (``kernel``: an id
    or its start; the most recently active when empty) and print its output with ``output``
    (subcommands.execute.Output) as it comes. ``answer(prompt, password)`` answers input()
    (None: the code may not ask). Ctrl-C interrupts the kernel; a second one stops waiting.
    Returns the reply's status; LinkError (in words) when the kernel cannot be reached or goes
    away."""
    import signal

    loop = asyncio.get_running_loop()
    link = ServerLink(address=address)
    wake = asyncio.Event()  # set by anything the loop below must look at
    cell: dict[str, Any] = {"msg_id": "", "reply": None, "idle": False}
    asked: list[Msg] = []  # input_requests not answered yet
    presses: list[int] = []

    def on_iopub(msg: Msg) -> None:
        if not cell["msg_id"] or msg.get("parent_header", {}).get("msg_id") != cell["msg_id"]:
            return
        if msg["header"]["msg_type"] != "status":
            output.show(msg)
        elif (msg.get("content") or {}).get("execution_state") == "idle":
            cell["idle"] = True
            wake.set()

    def on_stdin(msg: Msg) -> None:
        if msg["header"].get("msg_type") == "input_request" and msg.get("parent_header", {}).get("msg_id") == cell["msg_id"]:
            asked.append(msg)
            wake.set()

    def on_press() -> None:
        presses.append(1)
        wake.set()

    link.on_iopub, link.on_stdin = on_iopub, on_stdin
    link.on_death = lambda reason: wake.set()
    loop.add_signal_handler(signal.SIGINT, on_press)
    try:
        await link.attach(kernel)
        await link.wait_ready(ready_timeout)
        link.watch_heartbeat()
        cell["msg_id"] = msg_id = link.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": answer is not None, "stop_on_error": True,
        })
        reply = link.expect(msg_id, "execute_reply")
        reply.add_done_callback(lambda _: wake.set())
        deadline = None if run_timeout is None else loop.time() + run_timeout
        interrupted = 0
        while not (reply.done() and cell["idle"]):
            if not link.alive or (reply.done() and reply.exception() is not None):
                raise LinkError("the kernel went away while the code ran (what it did is unknown)")
            if len(presses) > 1:
                raise LinkError("stopped waiting; the code may still be running in the kernel")
            if presses and not interrupted:
                interrupted = 1
                output.line("mycon: interrupting the kernel (Ctrl-C again stops waiting)", True)
                await link.interrupt()
            if asked:
                _answer_here(link, asked.pop(0), answer, on_press)
                continue
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise LinkError(f"no reply within {run_timeout:g} s (--run-timeout); the code may still be running in the kernel")
            wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), 1.0 if left is None else min(1.0, left))
        return str(reply.result().get("content", {}).get("status", "unknown"))
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await link.close(shutdown=False)


def _answer_here(link: ServerLink, request: Msg, answer: Any, on_press: Any) -> None:
    """Answer one input_request at the terminal (Ctrl-C while typing interrupts the kernel)."""
    import signal

    loop = asyncio.get_running_loop()
    content = request.get("content") or {}
    loop.remove_signal_handler(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        value = answer(str(content.get("prompt", "")), bool(content.get("password")))
    except EOFError:
        value = "\x04"
    except KeyboardInterrupt:
        print()
        on_press()
        return
    finally:
        loop.add_signal_handler(signal.SIGINT, on_press)
    link._send("stdin", link.client.session.msg("input_reply", {"value": value, "status": "ok"}, parent=request["header"]))
