"""``mycon list``: the connection files in the runtime directory, each checked alive or stale
by a signed ``kernel_info_request`` on the control channel (bounded), and pruning."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from console.connection_files import kernel_files, runtime_dir
from console.subcommands import CommandError, check_positive, kernel_client, usage_error

NEW_FILE_SECONDS = 10.0  # a file this young that does not answer may be a kernel still starting


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

    from console.connection_files import read_connection_file
    from console.errors import UserInputError

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
                client = kernel_client(info, context)
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


def format_age(seconds: float) -> str:
    """``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


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
    check_positive(timeout, "--timeout")
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
