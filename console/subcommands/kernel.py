"""``mycon kernel``: start a headless kernel (any kernelspec) and keep it until Ctrl-C/SIGTERM."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from console.connection_files import runtime_dir
from console.subcommands import CommandError, usage_error


def attach_command(path: str) -> str:
    """The exact command that attaches a console to the kernel of ``path``."""
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(runtime_dir()):
        return f"mycon --existing {os.path.basename(path)}"
    return f"mycon --existing {path}"


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
@click.option("--encryption/--no-encryption", "encrypt", default=None,
              help="CurveZMQ for the kernel's connection (its kernelspec must support it). "
              "Default: off (plain TCP on loopback, signed messages), so any Jupyter client "
              "can attach; `encrypt` in the config file.")
@click.pass_context
def kernel_command(ctx: click.Context, kernel_name: str | None, encrypt: bool | None) -> None:
    """Start a kernel with no console and keep it until Ctrl-C or SIGTERM.

    Prints its connection file and the command that attaches a console to it. On Ctrl-C or
    SIGTERM the kernel is shut down and its connection file removed.
    """
    import signal
    import uuid

    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import KernelManager

    from console.errors import UserInputError
    from console.launch import encryption_note, kernel_specs, require_encryption

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
    if encrypt if encrypt is not None else bool(getattr(ctx.find_root().obj, "encrypt", False)):
        try:
            require_encryption(manager, name, manager.kernel_spec)
        except UserInputError as e:
            usage_error(str(e))
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
            click.echo(f"The connection is {encryption_note(manager.get_connection_info())}.")
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
