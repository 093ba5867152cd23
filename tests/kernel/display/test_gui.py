"""``%gui tk`` and ``%matplotlib tk`` over the wire, under a virtual X server (Xvfb): between
requests the kernel runs Tk's event loop, so windows respond, and it still answers at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from kernel_harness import execute, running_kernel, stdout_of

TICKING_WINDOW = """\
import tkinter
window = tkinter.Tk()
ticks = [0]
def tick():
    ticks[0] += 1
    window.after(20, tick)
window.after(20, tick)
"""


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A virtual X display for the kernels of this module (``DISPLAY`` set meanwhile)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
    pytest.importorskip("tkinter", reason="tkinter is not available (apt-get install python3-tk)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp"],
                              pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read_end, 16)
        if not chunk:
            break
        number += chunk
    os.close(read_end)
    if not number.strip():
        server.kill()
        pytest.fail("Xvfb did not report its display number")
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number.decode().strip()}"
    try:
        yield os.environ["DISPLAY"]
    finally:
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
        server.terminate()
        server.wait(timeout=10)


def ticks_after_a_pause(kc: object) -> int:
    execute(kc, "before = ticks[0]")  # type: ignore[arg-type]
    time.sleep(1.0)  # the kernel is idle meanwhile: only its GUI loop can run the window's timer
    _reply, outputs = execute(kc, "print(ticks[0] - before)")  # type: ignore[arg-type]
    return int(stdout_of(outputs))


def test_tk_window_runs_between_cells_with_gui_tk(x_display: str) -> None:
    with running_kernel() as (_km, kc):
        reply, _ = execute(kc, "%gui tk")
        assert reply["content"]["status"] == "ok", reply["content"]
        execute(kc, TICKING_WINDOW)
        assert ticks_after_a_pause(kc) >= 5
        # the kernel answers at once while the loop runs
        started = time.monotonic()
        execute(kc, "pass")
        assert time.monotonic() - started < 2
        # %gui alone stops the loop: the window no longer ticks between cells
        execute(kc, "%gui")
        assert ticks_after_a_pause(kc) <= 1


def test_matplotlib_tk_draws_in_a_window_that_responds(x_display: str) -> None:
    pytest.importorskip("matplotlib")
    with running_kernel() as (_km, kc):
        reply, _ = execute(kc, "%matplotlib tk")
        assert reply["content"]["status"] == "ok", reply["content"]
        reply, outputs = execute(kc, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nprint(plt.get_backend())")
        assert reply["content"]["status"] == "ok", reply["content"]
        assert stdout_of(outputs).strip().lower() == "tkagg"
        assert not [out for out in outputs if out["msg_type"] == "display_data"]  # a window, not a PNG
        execute(kc, "window = plt.gcf().canvas.get_tk_widget().winfo_toplevel()\n" + TICKING_WINDOW.split("\n", 2)[2])
        assert ticks_after_a_pause(kc) >= 3  # (without a loop: none)


def test_gui_names_a_missing_or_unknown_toolkit_in_one_line() -> None:
    with running_kernel() as (_km, kc):
        reply, _ = execute(kc, "%gui wx")
        assert reply["content"]["evalue"] == "%gui wx: this kernel integrates tk and qt only"
        reply, _ = execute(kc, "%gui nosuch")
        assert "unknown toolkit 'nosuch'" in reply["content"]["evalue"]
        try:
            import PyQt6  # noqa: F401
        except ImportError:
            reply, _ = execute(kc, "%gui qt")
            if reply["content"]["status"] == "error":
                assert "no Qt binding is installed" in reply["content"]["evalue"]


def test_qtconsole_without_a_terminal_says_how_to_attach() -> None:
    env = {"TMUX": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    with running_kernel(env={**os.environ, **env}) as (_km, kc):
        reply, outputs = execute(kc, "%qtconsole")
        assert reply["content"]["status"] == "ok", reply["content"]
        text = stdout_of(outputs)
        assert text.startswith("No terminal can be opened from here; attach a console with: mycon --existing ")
        assert text.count("\n") == 1


def test_qtconsole_inside_tmux_opens_a_console_on_this_kernel_in_a_new_window(tmp_path: object) -> None:
    if shutil.which("tmux") is None or shutil.which("mycon") is None:
        pytest.skip("needs tmux and the mycon script on PATH")
    server = f"mycon-qtconsole-{os.getpid()}"
    subprocess.run(["tmux", "-L", server, "-f", os.devnull, "new-session", "-d", "-s", "main", "-x", "100", "-y", "30"], check=True)
    try:
        socket_path = subprocess.run(["tmux", "-L", server, "display-message", "-p", "#{socket_path}"],
                                     capture_output=True, text=True, check=True).stdout.strip()
        env = {**os.environ, "TMUX": f"{socket_path},0,0"}
        with running_kernel(env=env) as (_km, kc):
            reply, outputs = execute(kc, "%qtconsole")
            assert reply["content"]["status"] == "ok", reply["content"]
            assert stdout_of(outputs) == "Opened a console on this kernel (tmux).\n"
            screen = ""
            deadline = time.monotonic() + 20
            while "In [" not in screen and time.monotonic() < deadline:
                time.sleep(0.2)
                screen = subprocess.run(["tmux", "-L", server, "capture-pane", "-p", "-t", "main:1"],
                                        capture_output=True, text=True).stdout
            assert "In [" in screen, screen
            # the new console runs code in this kernel
            execute(kc, "shared_name = 'from the first client'")
            subprocess.run(["tmux", "-L", server, "send-keys", "-t", "main:1", "shared_name", "Enter"], check=True)
            while "from the first client" not in screen and time.monotonic() < deadline + 10:
                time.sleep(0.2)
                screen = subprocess.run(["tmux", "-L", server, "capture-pane", "-p", "-t", "main:1"],
                                        capture_output=True, text=True).stdout
            assert "'from the first client'" in screen, screen
    finally:
        # our own server (its own socket): ending its sessions ends it
        subprocess.run(["tmux", "-L", server, "kill-session", "-t", "main"], capture_output=True)


@pytest.mark.parametrize("kernel_name", ["mycon", "python3"])
def test_matplotlib_notebook_opens_the_figure_comm(kernel_name: str) -> None:
    pytest.importorskip("matplotlib")
    with running_kernel(kernel_name) as (_km, kc):
        reply, _ = execute(kc, "%matplotlib notebook")
        assert reply["content"]["status"] == "ok", reply["content"]
        _reply, outputs = execute(kc, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
        opened = [out["content"] for out in outputs if out["msg_type"] == "comm_open"]
        assert [content["target_name"] for content in opened] == ["matplotlib"]
        assert any(out["msg_type"] == "comm_msg" for out in outputs)


def test_asyncio_tasks_and_tk_windows_both_run_between_cells(x_display: str) -> None:
    with running_kernel() as (_km, kc):
        execute(kc, "%gui tk")
        execute(kc, TICKING_WINDOW)
        execute(kc, "import asyncio\nbeats = [0]\nasync def beat():\n    while True:\n"
                    "        beats[0] += 1\n        await asyncio.sleep(0.02)\n"
                    "task = asyncio.get_event_loop().create_task(beat())")
        execute(kc, "before = ticks[0], beats[0]")
        time.sleep(1.0)
        _reply, outputs = execute(kc, "print(ticks[0] - before[0], beats[0] - before[1])")
        ticks, beats = map(int, stdout_of(outputs).split())
        assert ticks >= 5 and beats >= 5, (ticks, beats)
