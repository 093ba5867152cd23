"""``mycon kernel``: a headless kernel that prints how to attach and cleans up after itself."""

from __future__ import annotations

import os
import signal
import stat

import pytest
from multi_support import client_for


@pytest.mark.parametrize(
    ("kernel_name", "signum"), [("mycon", signal.SIGTERM), ("python3", signal.SIGINT)]
)
def test_kernel_prints_attach_command_and_cleans_up(headless, mycon, runtime, gone, kernel_name, signum):
    kernel = headless(kernel_name)
    path = kernel.connection_file
    assert os.path.dirname(path) == str(runtime)
    assert os.path.basename(path).startswith("kernel-") and path.endswith(".json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # the exact command it printed attaches (a bare name is looked up in the runtime dir)
    assert kernel.attach == f"mycon --existing {os.path.basename(path)}"
    done = mycon("exec", "--existing", kernel.attach.split()[-1], "print(6 * 7)")
    assert (done.returncode, done.stdout, done.stderr) == (0, "42\n", "")
    listed = mycon("list")
    assert f"alive   {kernel_name}" in listed.stdout
    assert kernel.stop(signum) == 0
    out = kernel.out.rest()
    assert "Kernel shut down." in out
    assert not os.path.exists(path)
    assert kernel.pid and gone(kernel.pid)


def test_kernel_says_whether_it_is_encrypted(headless, mycon):
    """Plain signed TCP by default (any Jupyter client attaches); CurveZMQ with --encryption,
    which only clients reading the keys from the connection file can use: it says so."""
    import json

    plain = headless("mycon")
    assert "The connection is not encrypted (messages signed): any Jupyter client can attach.\n" in plain.out.seen
    with open(plain.connection_file) as f:
        assert "curve_publickey" not in json.load(f)
    encrypted = headless("mycon", "--encryption")
    assert any(line.startswith("The connection is encrypted (CurveZMQ)") and "jupyter console and qtconsole cannot" in line
               for line in encrypted.out.seen)
    with open(encrypted.connection_file) as f:
        assert json.load(f).get("curve_publickey")
    done = mycon("exec", "--existing", encrypted.connection_file, "print(6 * 7)")
    assert (done.returncode, done.stdout, done.stderr) == (0, "42\n", "")


def test_kernel_that_dies_is_reported(headless, mycon):
    kernel = headless("mycon")
    done = mycon("exec", "import os; os._exit(3)")
    assert done.returncode == 1
    assert "heartbeat" in done.stderr and "Traceback" not in done.stderr
    assert kernel.process.wait(timeout=30) == 1
    assert "the kernel exited with status 3" in kernel.err.rest()
    assert not os.path.exists(kernel.connection_file)


def test_kernel_shut_down_by_a_client(headless):
    kernel = headless("mycon")
    with client_for(kernel.connection_file) as client:
        client.shutdown()
        assert client.control_channel.get_msg(timeout=30)["content"]["status"] == "ok"
    assert kernel.process.wait(timeout=30) == 0
    assert "shut down by a client" in kernel.out.rest()
    assert not os.path.exists(kernel.connection_file)


def test_unknown_kernelspec_is_one_line(mycon, runtime):
    done = mycon("kernel", "--kernel", "no-such-kernel")
    assert done.returncode == 2
    assert done.stderr == "mycon: no kernel named 'no-such-kernel' (see `jupyter kernelspec list`)\n"
    assert list(runtime.iterdir()) == []


def test_kernel_killed_by_a_signal_is_reported(headless, mycon):
    kernel = headless("mycon")
    os.kill(kernel.pid, signal.SIGKILL)
    assert kernel.process.wait(timeout=30) == 1
    assert kernel.err.rest() == "mycon: the kernel was killed by signal 9\n"
    assert not os.path.exists(kernel.connection_file)
    listed = mycon("list")
    assert listed.stdout.startswith("No kernel connection files")


def test_kernelspec_in_the_ipython_folder_is_found(headless, mycon):
    """Kernelspecs in ``$IPYTHONDIR/kernels`` count, as in jupyter_client (found without
    importing IPython)."""
    import json
    import shutil

    from jupyter_client.kernelspec import KernelSpecManager

    ours = KernelSpecManager().get_kernel_spec("mycon")
    folder = os.path.join(os.environ["IPYTHONDIR"], "kernels", "zz-via-ipython-dir")
    os.makedirs(folder)
    try:
        with open(os.path.join(folder, "kernel.json"), "w") as f:
            json.dump(dict(ours.to_dict(), display_name="zz via IPython's folder"), f)
        kernel = headless("zz-via-ipython-dir")
        done = mycon("exec", "--existing", kernel.connection_file, "print(6 * 7)")
        assert (done.returncode, done.stdout) == (0, "42\n")
        assert kernel.stop(signal.SIGTERM) == 0
    finally:
        shutil.rmtree(folder)
