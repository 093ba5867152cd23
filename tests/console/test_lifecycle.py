"""Start-up and exit of the real mycon in a pseudo-terminal: the start-up race, Ctrl-D with
and without shutting the kernel down, and user mistakes reported in one line."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from term import CTRL_C, CTRL_D, ENTER, F5, F6, Term, need_kernel, plain

from console.connection_files import resolve_connection_file


def _kernel_processes(connection_file: str) -> list[int]:
    """Processes whose command line names ``connection_file``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if connection_file.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _connection_file_of(t: Term) -> str:
    m = t.expect(re.compile(r"mycon --existing (\S+)"))
    assert isinstance(m, re.Match)
    path = resolve_connection_file(m.group(1))  # a path, or the start of a kernel id
    assert os.path.isfile(path)
    return path


def test_first_cell_typed_at_once_is_run(kernel_name: str) -> None:
    """The cell typed the instant the prompt appears waits for the kernel, then runs."""
    for _ in range(3):
        t = Term("--kernel", kernel_name, "--no-confirm-exit")
        try:
            t.expect("In [1]: ")
            t.run("print(1 + 1)")
            t.expect(re.compile(r"^2$", re.M))
            t.prompt()
        finally:
            t.close()


def test_exit_shuts_down_owned_kernel(kernel_name: str) -> None:
    t = Term("--kernel", kernel_name)
    path = _connection_file_of(t)
    t.prompt()
    assert _kernel_processes(path)
    t.send(CTRL_D)
    t.expect("Do you really want to exit")
    t.send("y" + ENTER)
    assert t.wait_exit() == 0
    assert not os.path.exists(path)
    assert not _kernel_processes(path)


def test_ctrl_d_declined_keeps_running(kernel_name: str) -> None:
    t = Term("--kernel", kernel_name)
    try:
        t.prompt()
        t.send(CTRL_D)
        t.expect("Do you really want to exit")
        t.send("n" + ENTER)
        t.prompt()
        t.run("'still here'")
        t.expect("'still here'")
    finally:
        t.close()


@pytest.fixture()
def outside_kernel(kernel_name: str) -> Iterator[KernelManager]:
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel()
    try:
        yield km
    finally:
        km.shutdown_kernel(now=True)


def test_exit_keeps_attached_kernel(outside_kernel: KernelManager) -> None:
    t = Term("--existing", outside_kernel.connection_file, "--no-confirm-exit")
    t.prompt()
    t.run("kept = 41 + 1")
    t.prompt()
    t.send(CTRL_D)
    assert t.wait_exit() == 0
    assert outside_kernel.is_alive()
    kc = outside_kernel.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=20)
        reply = kc.execute_interactive("print(kept)", timeout=20, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()


def test_unknown_kernelspec_is_one_line_exit_2() -> None:
    """Said before any prompt is drawn: the screen holds the one line and nothing else."""
    t = Term("--kernel", "no-such-kernel-zz")
    t.expect("no kernel named 'no-such-kernel-zz'")
    assert t.wait_exit() == 2
    screen = plain(t.raw).strip()
    assert "In [" not in screen and len(screen.splitlines()) == 1, screen
    assert screen.startswith("mycon: no kernel named 'no-such-kernel-zz'"), screen


def _silent_connection_file(tmp_path: os.PathLike[str]) -> str:
    """A connection file whose ports nobody listens on."""
    ports = []
    for _ in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    info = dict(zip(["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"], ports, strict=True))
    info.update(transport="tcp", ip="127.0.0.1", key="k", signature_scheme="hmac-sha256")
    path = os.path.join(str(tmp_path), "silent.json")
    with open(path, "w") as f:
        json.dump(info, f)
    return path


def test_silent_kernel_exit_1(tmp_path: os.PathLike[str]) -> None:
    path = _silent_connection_file(tmp_path)
    t = Term("--existing", path, "--kernel-timeout", "1")
    t.expect("did not answer within 1 s")
    assert t.wait_exit() == 1
    assert "Traceback" not in t.raw


def test_kernel_death_is_reported_and_the_kernel_restarted(kernel_name: str) -> None:
    """A cell that kills the kernel we own: said in words, the kernel restarted, we go on."""
    t = Term("--kernel", kernel_name, "--no-confirm-exit")
    t.expect("To attach another terminal")
    t.prompt()
    t.run("import os; os._exit(1)")
    t.expect("restarting it")
    t.expect("(kernel restarted)")
    t.prompt()
    t.run("print(6 * 7)")
    t.expect("42")
    assert "Traceback" not in t.raw
    t.send("\x04")
    assert t.wait_exit() == 0


def test_exit_command_payload_leaves(kernel_name: str) -> None:
    """``exit`` in the kernel asks the console to leave (ask_exit payload)."""
    t = Term("--kernel", kernel_name)
    t.expect("To attach another terminal")
    t.prompt()
    t.run("exit")
    assert t.wait_exit() == 0


def test_set_next_input_prefills_prompt(kernel_name: str) -> None:
    t = Term("--kernel", kernel_name, "--no-confirm-exit")
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("get_ipython().set_next_input('40 + 2')")
        t.prompt()
        t.expect("40 + 2")
        t.send(ENTER)
        t.expect(re.compile(r"Out\[\d+\]: 42"))
    finally:
        t.close()


def test_ctrl_c_drops_cell_held_for_a_silent_kernel(tmp_path: os.PathLike[str]) -> None:
    path = _silent_connection_file(tmp_path)
    t = Term("--existing", path, "--kernel-timeout", "60", "--no-confirm-exit")
    t.expect("In [1]: ")
    t.run("1 + 1")  # held: the kernel never becomes ready
    t.expect("waiting for the kernel to start")
    t.send(CTRL_C)
    t.expect("not run: the kernel is still starting")
    t.prompt()
    t.send(CTRL_D)
    assert t.wait_exit() == 0


def test_no_color_flag(kernel_name: str) -> None:
    t = Term("--kernel", kernel_name, "--no-color", "--no-confirm-exit")
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("import sys; print('plain-' + 'err', file=sys.stderr)")
        t.expect("plain-err")
        t.prompt()
        assert "\x1b[31mplain-err" not in t.raw and "\x1b[0;32mIn [" not in t.raw
    finally:
        t.close()


def test_edit_magic_opens_editor(kernel_name: str, tmp_path: os.PathLike[str]) -> None:
    target = os.path.join(str(tmp_path), "zz_edit.py")
    with open(target, "w") as f:
        f.write("zzfoo")
    editor = "sed -i s/zzfoo/6*7/"
    t = Term("--kernel", kernel_name, "--no-confirm-exit", env={"EDITOR": editor, "VISUAL": editor})
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run(f"%edit {target}")  # edit_magic payload: $EDITOR, then the file is the next input
        t.prompt()
        t.expect("6*7")
        t.send(ENTER)
        t.expect(re.compile(r"Out\[\d+\]: 42"))
    finally:
        t.close()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_terminated_console_shuts_owned_kernel_down(kernel_name: str, signame: str) -> None:
    import signal

    t = Term("--kernel", kernel_name)
    path = _connection_file_of(t)
    t.prompt()
    t.child.kill(getattr(signal, signame))
    t.wait_exit()
    assert not os.path.exists(path)
    assert not _kernel_processes(path)


def test_ctrl_c_interrupts_attached_kernel(outside_kernel: KernelManager) -> None:
    """A kernel we did not start is interrupted with interrupt_request on control."""
    t = Term("--existing", outside_kernel.connection_file, "--no-confirm-exit")
    try:
        t.prompt()
        t.run("import time; print('sleep' + 'ing', flush=True); time.sleep(60)")
        t.expect("sleeping")
        t.send("\x03")
        t.expect("KeyboardInterrupt")
        t.prompt()
        t.send(CTRL_D)
        assert t.wait_exit() == 0
        assert outside_kernel.is_alive()
    finally:
        t.close()


def test_attach_to_busy_kernel_is_ready_at_once(outside_kernel: KernelManager) -> None:
    """kernel_info is also asked on control, which a kernel answers while shell is busy."""
    kc = outside_kernel.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=20)
        kc.execute("import time; time.sleep(30)")
        t = Term("--existing", outside_kernel.connection_file, "--no-confirm-exit")
        try:
            t.expect("To attach another terminal", timeout=10)
            t.prompt()
            t.send(CTRL_D)
            assert t.wait_exit() == 0
        finally:
            t.close()
    finally:
        outside_kernel.interrupt_kernel()
        kc.stop_channels()


@contextmanager
def console_with_config(tmp_path: Path, config: str) -> Iterator[Term]:
    """A console on our kernel reading ``config`` as its config file, banner shown."""
    need_kernel("mycon")
    cfg = tmp_path / "config.toml"
    cfg.write_text(config)
    t = Term("--config", str(cfg), "--kernel", "mycon", "--no-confirm-exit")
    try:
        t.expect("To attach another terminal")
        yield t
    finally:
        t.close()


def test_prompts_from_the_config_file(tmp_path: Path) -> None:
    """in_prompt / continuation_prompt / out_prompt in config.toml shape every prompt."""
    with console_with_config(tmp_path, 'in_prompt = "py{n}> "\ncontinuation_prompt = "  | "\nout_prompt = "= "\n') as t:
        t.expect("py1> ")
        t.run("6 * 7")
        t.expect("= 42")
        t.expect("py2> ")
        t.send("for zzi in range(2):" + ENTER)
        t.expect("  | ")  # the continuation prompt
        t.send("print('zz', zzi)" + ENTER + ENTER)
        t.expect("zz 1")
        t.expect("py3> ")
        assert "In [" not in plain(t.raw) and "Out[" not in plain(t.raw)


def test_keys_from_the_config_file(tmp_path: Path) -> None:
    """[keys] gives actions other keys: here F6 inserts a newline and F5 runs the cell."""
    with console_with_config(tmp_path, '[keys]\nrun = "f5"\nnewline = "f6"\n') as t:
        t.prompt()
        t.send("zzx = 40" + F6 + "print('zz' + 'ran', zzx + 2)" + F5)
        t.expect("zzran 42")  # both lines ran, as one cell
        t.expect("In [2]: ")


def test_a_block_typed_before_the_kernel_is_ready_stays_one_cell() -> None:
    """Keys typed from the first instant: with no kernel to ask yet, an indented line keeps the
    block open (it once ran the half-typed function as a cell of its own)."""
    need_kernel("mycon")
    t = Term("--kernel", "mycon", "--no-confirm-exit")
    try:
        t.send("def zzf(x):" + ENTER + "y = x + 1" + ENTER + "return y * 2" + ENTER + ENTER)
        t.expect("To attach another terminal")
        t.expect("In [2]: ")
        t.run("zzf(20)")
        t.expect("Out[2]: 42")
    finally:
        t.close()


def _runtime_files(runtime: Path) -> list[str]:
    return sorted(p.name for p in runtime.glob("kernel-*.json"))


def test_the_kernel_starts_before_the_prompt(kernel_name: str, tmp_path: Path) -> None:
    """The kernel is launched before the console's UI is imported: when the first prompt shows,
    its connection file is written and its process runs (it boots while the console loads)."""
    t = Term("--kernel", kernel_name, "--no-confirm-exit", env={"JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        t.expect("In [1]: ")
        files = _runtime_files(tmp_path)
        assert len(files) == 1, files
        assert _kernel_processes(str(tmp_path / files[0]))
        t.run("print(6 * 7)")
        t.expect(re.compile(r"^42$", re.M))
        t.prompt()
        t.send(CTRL_D)
        assert t.wait_exit() == 0
        assert _runtime_files(tmp_path) == []
        assert not _kernel_processes(str(tmp_path / files[0]))
    finally:
        t.close()


def test_leaving_at_the_first_prompt_leaves_no_kernel(kernel_name: str, tmp_path: Path) -> None:
    """Ctrl-D the instant the prompt shows (the kernel launched early, maybe not yet handed to
    jupyter_client's manager): the kernel is ended and its connection file removed."""
    for _ in range(3):
        runtime = tmp_path / f"run{_}"
        t = Term("--kernel", kernel_name, "--no-confirm-exit", env={"JUPYTER_RUNTIME_DIR": str(runtime)})
        try:
            t.expect("In [1]: ")
            files = _runtime_files(runtime)
            t.send(CTRL_D)
            assert t.wait_exit() == 0
            assert _runtime_files(runtime) == []
            for name in files:
                assert not _kernel_processes(str(runtime / name))
        finally:
            t.close()


@pytest.mark.parametrize(
    "args",
    [["--kernel", "no-such-kernel-zz"], ["--kernel-timeout", "0"], ["--cluster", "0"], ["--existing", "/no/such.json"]],
)
def test_a_mistake_starts_no_kernel(args: list[str], tmp_path: Path) -> None:
    """A wrong flag or kernel name: one line, and no kernel launched (none to leave behind)."""
    t = Term(*args, env={"JUPYTER_RUNTIME_DIR": str(tmp_path)})
    assert t.wait_exit() == 2
    screen = plain(t.raw).strip()
    assert len(screen.splitlines()) == 1 and "Traceback" not in screen, screen
    assert _runtime_files(tmp_path) == []
