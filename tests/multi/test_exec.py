"""``mycon exec``: code from the shell or an editor, run in a live kernel, output as it comes."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from multi_support import MYCON, Lines, client_for, headless_kernel

KERNELS = ["mycon", "python3"]


@pytest.fixture(scope="module", params=KERNELS)
def kernel(request, tmp_path_factory):
    """One headless kernel per kernelspec for the module, alone in its runtime directory."""
    runtime = tmp_path_factory.mktemp("runtime")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
        with headless_kernel(request.param) as started:
            yield started


def test_streams_results_and_status(kernel, mycon):
    code = "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7"
    done = mycon("exec", code)  # no --existing: the newest (only) kernel
    assert done.returncode == 0
    assert done.stdout == "out\n42\n"
    assert done.stderr == "err\n"


def test_error_goes_to_stderr_with_status_1(kernel, mycon):
    done = mycon("exec", "--existing", kernel.connection_file, "print('before')\n1/0")
    assert done.returncode == 1
    assert done.stdout == "before\n"
    assert "ZeroDivisionError" in done.stderr and "division by zero" in done.stderr
    assert "\x1b[" not in done.stderr  # not a terminal: no colour codes
    assert "mycon" not in done.stderr  # the kernel's traceback, not one of ours


def test_code_from_stdin_and_shared_namespace(kernel, mycon):
    assert mycon("exec", "-", stdin="shared = 'from stdin'\n").returncode == 0
    done = mycon("exec", "print(shared)")
    assert (done.returncode, done.stdout) == (0, "from stdin\n")


def test_output_arrives_while_the_code_runs(kernel, tmp_path):
    """The first line is printed before the cell ends: the cell waits for the test to see it."""
    flag = tmp_path / "go"
    code = (
        "import os, time\nprint('first', flush=True)\n"
        f"while not os.path.exists({str(flag)!r}):\n    time.sleep(0.01)\nprint('second')"
    )
    process = subprocess.Popen([MYCON, "exec", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Lines(process.stdout)
    try:
        assert out.until(lambda line: True) == "first\n"
        flag.touch()
        assert out.until(lambda line: True) == "second\n"
        assert process.wait(timeout=30) == 0
    finally:
        flag.touch()
        process.wait(timeout=30)


def test_ctrl_c_interrupts_the_kernel(kernel, mycon, tmp_path):
    code = "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.01)"
    process = subprocess.Popen([MYCON, "exec", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = Lines(process.stdout), Lines(process.stderr)
    out.until(lambda line: "started" in line)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 1
    text = err.rest()
    assert "interrupting the kernel" in text
    assert "KeyboardInterrupt" in text
    # the kernel is still there and serving
    done = mycon("exec", "print('still here')")
    assert (done.returncode, done.stdout) == (0, "still here\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "mycon: mycon exec needs code to run: an argument, or - to read it from stdin\n"),
        (("--timeout", "0", "1"), "mycon: --timeout must be a positive number of seconds\n"),
        (("--run-timeout", "-1", "1"), "mycon: --run-timeout must be a positive number of seconds\n"),
        (("--ssh-key", "k", "1"), "mycon: --ssh-key goes with --ssh\n"),
        (("--ssh", "host:notaport", "1"), None),
    ],
)
def test_usage_mistakes_are_one_line(mycon, runtime, args, message):
    (runtime / "kernel-x.json").write_text('{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, '
                                           '"control_port": 4, "hb_port": 5, "ip": "127.0.0.1", "key": "k"}')
    done = mycon("exec", *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    if message is not None:
        assert done.stderr == message
    else:
        assert "the port after ':' must be a number" in done.stderr


def test_existing_by_a_unique_prefix_of_the_kernel_id(kernel, mycon):
    """``--existing 5c4d``: a unique prefix of a local kernel's id names it; an ambiguous one
    gets one line naming the candidates, from ``mycon exec`` and from the console alike."""
    path = Path(kernel.connection_file)
    kernel_id = path.name[len("kernel-") : -len(".json")]
    prefix = kernel_id[:6]
    done = mycon("exec", "--existing", prefix, "print(6 * 7)")
    assert (done.returncode, done.stdout, done.stderr) == (0, "42\n", "")
    twin = path.with_name(f"kernel-{prefix}zz.json")  # a second id with the same start
    twin.write_text(path.read_text())
    try:
        ids = ", ".join(sorted([kernel_id, f"{prefix}zz"]))
        for args in (("exec", "--existing", prefix, "1"), ("--existing", prefix)):
            done = mycon(*args)
            assert (done.returncode, done.stderr) == (2, f"mycon: kernel id '{prefix}' is ambiguous: it starts {ids}; give more of it\n")
        done = mycon("exec", "--existing", kernel_id[:8], "print(6 * 7)")  # longer: unique again
        assert (done.returncode, done.stdout) == (0, "42\n")
    finally:
        twin.unlink()


def test_missing_and_bad_connection_files(mycon, runtime, tmp_path):
    done = mycon("exec", "1")
    assert (done.returncode, done.stderr) == (2, f"mycon: no kernel connection files in {runtime}; start a kernel first\n")
    done = mycon("exec", "--existing", "nope", "1")
    assert done.returncode == 2 and done.stderr.startswith("mycon: connection file not found: nope")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    done = mycon("exec", "--existing", str(bad), "1")
    assert (done.returncode, done.stderr) == (2, f"mycon: connection file {bad} is not valid JSON\n")


def test_kernel_that_does_not_answer(mycon, runtime):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    path = runtime / "kernel-gone.json"
    path.write_text(
        f'{{"shell_port": {port}, "iopub_port": {port}, "stdin_port": {port}, "control_port": {port}, '
        f'"hb_port": {port}, "ip": "127.0.0.1", "key": "k", "transport": "tcp"}}'
    )
    done = mycon("exec", "--timeout", "0.5", "1")
    assert done.returncode == 1
    assert done.stderr == "mycon: the kernel did not answer within 0.5 s (is it still running? `mycon list` checks)\n"


def test_existing_given_to_the_group_is_used(kernel, mycon):
    # newer than the kernel's file, and dead: the newest-file rule must not pick it
    other = Path(os.environ["JUPYTER_RUNTIME_DIR"]) / "kernel-newer.json"
    other.write_text('{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, '
                     '"hb_port": 5, "ip": "127.0.0.1", "key": "k"}')
    try:
        name = os.path.basename(kernel.connection_file)
        done = mycon("--existing", name, "exec", "print('via the group')")
        assert (done.returncode, done.stdout) == (0, "via the group\n")
    finally:
        other.unlink()


def test_other_clients_see_what_exec_runs(kernel, mycon):
    """The editor use case: a console attached to the kernel shows exec's input and output."""
    from jupyter_client.blocking.client import BlockingKernelClient

    watcher = BlockingKernelClient()
    watcher.load_connection_file(kernel.connection_file)
    watcher.start_channels()
    try:
        watcher.wait_for_ready(timeout=30)
        code = "print('seen by all')"
        assert mycon("exec", code).returncode == 0
        cell, text = None, ""
        while True:  # that cell's messages, from its execute_input to its idle
            msg = watcher.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "execute_input":
                assert msg["content"]["code"] == code
                cell = msg["parent_header"]["msg_id"]
            elif cell is not None and msg["parent_header"].get("msg_id") == cell:
                if msg["msg_type"] == "stream":
                    text += msg["content"]["text"]  # a kernel may split a print in two messages
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
        assert text == "seen by all\n"
    finally:
        watcher.stop_channels()


def test_input_reads_piped_stdin(kernel, mycon, request):
    done = mycon("exec", "print('hi', input('zzname? '))\nprint(input('zzcity? '))", stdin="Ada\nOslo\n")
    assert (done.returncode, done.stderr) == (0, "")
    if request.node.callspec.params["kernel"] == "mycon":
        # the second prompt waits for the output printed before it (announced on iopub)
        assert done.stdout == "zzname? hi Ada\nzzcity? Oslo\n"
    else:  # ipykernel gives no sign: the order of output and prompt is best effort
        assert sorted(done.stdout.replace("? ", "?\n").splitlines()) == ["Oslo", "hi Ada", "zzcity?", "zzname?"]


def test_input_at_the_end_of_stdin_is_end_of_file(kernel, mycon):
    done = mycon("exec", "try:\n    input('zzmore? ')\nexcept EOFError:\n    print('zz' + 'eof')", stdin="")
    assert (done.returncode, done.stdout) == (0, "zzmore? zzeof\n")


def test_input_with_code_from_stdin_is_refused_by_the_kernel(kernel, mycon):
    done = mycon("exec", "-", stdin="input('zzno? ')\n")
    assert done.returncode == 1
    assert "StdinNotImplementedError" in done.stderr


def test_exec_behind_another_clients_input_says_why_it_waits(headless):
    """Our kernel waits for a console's input(): exec still connects (kernel_info on control),
    says what it waits for, and runs once the input is answered."""
    kernel = headless("mycon")
    with client_for(kernel.connection_file) as client:
        msg_id = client.execute("zzanswer = input('zzwho? ')", allow_stdin=True)
        assert client.get_stdin_msg(timeout=30)["content"]["prompt"] == "zzwho? "
        process = subprocess.Popen([MYCON, "exec", "--existing", kernel.connection_file,
                                    "print('zz' + 'queued', zzanswer)"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = Lines(process.stdout), Lines(process.stderr)
        try:
            line = err.until(lambda line: "waits for another client's input" in line)
            assert "'zzwho?'" in line
            client.input("Ada")
            assert out.until(lambda line: True) == "zzqueued Ada\n"
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        assert client.get_shell_msg(timeout=30)["parent_header"]["msg_id"] == msg_id
