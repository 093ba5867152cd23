"""The ``mycon`` command line: flags into Settings, then the console.

``mycon [OPTIONS]`` runs the console. The command is a click group so that subcommands
(``mycon kernel``, ``mycon list``, ``mycon exec``) can be added with ``@main.command()``.
User mistakes print one line and exit with status 2; a kernel that does not answer exits 1.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from console.settings import ConfigError, Settings, config_keys_text, load_config, make_settings
from console.subcommands import add_commands

if TYPE_CHECKING:
    from console.prelaunch import EarlyKernel


class UserError(click.ClickException):
    """A mistake in what the user asked for: one line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"mycon: {self.format_message()}", err=True)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--kernel",
    metavar="NAME",
    default=None,
    help="Kernelspec to start (default: mycon, or `kernel` in the config file).",
)
@click.option(
    "--existing",
    metavar="[FILE]",
    is_flag=False,
    flag_value="",
    default=None,
    help="Attach to a running kernel: a connection file path, a name looked up in the "
    "Jupyter runtime directory, the start of a kernel id there, or a glob. Bare --existing "
    "picks the newest kernel-*.json.",
)
@click.option(
    "-f",
    "--connection-file",
    metavar="FILE",
    default=None,
    help="Connection file: attached to with --existing, written by the kernel we start otherwise.",
)
@click.option("--vi", "vi", is_flag=True, default=None, help="Vi key bindings.")
@click.option("--emacs", "emacs", is_flag=True, default=None, help="Emacs key bindings (default).")
@click.option(
    "--confirm-exit/--no-confirm-exit",
    default=None,
    help="Ask before leaving on Ctrl-D (default: ask).",
)
@click.option(
    "--color/--no-color", default=None, help="Colour prompts and output (default: on)."
)
@click.option(
    "--other-output/--no-other-output",
    "include_other_output",
    default=None,
    help="Show other clients' inputs and outputs live (default: on).",
)
@click.option(
    "--encryption/--no-encryption",
    "encrypt",
    default=None,
    help="Encrypt the connection to a kernel we start with CurveZMQ (its kernelspec must "
    "support it). Default: off, plain TCP on loopback with signed messages, which every Jupyter "
    "client (jupyter console, qtconsole) can attach to; an encrypted kernel only mycon and "
    "jupyter_client 8.9+ clients can.",
)
@click.option(
    "--ssh",
    metavar="[USER@]HOST[:PORT]",
    default=None,
    help="With --existing: reach the kernel through ssh tunnels to HOST.",
)
@click.option(
    "--subshell",
    is_flag=True,
    default=None,
    help="With --existing: run this console's cells in a kernel subshell of its own, so they "
    "run while other clients' cells do (kernels with subshells, protocol 5.5).",
)
@click.option(
    "--server",
    metavar="URL",
    default=None,
    help="A Jupyter server (as its log prints it, e.g. http://127.0.0.1:8888/lab?token=...): "
    "start a kernel there (mycon if it has it, else its default), or attach to one of its "
    "kernels with --existing [ID] (bare: the most recently active). A Kernel Gateway too.",
)
@click.option(
    "--token",
    metavar="TOKEN",
    default=None,
    help="With --server: the server's token (default: from the URL, or $JUPYTER_TOKEN).",
)
@click.option(
    "--kernel-timeout",
    type=float,
    metavar="SECONDS",
    default=None,
    help="How long to wait for the kernel to answer at start-up (default: 30).",
)
@click.option(
    "--graphics",
    type=click.Choice(["auto", "kitty", "iterm", "sixel", "blocks", "none"]),
    default=None,
    help="How to show images (default: auto-detect).",
)
@click.option(
    "--mime-order",
    metavar="TYPES",
    default=None,
    help="Output types to prefer, richest first, e.g. html,png,plain (short names or full "
    "mime types; text/plain is always the last resort).",
)
@click.option(
    "--cluster",
    type=int,
    metavar="N",
    default=None,
    help="Start an ipyparallel cluster of N engines in the kernel and activate the %px magics "
    "(needs `pip install mycon[parallel]`); it is stopped when the console leaves.",
)
@click.option("--keep-cluster", is_flag=True, default=None, help="With --cluster: leave the cluster running on leaving.")
@click.option(
    "--watch",
    is_flag=True,
    default=None,
    help="With --existing: watch the kernel, showing every client's inputs and outputs live; "
    "never runs, interrupts or answers anything (Ctrl-D leaves, the kernel keeps running).",
)
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    default=None,
    help="Config file (default: $XDG_CONFIG_HOME/mycon/config.toml).",
)
@click.version_option(package_name="mycon", prog_name="mycon")
@click.pass_context
def main(
    ctx: click.Context,
    kernel: str | None,
    existing: str | None,
    connection_file: str | None,
    vi: bool | None,
    emacs: bool | None,
    confirm_exit: bool | None,
    color: bool | None,
    include_other_output: bool | None,
    encrypt: bool | None,
    ssh: str | None,
    subshell: bool | None,
    server: str | None,
    token: str | None,
    kernel_timeout: float | None,
    graphics: str | None,
    mime_order: str | None,
    cluster: int | None,
    keep_cluster: bool | None,
    watch: bool | None,
    config_file: str | None,
) -> None:
    """A terminal console for Jupyter kernels.

    Starts a kernel (default: mycon) and reads cells at an `In [n]:` prompt, or attaches to
    a running kernel with --existing; with --server URL, the kernel is one inside a Jupyter
    server. Enter runs a complete cell; Esc Enter runs it anyway; Ctrl-O inserts a newline;
    Tab completes; `obj?` shows help; F2 edits in $EDITOR; Ctrl-C interrupts a running cell;
    Ctrl-D leaves.

    Restart the kernel (asks first; only the console that started it, or any console on a
    server's kernel): type `%mycon restart`
    at the prompt or press Ctrl-X Ctrl-K. A kernel that dies is noticed within seconds: one
    this console started is restarted, an attached one is waited for.

    Settings you set once go in ~/.config/mycon/config.toml (TOML; keys: CONFIG_KEYS);
    flags win over the file.

    Rich output (HTML, Markdown, LaTeX, images) is drawn in the terminal; live displays
    update in place. Long output is cut with a note; at the prompt, `%mycon page` shows the
    last cut output in full, `%mycon save [DIR]` saves the last image, `%mycon view` opens it
    in the system viewer, `%mycon` lists these commands.
    History is kept per kernel language in ~/.local/share/mycon/history/.
    """
    try:
        config = load_config(config_file)
    except ConfigError as e:
        raise UserError(str(e)) from None
    editing_mode = "vi" if vi else ("emacs" if emacs else None)
    if kernel_timeout is not None and kernel_timeout <= 0:
        raise UserError("--kernel-timeout must be a positive number of seconds")
    if existing is not None and kernel is not None:
        raise UserError("--kernel and --existing do not go together: pick one")
    if server is not None:
        _check_server(server, token, ssh, connection_file)
    elif token is not None:
        raise UserError("--token goes with --server (it is the Jupyter server's token)")
    if ssh is not None and existing is None:
        raise UserError("--ssh goes with --existing (it reaches a kernel running elsewhere)")
    if subshell and existing is None:
        raise UserError("--subshell goes with --existing (it shares a running kernel with its other clients)")
    if mime_order is not None:
        from console.mime import parse_order

        try:
            parse_order(mime_order)
        except ValueError as e:
            raise UserError(f"--mime-order: {e}") from None
    if connection_file is not None and existing is not None:
        if existing:
            raise UserError("give the connection file once: to --existing or to -f")
    _check_parallel(cluster, keep_cluster, watch, existing, kernel)
    settings = make_settings(
        config,
        kernel=kernel,
        existing=existing,
        connection_file=connection_file,
        editing_mode=editing_mode,
        confirm_exit=confirm_exit,
        color=color,
        include_other_output=include_other_output,
        encrypt=encrypt,
        ssh=ssh,
        subshell=subshell,
        server=server,
        token=token,
        kernel_timeout=kernel_timeout,
        graphics=graphics,
        mime_order=mime_order,
        cluster=cluster,
        keep_cluster=keep_cluster,
        watch=watch,
    )
    if settings.watch:
        settings.include_other_output = True  # what watching is for
    if server is not None and kernel is None and "kernel" not in config:
        settings.kernel = ""  # the server's default kernel
    ctx.obj = settings
    if ctx.invoked_subcommand is not None:
        return
    if settings.existing is not None and not settings.server:  # a server is asked once running
        _check_existing(settings.connection_file or settings.existing)
    elif settings.connection_file and os.path.isdir(settings.connection_file):
        raise UserError(f"-f {settings.connection_file}: is a directory, not a file")
    _check_kernel_reachable(settings)  # a wrong name or token fails before any prompt is drawn
    from console.probe import startup_probe

    probe = startup_probe(settings.graphics)  # the terminal answers while the console loads
    early = None
    try:
        try:
            early = _start_kernel_early(settings)  # it boots while the console's UI is imported
            from console.app import run_console
        except BaseException:
            if probe is not None:
                probe.finish()  # the terminal as it was
            raise
        status = run_console(settings, probe, early)
    finally:
        if early is not None:
            early.discard()  # never taken over (a failure, or leaving before it was): ended
    ctx.exit(status)


def _start_kernel_early(settings: Settings) -> EarlyKernel | None:
    """Launch the kernel now, before the console's heavy imports, when it is a local kernelspec
    started the ordinary way and the console will run (a terminal on stdin)."""
    if settings.existing is not None or settings.server or settings.encrypt or not settings.kernel:
        return None
    if not os.isatty(0):
        return None  # the console refuses to run: no kernel to clean up
    from console.prelaunch import launch

    return launch(settings.kernel, settings.connection_file)


def _check_parallel(
    cluster: int | None, keep_cluster: bool | None, watch: bool | None, existing: str | None, kernel: str | None
) -> None:
    """--cluster, --keep-cluster and --watch: sensible together, and ipyparallel at hand."""
    if watch and existing is None:
        raise UserError("--watch goes with --existing (it watches a kernel that is running)")
    if watch and cluster is not None:
        raise UserError("--watch never runs anything in the kernel: it cannot start a --cluster")
    if keep_cluster and cluster is None:
        raise UserError("--keep-cluster goes with --cluster N")
    if cluster is None:
        return
    if cluster < 1:
        raise UserError(f"--cluster wants a number of engines of at least 1, not {cluster}")
    if existing is None and kernel in (None, "mycon"):
        import importlib.util

        if importlib.util.find_spec("ipyparallel") is None:  # our kernel runs on this Python
            raise UserError("--cluster needs ipyparallel: pip install mycon[parallel]")


def _check_server(server: str, token: str | None, ssh: str | None, connection_file: str | None) -> None:
    """Fail early on a --server that cannot be used, and on flags that do not go with it."""
    from console.errors import UserInputError
    from console.server import parse_server

    if ssh is not None:
        raise UserError("--ssh and --server do not go together: reach a remote server by its https:// URL")
    if connection_file is not None:
        raise UserError("-f and --server do not go together: the server keeps its kernels' connection files")
    try:
        parse_server(server, token or "")
    except UserInputError as e:
        raise UserError(str(e)) from None


class StartError(UserError):
    """The kernel cannot be reached (a server that does not answer): one line, exit status 1."""

    exit_code = 1


def _check_kernel_reachable(settings: Settings) -> None:
    """Fail before the prompt on a kernelspec this machine does not have, and on a server that
    refuses our token, lacks the kernelspec or the kernel asked for, or does not answer."""
    from console.errors import LinkError, UserInputError

    try:
        if settings.server:
            from console.server import check_before_start, parse_server

            check_before_start(parse_server(settings.server, settings.token), settings.kernel, settings.existing)
        elif settings.existing is None and settings.kernel:
            from console.launch import check_kernelspec

            check_kernelspec(settings.kernel)
    except UserInputError as e:
        raise UserError(str(e)) from None
    except LinkError as e:
        raise StartError(str(e)) from None


def _check_existing(spec: str) -> None:
    """Fail early, before any prompt, when --existing names nothing usable."""
    from console.connection_files import read_connection_file, resolve_connection_file
    from console.errors import UserInputError

    try:
        read_connection_file(resolve_connection_file(spec))
    except UserInputError as e:
        raise UserError(str(e)) from None


add_commands(main)  # mycon kernel, mycon list, mycon exec (console/subcommands/)
main.help = (main.help or "").replace("CONFIG_KEYS", config_keys_text())  # settings' one list
