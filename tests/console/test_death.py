"""A kernel that dies or restarts (issue 5): noticed within 5 s, the owner restarts it, an
attached console waits for it, and nothing typed is lost. Real mycon processes in
pseudo-terminals on real kernels, killed with SIGKILL and os._exit(1)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator

import pytest
from term import ENTER, Term, need_kernel

NOTICE = 5.0  # seconds within which a dead kernel must be noticed (issue 5)

pytestmark = pytest.mark.timeout(120)



@pytest.fixture(params=["python3", "mycon"])
def kname(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if name == "mycon":
        need_kernel(name)
    return name


@pytest.fixture
def owner(kname: str) -> Iterator[Term]:
    t = Term("--kernel", kname)
    t.expect("To attach another terminal")
    t.prompt()
    try:
        yield t
    finally:
        t.close()


def _kernel_pid(t: Term) -> int:
    t.run("import os as _o; _o.getpid()")
    m = t.expect(re.compile(r"Out\[\d+\]: (\d+)"))
    assert isinstance(m, re.Match)
    t.prompt()
    return int(m.group(1))


def test_sigkill_at_idle_prompt_restarts_and_keeps_typed_text(owner: Term) -> None:
    owner.run("zz_lost = 1")
    owner.prompt()
    pid = _kernel_pid(owner)
    owner.send("print('zz' + 'kept')")  # typed, not yet run
    os.kill(pid, signal.SIGKILL)
    owner.expect("restarting it", timeout=NOTICE)
    owner.expect("Lost: everything defined in it")
    owner.expect("(kernel restarted)")
    owner.send(ENTER)
    owner.expect("zzkept")
    owner.prompt()
    owner.run("zz_lost")
    owner.expect("NameError")
    assert _kernel_pid(owner) != pid


def test_os_exit_while_busy_restarts(owner: Term) -> None:
    owner.run("import os, time; time.sleep(0.3); os._exit(1)")
    owner.send("print('zz' + 'ahead')")  # type-ahead while the cell runs
    owner.expect("restarting it", timeout=NOTICE)
    owner.expect("(kernel restarted)")
    owner.send(ENTER)
    owner.expect("zzahead")
    owner.prompt()
    assert "Traceback" not in owner.raw


def test_restart_command_asks_first(owner: Term) -> None:
    owner.run("zz_before = 7")
    owner.prompt()
    owner.run("%mycon restart")
    owner.expect("Restart the kernel?")
    owner.send("n" + ENTER)
    owner.expect("(not restarted)")
    owner.prompt()
    owner.run("zz_before * 6")
    owner.expect("42")
    owner.prompt()
    owner.send("\x18\x0b")  # Ctrl-X Ctrl-K: the key for the same command
    owner.expect("Restart the kernel?")
    owner.send("y" + ENTER)
    owner.expect("(kernel restarted)")
    assert owner.prompt() == 1
    owner.run("zz_before")
    owner.expect("NameError")


def test_attached_console_waits_for_a_dead_kernel(kname: str, tmp_path: os.PathLike[str]) -> None:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kname)
    km.connection_file = os.path.join(str(tmp_path), "k.json")
    km.start_kernel()
    t = Term("--existing", km.connection_file)
    try:
        t.expect("To attach another terminal")
        t.prompt()
        os.kill(km.provisioner.pid, signal.SIGKILL)  # type: ignore[union-attr]
        t.expect("may be gone", timeout=NOTICE)
        t.run("print('zz' + 'waited')")
        t.expect("not run: the kernel does not answer")
        km.restart_kernel(now=True)  # same ports: the console's channels reconnect
        t.expect("(the kernel answers again)")
        t.send(ENTER)  # the kept cell is back at the prompt
        t.expect("zzwaited")
        t.prompt()
    finally:
        t.close()
        km.shutdown_kernel(now=True)


def test_attached_console_sees_owner_restart_after_a_kill(tmp_path: os.PathLike[str]) -> None:
    """Our kernel greets each new iopub subscription: the attached console learns that the
    kernel behind its ports is a new one (restarted by its owner) and starts counting anew."""
    need_kernel("mycon")
    cf = os.path.join(str(tmp_path), "kernel-owned.json")
    owner = Term("--kernel", "mycon", "-f", cf)
    attached: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.prompt()
        attached = Term("--existing", cf)
        attached.expect("To attach another terminal")
        attached.prompt()
        pid = _kernel_pid(owner)
        attached.expect("Out[1]")
        os.kill(pid, signal.SIGKILL)
        owner.expect("(kernel restarted)")
        attached.expect("probably restarted")
        attached.send(ENTER)
        assert attached.prompt() == 1
    finally:
        if attached is not None:
            attached.close()
        owner.close()


def test_attached_console_busy_when_the_kernel_dies(tmp_path: os.PathLike[str]) -> None:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.connection_file = os.path.join(str(tmp_path), "k.json")
    km.start_kernel()
    t = Term("--existing", km.connection_file)
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("import time; print('zz' + 'sleeping', flush=True); time.sleep(60)")
        t.expect("zzsleeping")
        t.send("print('zz' + 'typed ahead')")
        os.kill(km.provisioner.pid, signal.SIGKILL)  # type: ignore[union-attr]
        t.expect("may be gone", timeout=NOTICE)
        t.expect("(the cell did not finish")
        t.prompt()
        t.expect("print('zz' + 'typed ahead')")  # what was typed meanwhile is at the new prompt
        km.restart_kernel(now=True)
        t.expect("(the kernel answers again)")
        t.send(ENTER)
        t.expect("zztyped ahead")
        t.prompt()
    finally:
        t.close()
        km.shutdown_kernel(now=True)


@pytest.mark.parametrize("extra", [(), ("--no-other-output",)], ids=["", "no-other-output"])
@pytest.mark.parametrize("kind", ["mycon", "python3"])
def test_attached_console_running_a_cell_when_the_owner_restarts_the_kernel(
    kind: str, extra: tuple[str, ...], tmp_path: os.PathLike[str]
) -> None:
    """The kernel dies under the attached console's cell and its owner restarts it before the
    attached heartbeat gives up: the attached console says the cell was lost, gives its prompt
    back within seconds and runs the next cell on the new kernel. (The new process's iopub
    welcome tells; without it, here unread with --no-other-output, the kernel_info session.)"""
    need_kernel(kind)
    cf = os.path.join(str(tmp_path), "kernel-lost.json")
    owner = Term("--kernel", kind, "-f", cf)
    attached: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.prompt()
        attached = Term("--existing", cf, *extra)
        attached.expect("To attach another terminal")
        attached.prompt()
        attached.run("import os, time; print('zz' + 'pid', os.getpid(), flush=True); time.sleep(60)")
        m = attached.expect(re.compile(r"zzpid (\d+)"))
        assert isinstance(m, re.Match)
        os.kill(int(m.group(1)), signal.SIGKILL)
        owner.expect("(kernel restarted)", timeout=NOTICE + 10)
        attached.expect("(the cell was lost: the kernel was restarted", timeout=NOTICE + 5)
        attached.expect("its variables are gone")
        assert attached.prompt(timeout=NOTICE) == 1
        attached.run("print('zz' + 'after', os.getpid())")  # a new kernel: its os is not imported
        attached.expect("NameError")
        attached.prompt()
        attached.run("print('zz' + 'fine')")
        attached.expect("zzfine")
    finally:
        if attached is not None:
            attached.close()
        owner.close()
