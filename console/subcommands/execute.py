"""``mycon exec``: run code in a running kernel and print what it produces, for scripts and
editor bindings; exit status 1 when the code fails. ``--ssh`` reaches the kernel through ssh
tunnels (``console.tunnels``), ``--server`` one in a Jupyter server (``console.server``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

import click

from console.subcommands import CommandError, Msg, check_positive, kernel_client, usage_error

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def resolve_existing(spec: str | None) -> str:
    """The connection file named by ``--existing`` (newest one when ``spec`` is empty)."""
    from console.connection_files import read_connection_file, resolve_connection_file
    from console.errors import UserInputError

    try:
        path = resolve_connection_file(spec or "")
        read_connection_file(path)
    except UserInputError as e:
        usage_error(str(e))
    return path


def load_info(path: str) -> Msg:
    """The connection info in ``path``, or a usage error saying what is wrong."""
    from console.connection_files import read_connection_file
    from console.errors import UserInputError

    try:
        return read_connection_file(path)
    except UserInputError as e:
        usage_error(str(e))


class KernelGone(CommandError):
    """The kernel stopped answering while we waited (exit status 1)."""


class Output:
    """Writes what the kernel produced: results and stdout to ``out``, the rest to ``err``."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self.out = out
        self.err = err
        self.plain_out = not _isatty(out)
        self.plain_err = not _isatty(err)

    def write(self, text: str, to_err: bool = False) -> None:
        stream = self.err if to_err else self.out
        if (self.plain_err if to_err else self.plain_out) and "\x1b" in text:
            text = ANSI.sub("", text)
        stream.write(text)
        stream.flush()

    def line(self, text: str, to_err: bool = False) -> None:
        self.write(text if text.endswith("\n") else text + "\n", to_err)

    def show(self, msg: Msg) -> None:
        """Print one iopub message of our request."""
        kind = msg["header"]["msg_type"]
        content = msg.get("content", {})
        if kind == "stream":
            self.write(str(content.get("text", "")), content.get("name") == "stderr")
        elif kind in ("execute_result", "display_data", "update_display_data"):
            data = content.get("data") or {}
            text = data.get("text/plain")
            if isinstance(text, str):
                self.line(text)
            elif data:
                self.line(f"[{', '.join(sorted(data))} output not shown]")
        elif kind == "error":
            lines = content.get("traceback") or []
            if lines:
                self.line("\n".join(str(line) for line in lines), True)
            else:
                self.line(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}", True)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


Answer = Callable[[str, bool], str]  # (prompt, password) -> the line typed


def answer_from_stdin(prompt: str, password: bool) -> str:
    """A line for the kernel's ``input()``: typed at the terminal (hidden for a password), or
    the next line of piped stdin; EOFError at the end of it."""
    sys.stdout.flush()
    if password and _isatty(sys.stdin):
        import getpass

        return getpass.getpass(prompt)
    return input(prompt)


class ExecSession:
    """Sockets to one kernel for one piece of code: shell, iopub, heartbeat, control."""

    HEARTBEAT_EVERY = 1.0  # seconds between pings
    HEARTBEAT_LOST = 5.0  # seconds without an echo before the kernel counts as gone
    IDLE_AFTER_REPLY = 5.0  # seconds to wait for the last output once the reply came
    INPUT_ORDER_WAIT = 2.0  # seconds an input prompt may wait for the output before it

    def __init__(self, info: Msg) -> None:
        import zmq

        self.zmq = zmq
        self.context = zmq.Context()
        self.client = kernel_client(info, self.context)
        self.session = self.client.session
        # The kernel sends input_request to the shell socket's routing identity, on stdin.
        self.shell = self.client.connect_shell(identity=self.session.bsession)
        self.iopub = self.client.connect_iopub()
        self.stdin = self.client.connect_stdin(identity=self.session.bsession)
        self.hb = self.client.connect_hb()
        self.control = self.client.connect_control()
        self.interrupted = False
        self.input_wait: tuple[str, str] | None = None  # (cell msg_id, prompt) the kernel waits on
        self.waits_announced: dict[str, int] = {}  # cell msg_id -> input waits announced for it
        self.announces_input = False
        self._ping_sent: float | None = None
        self._last_echo = time.monotonic()

    def close(self) -> None:
        for sock in (self.shell, self.iopub, self.stdin, self.hb, self.control):
            if sock is not None:
                sock.close(linger=200)
        self.context.term()

    def send(self, msg_type: str, content: Msg, sock: Any = None) -> str:
        msg = self.session.msg(msg_type, content)
        self.session.send(sock if sock is not None else self.shell, msg)
        return str(msg["header"]["msg_id"])

    def _recv(self, sock: Any) -> Msg | None:
        try:
            _, parts = self.session.feed_identities(sock.recv_multipart())
            return dict(self.session.deserialize(parts))
        except Exception:  # noqa: BLE001 - unsigned or malformed: drop it
            return None

    def events(self, wait: float) -> Iterator[tuple[str, Msg]]:
        """Messages from shell, iopub and stdin within ``wait`` seconds; heartbeat kept in
        between."""
        zmq = self.zmq
        poller = zmq.Poller()
        names = {self.shell: "shell", self.iopub: "iopub", self.stdin: "stdin", self.control: "control"}
        for sock in (*names, self.hb):
            poller.register(sock, zmq.POLLIN)
        self._heartbeat()
        for sock, _ in poller.poll(max(1, int(wait * 1000))):
            if sock is self.hb:
                sock.recv()
                self._ping_sent = None
                self._last_echo = time.monotonic()
                continue
            msg = self._recv(sock)
            if msg is not None:
                if msg["header"]["msg_type"] == "mycon_input_wait":  # render.INPUT_WAIT
                    self._track_input_wait(msg)
                yield names[sock], msg

    def _track_input_wait(self, msg: Msg) -> None:
        """Our kernel says it waits for some client's input, or no longer does."""
        content = msg.get("content") or {}
        cell = msg.get("parent_header", {}).get("msg_id")
        if content.get("state") == "waiting":
            self.input_wait = (str(cell), str(content.get("prompt", "")))
            self.waits_announced[str(cell)] = self.waits_announced.get(str(cell), 0) + 1
        elif self.input_wait is not None and self.input_wait[0] == cell:
            self.input_wait = None

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self._ping_sent is None:
            if now - self._last_echo >= self.HEARTBEAT_EVERY:
                self.hb.send(b"ping")
                self._ping_sent = now
        elif now - self._ping_sent >= self.HEARTBEAT_LOST:
            raise KernelGone(
                f"the kernel stopped answering its heartbeat for {self.HEARTBEAT_LOST:g} s; "
                "it has probably died (what the code did is unknown)"
            )

    def wait_ready(self, timeout: float) -> None:
        """Until kernel_info is answered and iopub delivers (so no output can be missed)."""
        deadline = time.monotonic() + timeout
        answered = iopub_live = False
        while not (answered and iopub_live):
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(
                    f"the kernel did not answer within {timeout:g} s "
                    "(is it still running? `mycon list` checks)"
                )
            # Once the kernel answers, only the iopub subscription is missing: ask again
            # often, as each request's status message shows when iopub delivers. Control
            # answers even while another client's cell runs (or waits for its input); shell
            # is asked too, for kernels that answer kernel_info only there.
            asked = {self.send("kernel_info_request", {}, self.control)}
            if not answered:
                asked.add(self.send("kernel_info_request", {}))
            step_end = time.monotonic() + min(0.05 if answered else 0.5, left)
            while time.monotonic() < step_end and not (answered and iopub_live):
                for channel, msg in self.events(step_end - time.monotonic()):
                    if channel == "iopub":
                        iopub_live = True
                    elif msg.get("parent_header", {}).get("msg_id") in asked:
                        answered = True
                        # Ours announces each wait for input on iopub, after the output before it.
                        self.announces_input = msg.get("content", {}).get("implementation") == "mycon"

    def interrupt(self) -> None:
        """Ask the kernel to interrupt the running code (control channel message)."""
        self.interrupted = True
        self.send("interrupt_request", {}, self.control)

    def run(self, code: str, output: Output, run_timeout: float | None, answer: Answer | None = None) -> str:
        """Execute ``code``; print its output as it comes; return the reply's status.

        Ctrl-C sends ``interrupt_request``; a second one stops waiting. The presses are
        counted by a handler and acted on in the loop, so one can never land half-way.
        ``answer`` (prompt, password) -> line answers ``input()``; without it the code may
        not ask (the kernel raises an error that says so).
        """
        msg_id = self.send("execute_request", {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": answer is not None,
            "stop_on_error": True,
        })
        import signal

        deadline = time.monotonic() + run_timeout if run_timeout else None
        reply: Msg | None = None
        idle = False
        reply_time = 0.0
        presses: list[int] = []

        def count_press(signum: int, frame: Any) -> None:
            presses.append(signum)

        previous = signal.signal(signal.SIGINT, count_press)
        told = False
        requests = 0  # input_requests of this cell so far
        pending: Msg | None = None  # one waiting for the output printed before it
        pending_since = 0.0
        try:
            while reply is None or not idle:
                if self.input_wait is not None and self.input_wait[0] != msg_id and not told:
                    told = True
                    prompt = " ".join(self.input_wait[1].split())
                    output.line(f"mycon: the kernel waits for another client's input ({prompt!r}); "
                                "this code runs once it is answered (Ctrl-C interrupts the kernel)", True)
                if len(presses) == 1 and not self.interrupted:
                    output.line("mycon: interrupting the kernel (Ctrl-C again stops waiting)", True)
                    self.interrupt()
                elif len(presses) > 1:
                    raise CommandError(
                        "stopped waiting; the code may still be running in the kernel", 130
                    )
                now = time.monotonic()
                if reply is not None and now - reply_time > self.IDLE_AFTER_REPLY:
                    output.line("mycon: the kernel replied but its output did not end; "
                                "some output may be missing", True)
                    break
                if deadline is not None and now > deadline:
                    raise CommandError(
                        f"no reply within {run_timeout:g} s (--run-timeout); "
                        "the code may still be running in the kernel"
                    )
                for channel, msg in self.events(0.01 if pending is not None else 0.25):
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    if channel == "shell":
                        if msg["header"]["msg_type"] == "execute_reply":
                            reply, reply_time = msg, time.monotonic()
                    elif channel == "stdin":
                        if msg["header"]["msg_type"] == "input_request" and answer is not None and reply is None:
                            pending, pending_since, requests = msg, time.monotonic(), requests + 1
                    elif msg["header"]["msg_type"] == "status":
                        idle = idle or msg["content"].get("execution_state") == "idle"
                    else:
                        output.show(msg)
                if pending is not None and self._output_before_input(msg_id, requests, pending_since):
                    assert answer is not None
                    signal.signal(signal.SIGINT, previous)  # Ctrl-C while typing interrupts
                    try:
                        self._answer(pending, answer)
                    finally:
                        signal.signal(signal.SIGINT, count_press)
                    pending = None
        finally:
            signal.signal(signal.SIGINT, previous)
        if reply is None:
            return "unknown"
        return str(reply["content"].get("status", "unknown"))

    def _output_before_input(self, cell: str, requests: int, since: float) -> bool:
        """Whether the cell's output printed before its latest input() has arrived (it comes on
        iopub, the request on stdin: either may be read first). Our kernel announces each wait
        on iopub after that output; for others a short grace has to do."""
        if self.waits_announced.get(cell, 0) >= requests:
            return True
        grace = self.INPUT_ORDER_WAIT if self.announces_input else 0.02
        return time.monotonic() - since > grace

    def _answer(self, request: Msg, answer: Answer) -> None:
        """Answer one input_request: a line, EOF as the kernel's "\x04", Ctrl-C interrupts."""
        content = request.get("content") or {}
        try:
            value = answer(str(content.get("prompt", "")), bool(content.get("password")))
        except EOFError:
            value = "\x04"
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            self.interrupt()
            return
        msg = self.session.msg("input_reply", {"value": value, "status": "ok"}, parent=request["header"])
        self.session.send(self.stdin, msg)


@click.command("exec")
@click.pass_context
@click.argument("code", required=False, metavar="CODE|-")
@click.option("--existing", metavar="FILE", default=None,
              help="Connection file of the kernel, or the start of its id (default: the newest "
              "in the runtime directory).")
@click.option("--ssh", "ssh_server", metavar="[USER@]HOST[:PORT]", default=None,
              help="Reach the kernel through ssh tunnels to this server (key login only).")
@click.option("--ssh-key", metavar="FILE", default=None, help="Private key for --ssh.")
@click.option("--server", metavar="URL", default=None,
              help="A Jupyter server: run the code in one of its kernels (--existing ID, or the "
              "most recently active).")
@click.option("--token", metavar="TOKEN", default=None,
              help="With --server: its token (default: from the URL, or $JUPYTER_TOKEN).")
@click.option("--timeout", type=float, default=10.0, show_default=True, metavar="SECONDS",
              help="How long the kernel may take to answer before the code is sent.")
@click.option("--run-timeout", type=float, default=None, metavar="SECONDS",
              help="Give up waiting for the code to finish after this long (default: no "
              "limit while the kernel's heartbeat answers).")
def exec_command(ctx: click.Context, code: str | None, existing: str | None,
                 ssh_server: str | None, ssh_key: str | None, server: str | None,
                 token: str | None, timeout: float, run_timeout: float | None) -> None:
    """Run CODE (or stdin, with -) in a running kernel and print its output.

    Streams go to stdout/stderr as they come, results to stdout, tracebacks to stderr.
    input() in the code reads a line from the terminal or piped stdin (not with -).
    Exit status: 0 when the code ran, 1 when it raised or the kernel failed, 2 on a usage
    mistake. Ctrl-C interrupts the code in the kernel.
    """
    check_positive(timeout, "--timeout")
    check_positive(run_timeout, "--run-timeout")
    if code is None:
        usage_error("mycon exec needs code to run: an argument, or - to read it from stdin")
    if ssh_key is not None and ssh_server is None:
        usage_error("--ssh-key goes with --ssh")
    if ssh_key is not None and not os.path.isfile(os.path.expanduser(ssh_key)):
        usage_error(f"--ssh-key {ssh_key}: no such file")
    if existing is None:  # `mycon --existing FILE exec ...` names it on the group
        existing = getattr(ctx.find_root().obj, "existing", None)
    answer: Answer | None = answer_from_stdin
    if code == "-":
        code = sys.stdin.read()
        answer = None  # stdin was the code: nothing left to answer input() with
    root = ctx.find_root().obj
    server = server or getattr(root, "server", "") or None  # `mycon --server URL exec ...`
    if server is not None:
        _exec_on_server(server, token or getattr(root, "token", "") or "", existing, ssh_server, code, answer, timeout, run_timeout)
        return
    if token is not None:
        usage_error("--token goes with --server (it is the Jupyter server's token)")
    path = resolve_existing(existing)
    info = load_info(path)
    if ssh_server:
        info = _tunnelled(info, ssh_server, ssh_key and os.path.expanduser(ssh_key))
    output = Output(sys.stdout, sys.stderr)
    session = ExecSession(info)
    try:
        session.wait_ready(timeout)
        status = session.run(code, output, run_timeout, answer)
    except KeyboardInterrupt:
        raise CommandError("stopped before the code was sent", 130) from None
    finally:
        session.close()
    if status != "ok":
        sys.exit(1)


def _tunnelled(info: Msg, ssh_server: str, ssh_key: str | None) -> Msg:
    """``--ssh``: the kernel's info through ssh tunnels, or the reason why not for the user."""
    from console.errors import LinkError, UserInputError
    from console.tunnels import open_tunnels

    try:
        return open_tunnels(info, ssh_server, ssh_key)
    except UserInputError as e:
        raise CommandError(str(e), 2) from None
    except LinkError as e:
        raise CommandError(str(e), 1) from None


def _exec_on_server(server: str, token: str, kernel: str | None, ssh_server: str | None, code: str,
                    answer: Answer | None, timeout: float, run_timeout: float | None) -> None:
    """``mycon exec --server URL``: the code runs in one of the server's kernels."""
    import asyncio

    from console.errors import LinkError, UserInputError
    from console.server import parse_server, run_on_server

    if ssh_server is not None:
        usage_error("--ssh and --server do not go together: reach a remote server by its https:// URL")
    try:
        address = parse_server(server, token)
        output = Output(sys.stdout, sys.stderr)
        status = asyncio.run(run_on_server(address, kernel or "", code, output, answer, timeout, run_timeout))
    except UserInputError as e:
        raise CommandError(str(e), 2) from None
    except LinkError as e:
        raise CommandError(str(e), 1) from None
    if status != "ok":
        sys.exit(1)
