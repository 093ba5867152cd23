"""The ``mycon`` subcommands: kernels without a console.

- ``mycon kernel`` (``kernel.py``) starts a headless kernel and keeps it until Ctrl-C/SIGTERM.
- ``mycon list`` (``listing.py``) shows the connection files in the runtime directory, each
  checked alive or stale, and can prune.
- ``mycon exec`` (``execute.py``) runs code in a running kernel and prints what it produces.

This package holds what they share. Importing it costs next to nothing: jupyter_client and zmq
are imported when a subcommand runs. User mistakes print one line and exit with status 2.
"""

from __future__ import annotations

from typing import IO, Any, NoReturn

import click

Msg = dict[str, Any]


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


def check_positive(value: float | None, flag: str) -> None:
    """A usage error unless ``value`` (given with ``flag``) is a positive number of seconds."""
    if value is not None and value <= 0:
        usage_error(f"{flag} must be a positive number of seconds")


def kernel_client(info: Msg, context: Any = None) -> Any:
    """A jupyter_client client loaded with ``info`` (its sockets honour Curve keys)."""
    from jupyter_client.blocking.client import BlockingKernelClient

    client = BlockingKernelClient(context=context) if context is not None else BlockingKernelClient()
    try:
        client.load_connection_info(info)  # type: ignore[arg-type]
    except Exception as e:  # noqa: BLE001 - a malformed file: say so
        raise CommandError(f"unusable connection info: {e}", 2) from None
    return client


def add_commands(group: click.Group) -> None:
    """Register the subcommands on the ``mycon`` click group."""
    from console.subcommands.execute import exec_command
    from console.subcommands.kernel import kernel_command
    from console.subcommands.listing import list_command

    for command in (kernel_command, list_command, exec_command):
        group.add_command(command)
