"""Launching a kernel this console owns: its kernelspec, its manager, and its own output.

Used by ``KernelLink.start``/``restart`` and by ``mycon kernel``. jupyter_client is imported
when a kernel is launched (it costs a large part of start-up).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from console.connection_files import runtime_dir
from console.errors import LinkError, UserInputError
from console.prelaunch import PORT_NAMES, kernel_dirs

if TYPE_CHECKING:
    import asyncio

    from console.prelaunch import EarlyKernel


def kernel_specs() -> Any:
    """jupyter_client's kernelspec finder over the usual folders, IPython's included.

    Its default list asks IPython where ``~/.ipython/kernels`` is, and importing IPython takes
    50-80 ms on the way to the first result; the folder is worked out here instead.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path

    return KernelSpecManager(kernel_dirs=[*jupyter_path("kernels"), _ipython_kernels()])


def _ipython_kernels() -> str:
    """IPython's kernelspec folder (``$IPYTHONDIR/kernels``), without asking IPython."""
    ipython_dir = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
    return os.path.join(ipython_dir, "kernels")


def check_kernelspec(kernel_name: str) -> None:
    """UserInputError when this machine has no kernelspec ``kernel_name`` (checked before the
    first prompt). A look in the usual folders answers the common case at once; jupyter_client's
    own lookup settles the rest."""
    for folder in [*kernel_dirs(), _ipython_kernels()]:
        if os.path.isfile(os.path.join(folder, kernel_name, "kernel.json")):
            return
    from jupyter_client.kernelspec import NoSuchKernel

    specs = kernel_specs()
    try:
        specs.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        names = ", ".join(sorted(specs.find_kernel_specs()))
        known = f"; kernels here: {names}" if names else ""
        raise UserInputError(f"no kernel named {kernel_name!r}{known} (see `jupyter kernelspec list`)") from None
    except Exception:  # a broken kernelspec: starting it says what is wrong
        return


def declares_curve(spec: Any) -> bool:
    """Whether a kernelspec's metadata says the kernel supports CurveZMQ."""
    declared = (getattr(spec, "metadata", None) or {}).get("supported_encryption")
    if isinstance(declared, str):
        declared = [declared]
    return isinstance(declared, (list, tuple)) and any(str(d).lower() == "curve" for d in declared)


def new_manager(kernel_name: str, connection_file: str, encrypt: bool, cls: Any = None) -> tuple[Any, str]:
    """An asynchronous manager for kernelspec ``kernel_name``, not started yet, and the
    kernel's interrupt mode. Without ``connection_file`` a new one in the runtime directory;
    ``encrypt``: with CurveZMQ (UserInputError when the kernel does not support it); ``cls``:
    the manager class (default: jupyter_client's AsyncKernelManager)."""
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager

    km = (cls or AsyncKernelManager)(kernel_name=kernel_name, kernel_spec_manager=kernel_specs())
    if not connection_file:
        # In the runtime directory, so that a bare `mycon --existing` finds it.
        import uuid

        rdir = runtime_dir()
        os.makedirs(rdir, mode=0o700, exist_ok=True)
        connection_file = os.path.join(rdir, f"kernel-{uuid.uuid4()}.json")
    km.connection_file = connection_file
    try:
        spec = km.kernel_spec
    except NoSuchKernel:
        raise UserInputError(
            f"no kernel named {kernel_name!r} (see `jupyter kernelspec list`)"
        ) from None
    if spec is None:
        raise UserInputError(f"no kernel named {kernel_name!r}")
    interrupt_mode = getattr(spec, "interrupt_mode", "signal") or "signal"
    if encrypt:
        require_encryption(km, kernel_name, spec)
    return km, interrupt_mode


_adopting: Any = None  # the manager class below, made once jupyter_client is imported


def _adopting_manager_class() -> Any:
    """jupyter_client's asynchronous manager whose first launch takes over a kernel process
    already running (``console.prelaunch``); restarts launch as usual."""
    global _adopting
    if _adopting is not None:
        return _adopting
    from jupyter_client.manager import AsyncKernelManager

    class AdoptingKernelManager(AsyncKernelManager):  # type: ignore[misc]
        early: Any = None  # the EarlyKernel the next launch takes over

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            early, self.early = self.early, None
            if early is None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            provisioner: Any = self.provisioner  # a LocalProvisioner: the kernelspec names no other
            provisioner.process = early.process
            provisioner.pid = early.process.pid
            try:
                provisioner.pgid = os.getpgid(early.process.pid)
            except OSError:
                provisioner.pgid = None
            provisioner.cwd = early.cwd
            early.adopted = True
            self._reconcile_connection_info(provisioner.connection_info)

    _adopting = AdoptingKernelManager
    return _adopting


async def launch_owned(
    kernel_name: str, connection_file: str, encrypt: bool, cwd: str, on_text: Callable[[str], None]
) -> tuple[Any, str, KernelOutput]:
    """Start kernelspec ``kernel_name`` through jupyter_client's manager: (the manager, the
    kernel's interrupt mode, the reader of its own output, which goes to ``on_text``)."""
    km, interrupt_mode = new_manager(kernel_name, connection_file, encrypt)
    output = KernelOutput(on_text)
    await output.launch(
        km,
        lambda fd: km.start_kernel(cwd=cwd or os.getcwd(), stdout=fd, stderr=fd),
        lambda e: LinkError(f"could not start kernel {kernel_name!r}: {e}"),
    )
    return km, interrupt_mode, output


def require_encryption(manager: Any, kernel_name: str, spec: Any) -> None:
    """Make ``manager`` launch its kernel with CurveZMQ keys, or say in words why it cannot."""
    import zmq

    if not declares_curve(spec):
        raise UserInputError(
            f"kernel {kernel_name!r} does not support encryption (its kernelspec's metadata has no "
            "supported_encryption: curve); leave out --encryption"
        )
    if not zmq.has("curve"):
        raise UserInputError("this pyzmq cannot encrypt (its libzmq has no CurveZMQ); leave out --encryption")
    manager.transport_encryption = "required"


def encryption_note(info: Mapping[str, Any]) -> str:
    """Whether a kernel's traffic is encrypted (its connection info) and which clients can attach."""
    if info.get("curve_publickey"):
        return (
            "encrypted (CurveZMQ): mycon and other jupyter_client 8.9+ clients can attach, "
            "jupyter console and qtconsole cannot"
        )
    return "not encrypted (messages signed): any Jupyter client can attach"


class KernelOutput:
    """The kernel's own stdout/stderr (warnings, crashes), through a pipe read from the event
    loop and handed on as text, so the UI can print it above the prompt instead of over it."""

    def __init__(self, on_text: Callable[[str], None]) -> None:
        self.on_text = on_text
        self.fd = -1  # the pipe's read end while it is read

    async def launch(
        self,
        manager: Any,
        start: Callable[[int], Awaitable[Any]],
        failure: Callable[[Exception], Exception],
    ) -> None:
        """Run ``start(fd)`` (the manager's start or restart, writing to ``fd``) on a fresh
        pipe, then read it; when ``start`` fails, raise ``failure(error)`` instead."""
        rfd, wfd = os.pipe()
        try:
            await start(wfd)
        except Exception as e:  # launching runs arbitrary argv: report it in words
            os.close(rfd)
            raise failure(e) from None
        finally:
            os.close(wfd)
            # Restarts get a fresh pipe; never let the manager reuse this closed fd number.
            launch_args = getattr(manager, "_launch_args", None)
            if isinstance(launch_args, dict):
                launch_args.pop("stdout", None)
                launch_args.pop("stderr", None)
        self.watch(rfd)

    def watch(self, fd: int) -> None:
        """Read the kernel's output from the pipe end ``fd`` (from the event loop) until it closes."""
        import asyncio  # (not at the top: the kernelspec check before the first prompt imports this module)

        loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)

        def readable() -> None:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
                os.close(fd)
                self.fd = -1
                return
            self.on_text(data.decode("utf-8", "replace"))

        self.fd = fd
        loop.add_reader(fd, readable)

    def close(self) -> None:
        """Stop reading and close the pipe (before a restart, and when the link closes)."""
        if self.fd >= 0:
            import asyncio

            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.fd)
                os.close(self.fd)
            self.fd = -1


def _set_connection(target: Any, info: Mapping[str, Any]) -> None:
    """A connection file's fields onto a jupyter_client client or manager, one by one (its
    ``load_connection_info`` first looks up the machine's addresses for a default it then
    replaces: ~8 ms and psutil on the way to the first result)."""
    target.transport = str(info["transport"])
    target.ip = str(info["ip"])
    for name in PORT_NAMES:
        setattr(target, name, int(info[name]))
    target.session.key = str(info["key"]).encode()
    target.session.signature_scheme = str(info["signature_scheme"])


class EarlyHandover:
    """The kernel launched before the console's UI (``console.prelaunch``): connected to at
    once, its output read from the start, and handed to jupyter_client's manager later
    (``manager``), which from then on restarts, interrupts and shuts it down."""

    def __init__(self, early: EarlyKernel, on_text: Callable[[str], None]) -> None:
        self.early = early
        self.interrupt_mode = str(early.spec.get("interrupt_mode") or "signal")
        self.output = KernelOutput(on_text)
        self.output.watch(early.take_output())
        self._task: asyncio.Future[Any] | None = None

    @classmethod
    def make(cls, early: EarlyKernel | None, kernel_name: str, on_text: Callable[[str], None]) -> EarlyHandover | None:
        """A handover of ``early`` when it is the kernel jupyter_client would start for
        ``kernel_name``; otherwise ``early`` (if any) is ended and None returned."""
        if early is None:
            return None
        try:
            found = kernel_specs().find_kernel_specs().get(kernel_name.lower()) if early.kernel_name == kernel_name else None
        except Exception:
            found = None  # the usual start says what is wrong
        if found and os.path.realpath(found) == os.path.realpath(early.resource_dir):
            return cls(early, on_text)
        early.discard()
        return None

    def client(self) -> Any:
        """A jupyter_client client for the kernel, from the connection info written for it."""
        from jupyter_client.asynchronous import AsyncKernelClient

        client = AsyncKernelClient()
        _set_connection(client, self.early.info)
        client.connection_file = self.early.connection_file
        return client

    async def manager(self) -> Any:
        """jupyter_client's manager, owning the kernel process (made once); None, said through
        the output callback, when it could not take it over."""
        import asyncio

        if self._task is None:
            self._task = asyncio.ensure_future(self._adopt())
        return await asyncio.shield(self._task)

    async def _adopt(self) -> Any:
        early = self.early
        try:
            km, _ = new_manager(early.kernel_name, early.connection_file, False, _adopting_manager_class())
            _set_connection(km, early.info)
            km.cache_ports = False  # the ports are the running kernel's, also for restarts
            km._connection_file_written = True  # written (not again while the kernel reads it); removed at shutdown
            km.early = early
            await km.start_kernel(cwd=early.cwd)
        except Exception as e:
            early.adopted = False  # not owned by any manager: ``discard`` ends it
            self.output.on_text(f"mycon: jupyter_client could not take over the kernel ({e}); it ends with the console\n")
            return None
        return km

    def discard(self) -> None:
        """End a kernel its manager never took over."""
        self.output.close()
        self.early.discard()
