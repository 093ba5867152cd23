"""``mycon kernel``, ``mycon list`` and ``mycon exec``: kernels without a console.

- ``mycon kernel`` starts a headless kernel (any kernelspec) and keeps it until Ctrl-C/SIGTERM.
- ``mycon list`` shows the connection files in the runtime directory, each checked alive or
  stale by a signed ``kernel_info_request`` on the control channel (bounded), and can prune.
- ``mycon exec`` runs code in a running kernel and prints what it produces, for scripts and
  editor bindings; exit status 1 when the code fails.
- ``open_tunnels`` forwards the five channels through one ssh connection (``--ssh``).

Importing this module costs next to nothing: jupyter_client and zmq are imported when a
subcommand runs. User mistakes print one line and exit with status 2.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, NoReturn

import click

Msg = dict[str, Any]

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
NEW_FILE_SECONDS = 10.0  # a file this young that does not answer may be a kernel still starting


class CommandError(click.ClickException):
    """A failure worded for the user: ``mycon: <message>`` on stderr and an exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"mycon: {self.format_message()}", err=True)


def usage_error(message: str) -> NoReturn:
    """Raise a user mistake: one line, exit status 2."""
    raise CommandError(message, 2)


def _positive(value: float | None, flag: str) -> None:
    if value is not None and value <= 0:
        usage_error(f"{flag} must be a positive number of seconds")


# ----- connection files ---------------------------------------------------------------------


def runtime_dir() -> str:
    """Jupyter's runtime directory, where ``kernel-*.json`` files live."""
    from jupyter_core.paths import jupyter_runtime_dir

    return str(jupyter_runtime_dir())


def resolve_existing(spec: str | None) -> str:
    """The connection file named by ``--existing`` (newest one when ``spec`` is empty)."""
    from console.link import UserInputError, read_connection_file, resolve_connection_file

    try:
        path = resolve_connection_file(spec or "")
        read_connection_file(path)
    except UserInputError as e:
        usage_error(str(e))
    return path


def load_info(path: str) -> Msg:
    """The connection info in ``path``, or a usage error saying what is wrong."""
    from console.link import UserInputError, read_connection_file

    try:
        return read_connection_file(path)
    except UserInputError as e:
        usage_error(str(e))


def attach_command(path: str) -> str:
    """The exact command that attaches a console to the kernel of ``path``."""
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(runtime_dir()):
        return f"mycon --existing {os.path.basename(path)}"
    return f"mycon --existing {path}"


def _client(info: Msg, context: Any = None) -> Any:
    """A jupyter_client client loaded with ``info`` (its sockets honour Curve keys)."""
    from jupyter_client.blocking.client import BlockingKernelClient

    client = BlockingKernelClient(context=context) if context is not None else BlockingKernelClient()
    try:
        client.load_connection_info(info)  # type: ignore[arg-type]
    except Exception as e:  # noqa: BLE001 - a malformed file: say so
        raise CommandError(f"unusable connection info: {e}", 2) from None
    return client


# ----- probing: alive or stale ----------------------------------------------------------------


class KernelFile:
    """One connection file and what a probe found (a plain class: import cost)."""

    def __init__(self, path: str, kernel_name: str, mtime: float, status: str, detail: str = "") -> None:
        self.path = path
        self.kernel_name = kernel_name
        self.mtime = mtime
        self.status = status  # alive | stale | new | broken
        self.detail = detail

    @property
    def removable(self) -> bool:
        """Stale and broken files may be pruned; a young silent one may still be starting."""
        return self.status in ("stale", "broken")


def probe_kernels(paths: list[str], timeout: float) -> list[KernelFile]:
    """Check every file at once: a signed kernel_info on control, answered within ``timeout``.

    The control channel answers even while a cell runs; a signed reply proves that the
    kernel holding the ports is the one with this file's key.
    """
    import zmq

    from console.link import UserInputError, read_connection_file

    context = zmq.Context()
    entries: list[KernelFile] = []
    waiting: dict[Any, tuple[KernelFile, Any, str]] = {}
    now = time.time()
    try:
        for path in paths:
            try:
                mtime = os.path.getmtime(path)
            except OSError:
                continue  # removed while we looked
            entry = KernelFile(path, "?", mtime, "broken")
            entries.append(entry)
            try:
                info = read_connection_file(path)
                entry.kernel_name = str(info.get("kernel_name") or "?")
                client = _client(info, context)
                sock = client.connect_control()
            except (UserInputError, CommandError, zmq.ZMQError) as e:
                entry.detail = str(e)
                continue
            msg = client.session.msg("kernel_info_request", {})
            client.session.send(sock, msg)
            waiting[sock] = (entry, client, msg["header"]["msg_id"])
            entry.status = "new" if now - mtime < NEW_FILE_SECONDS else "stale"
            entry.detail = f"no answer within {timeout:g} s"
        poller = zmq.Poller()
        for sock in waiting:
            poller.register(sock, zmq.POLLIN)
        deadline = time.monotonic() + timeout
        pending = set(waiting)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for sock, _ in poller.poll(int(left * 1000) + 1):
                entry, client, msg_id = waiting[sock]
                try:
                    _, parts = client.session.feed_identities(sock.recv_multipart())
                    reply = client.session.deserialize(parts)
                except Exception:  # noqa: BLE001 - a bad signature: not our kernel
                    entry.detail = "answered with a bad signature"
                    continue
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                entry.status = "alive"
                entry.detail = str(reply["content"].get("implementation", ""))
                pending.discard(sock)
                poller.unregister(sock)
    finally:
        for sock in waiting:
            sock.close(linger=0)
        context.term()
    return entries


def kernel_files(directory: str) -> list[str]:
    """The ``kernel-*.json`` files of ``directory``, oldest first."""
    import glob

    found = glob.glob(os.path.join(directory, "kernel-*.json"))
    return sorted(found, key=lambda p: (os.path.getmtime(p) if os.path.exists(p) else 0, p))


def format_age(seconds: float) -> str:
    """``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


# ----- exec: run code and follow its output ---------------------------------------------------


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
        self.client = _client(info, self.context)
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


# ----- ssh tunnels ----------------------------------------------------------------------------


def split_server(server: str) -> tuple[str, int | None]:
    """``[user@]host[:port]`` into (``[user@]host``, port or None), with a clear error."""
    target, sep, port_text = server.rpartition(":")
    if not sep:
        return server, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        usage_error(f"--ssh {server}: the port after ':' must be a number from 1 to 65535")
    if not target or target.endswith("@"):
        usage_error(f"--ssh {server}: no host name")
    return target, int(port_text)


def open_tunnels(info: Msg, server: str, keyfile: str | None = None, timeout: float = 15.0) -> Msg:
    """Forward the kernel's five ports through ssh to ``server``; the info to connect to.

    ``info`` is the kernel's connection info as seen on ``server`` (its ``ip`` is reached from
    there). Returns a copy pointing at local ports on 127.0.0.1, with the same key.

    One ``ssh -f`` carries all five forwards: it returns once logged in and listening (or
    fails in ssh's own words), never prompts (BatchMode: key login only), and then lives while
    the forwarded connections are in use (at least ``timeout`` seconds). jupyter_client's
    ``openssh_tunnel`` runs ``ssh -f`` in a pseudo-terminal, where the backgrounded ssh can
    die of the terminal's hang-up as its parent exits (it did on every try here).
    """
    import subprocess
    import tempfile

    from jupyter_client.ssh.tunnel import select_random_ports

    if info.get("transport", "tcp") != "tcp":
        usage_error("--ssh works with tcp kernels only (this connection file uses ipc)")
    target, port = split_server(server)
    remote_ip = str(info.get("ip") or "127.0.0.1")
    if remote_ip in ("0.0.0.0", "*", ""):
        remote_ip = "127.0.0.1"
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    local_ports = select_random_ports(len(names))
    cmd = ["ssh", "-f", "-S", "none", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
           "-o", f"ConnectTimeout={max(1, int(timeout))}"]
    if port is not None:
        cmd += ["-p", str(port)]
    if keyfile:
        cmd += ["-i", keyfile]
    for local, name in zip(local_ports, names, strict=True):
        cmd += ["-L", f"127.0.0.1:{local}:{remote_ip}:{int(info[name])}"]
    cmd += [target, "sleep", str(max(1, int(timeout)))]
    with tempfile.TemporaryFile("w+") as errors:
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=errors, timeout=timeout + 5)
        except FileNotFoundError:
            raise CommandError("--ssh needs the `ssh` command (OpenSSH client)", 2) from None
        except subprocess.TimeoutExpired:
            raise CommandError(f"ssh to {server} did not log in within {timeout:g} s") from None
        if done.returncode != 0:
            errors.seek(0)
            lines = [line for line in errors.read().splitlines() if line.strip()]
            why = lines[-1].strip() if lines else f"ssh exited with status {done.returncode}"
            raise CommandError(f"cannot log in to {server} with ssh without a password: {why}")
    tunnelled = dict(info)
    tunnelled["ip"] = "127.0.0.1"
    tunnelled.update(zip(names, local_ports, strict=True))
    return tunnelled


# ----- the subcommands ------------------------------------------------------------------------


def _default_kernel(ctx: click.Context) -> str:
    settings = ctx.find_root().obj
    return str(getattr(settings, "kernel", None) or "mycon")


def _default_timeout(ctx: click.Context) -> float:
    settings = ctx.find_root().obj
    return float(getattr(settings, "kernel_timeout", None) or 30.0)


class _Stop(BaseException):
    """SIGTERM arrived: leave the wait loop like Ctrl-C does."""


@click.command("kernel")
@click.option("--kernel", "kernel_name", metavar="NAME", default=None,
              help="Kernelspec to start (default: mycon, or `kernel` in the config file).")
@click.pass_context
def kernel_command(ctx: click.Context, kernel_name: str | None) -> None:
    """Start a kernel with no console and keep it until Ctrl-C or SIGTERM.

    Prints its connection file and the command that attaches a console to it. On Ctrl-C or
    SIGTERM the kernel is shut down and its connection file removed.
    """
    import signal
    import uuid

    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import KernelManager

    from console.link import kernel_specs

    name = kernel_name or _default_kernel(ctx)
    timeout = _default_timeout(ctx)
    directory = runtime_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    manager = KernelManager(kernel_name=name, kernel_spec_manager=kernel_specs())
    manager.connection_file = os.path.join(directory, f"kernel-{uuid.uuid4()}.json")
    try:
        if manager.kernel_spec is None:
            raise NoSuchKernel(name)
    except NoSuchKernel:
        usage_error(f"no kernel named {name!r} (see `jupyter kernelspec list`)")
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        try:
            try:
                manager.start_kernel()
            except Exception as e:  # noqa: BLE001 - a kernelspec's argv may fail in any way
                raise CommandError(f"could not start kernel {name!r}: {e}") from None
            _wait_started(manager, timeout)
            pid = getattr(getattr(manager, "provisioner", None), "pid", None)
            click.echo(f"Kernel {name} is running" + (f" (pid {pid})." if pid else "."))
            click.echo(f"Connection file: {manager.connection_file}")
            click.echo("Attach a console with:")
            click.echo(f"    {attach_command(manager.connection_file)}")
            click.echo("Ctrl-C shuts it down.")
            sys.stdout.flush()
            status = _watch(manager)
        except (KeyboardInterrupt, _Stop):
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut clean-up
            click.echo("Shutting the kernel down...")
            _shutdown(manager)
            click.echo("Kernel shut down.")
            return
        except BaseException:
            _shutdown(manager)
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    manager.cleanup_resources()
    if status < 0:
        raise CommandError(f"the kernel was killed by signal {-status}")
    if status:
        raise CommandError(f"the kernel exited with status {status}")
    click.echo("The kernel was shut down by a client.")


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop()


def _wait_started(manager: Any, timeout: float) -> None:
    """Until the kernel answers kernel_info (bounded); its process watched meanwhile."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
    except RuntimeError as e:
        _shutdown(manager)
        if not manager.is_alive():
            raise CommandError(f"the kernel exited during start-up ({e})") from None
        raise CommandError(f"the kernel did not answer within {timeout:g} s") from None
    finally:
        client.stop_channels()


def _watch(manager: Any) -> int:
    """Wait for the kernel process to end by itself; its exit status."""
    import subprocess

    process = getattr(getattr(manager, "provisioner", None), "process", None)
    while True:
        if process is not None:
            try:
                return int(process.wait(timeout=1.0) or 0)
            except subprocess.TimeoutExpired:
                continue
        if not manager.is_alive():
            return 0
        time.sleep(0.5)


def _shutdown(manager: Any) -> None:
    try:
        manager.shutdown_kernel(now=False)
    except Exception:  # noqa: BLE001
        try:
            manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass
    try:
        manager.cleanup_resources()
    except Exception:  # noqa: BLE001
        pass


@click.command("list")
@click.option("--prune", is_flag=True, help="Remove the connection files of stale kernels.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="With --prune: do not ask.")
@click.option("--timeout", type=float, default=2.0, show_default=True, metavar="SECONDS",
              help="How long each kernel may take to answer.")
def list_command(prune: bool, assume_yes: bool, timeout: float) -> None:
    """List kernels in the Jupyter runtime directory, alive or stale.

    Each kernel is asked for its kernel_info on the control channel (signed with the file's
    key); one that does not answer within --timeout is stale. --prune removes stale files.
    """
    _positive(timeout, "--timeout")
    if assume_yes and not prune:
        usage_error("--yes goes with --prune")
    directory = runtime_dir()
    paths = kernel_files(directory) if os.path.isdir(directory) else []
    if not paths:
        click.echo(f"No kernel connection files in {directory}.")
        return
    entries = probe_kernels(paths, timeout)
    now = time.time()
    click.echo(f"Kernels in {directory}:")
    width = max(6, *(len(e.kernel_name) for e in entries))
    click.echo(f"  {'STATUS':<6}  {'KERNEL':<{width}}  {'AGE':>4}  FILE")
    for e in entries:
        label = "new?" if e.status == "new" else e.status
        click.echo(
            f"  {label:<6}  {e.kernel_name:<{width}}  {format_age(now - e.mtime):>4}  "
            f"{os.path.basename(e.path)}"
        )
    stale = [e for e in entries if e.removable]
    if not prune:
        if stale:
            click.echo(f"{len(stale)} stale; `mycon list --prune` removes their files.")
        return
    if not stale:
        click.echo("Nothing to prune.")
        return
    if not assume_yes:
        if not sys.stdin.isatty():
            usage_error("--prune asks before removing files; add --yes to remove them without asking")
        if not click.confirm(f"Remove {len(stale)} stale connection file(s)?", default=False):
            click.echo("Nothing removed.")
            return
    for e in stale:
        try:
            os.unlink(e.path)
            click.echo(f"Removed {os.path.basename(e.path)}")
        except FileNotFoundError:
            pass
        except OSError as err:
            click.echo(f"mycon: cannot remove {e.path}: {err.strerror}", err=True)


@click.command("exec")
@click.pass_context
@click.argument("code", required=False, metavar="CODE|-")
@click.option("--existing", metavar="FILE", default=None,
              help="Connection file of the kernel (default: the newest in the runtime directory).")
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
    _positive(timeout, "--timeout")
    _positive(run_timeout, "--run-timeout")
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
        info = open_tunnels(info, ssh_server, ssh_key and os.path.expanduser(ssh_key))
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


def _exec_on_server(server: str, token: str, kernel: str | None, ssh_server: str | None, code: str,
                    answer: Answer | None, timeout: float, run_timeout: float | None) -> None:
    """``mycon exec --server URL``: the code runs in one of the server's kernels."""
    import asyncio

    from console.link import LinkError, UserInputError
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


COMMANDS = (kernel_command, list_command, exec_command)


def add_commands(group: click.Group) -> None:
    """Register the subcommands on the ``mycon`` click group."""
    for command in COMMANDS:
        group.add_command(command)
