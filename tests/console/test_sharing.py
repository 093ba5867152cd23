"""Many consoles, one kernel (issue 5): two real mycon processes in pseudo-terminals, one
owning the kernel and one attached with --existing, each seeing the other's work live."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from term import CTRL_C, CTRL_D, ENTER, JUPYTER, MYCON, Term, need_kernel, plain

from console.connection_files import resolve_connection_file

pytestmark = pytest.mark.timeout(120)



@contextmanager
def two_consoles(tmp_path: os.PathLike[str], kernel: str) -> Iterator[tuple[Term, Term, str]]:
    """(owner, attached, connection file): a console on a fresh kernel and a second one
    attached to it, both at their prompt."""
    if kernel == "mycon":
        need_kernel(kernel)
    cf = os.path.join(str(tmp_path), "kernel-pair.json")
    owner = Term("--kernel", kernel, "-f", cf)
    attached: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.prompt()
        attached = Term("--existing", cf)
        attached.expect("To attach another terminal")
        attached.prompt()
        yield owner, attached, cf
    finally:
        if attached is not None:
            attached.close()
        owner.close()


@pytest.fixture(params=["python3", "mycon"])
def pair(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[tuple[Term, Term, str]]:
    """(owner, attached, connection file) on a fresh kernel of each kind."""
    with two_consoles(tmp_path, str(request.param)) as consoles:
        yield consoles


def test_each_sees_the_other_live_and_prompts_keep_step(pair: tuple[Term, Term, str]) -> None:
    owner, attached, _ = pair
    attached.send("print('zz' + 'typed')")  # being typed while the other client works
    owner.run("print('zz' + 'from owner'); 6 * 7")
    attached.expect("[client 1] In [1]: print('zz' + 'from owner'); 6 * 7")
    attached.expect("zzfrom owner")
    attached.expect("Out[1]: 42")
    attached.send(ENTER)  # what was typed is intact and runs as the kernel's cell 2
    attached.expect("zztyped")
    assert attached.prompt() == 3
    owner.expect("[client 1] In [2]: print('zz' + 'typed')")
    owner.expect("zztyped")
    owner.run("1 / 0")
    attached.expect("ZeroDivisionError")
    assert attached.prompt() == 4  # after the other's cell 3, our next is 4


def test_ctrl_c_in_attached_console_interrupts(pair: tuple[Term, Term, str]) -> None:
    owner, attached, _ = pair
    attached.run("import time; print('zz' + 'sleeping', flush=True); time.sleep(60)")
    attached.expect("zzsleeping")
    owner.expect("zzsleeping")
    attached.send(CTRL_C)
    attached.expect("KeyboardInterrupt")
    owner.expect("KeyboardInterrupt")
    attached.prompt()


def test_exec_output_appears_in_both(pair: tuple[Term, Term, str]) -> None:
    owner, attached, cf = pair
    done = subprocess.run(
        [MYCON, "exec", "--existing", cf, "print('zz' + 'from exec')"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "zzfrom exec" in done.stdout
    for t in (owner, attached):
        t.expect(re.compile(r"\[client \d\] In \[1\]: print\('zz' \+ 'from exec'\)"))
        t.expect("zzfrom exec")
    # exec's iopub subscription made the kernel greet it, and every subscriber sees a greeting:
    # the attached console must not take that for a new kernel process
    attached.run("print('zz' + 'after')")
    attached.expect("zzafter")
    assert "restarted" not in plain(attached.raw)


def test_restart_seen_by_the_other_console(pair: tuple[Term, Term, str]) -> None:
    owner, attached, _ = pair
    attached.run("%mycon  restart")  # words, not spacing, make the command
    attached.expect("(only the console that started the kernel can restart it)")
    attached.prompt()
    owner.run("%mycon restart")
    owner.expect("Restart the kernel?")
    owner.send("y" + ENTER)
    owner.expect("(kernel restarted)")
    attached.expect("(client 1 is restarting the kernel: its variables are lost)")  # who did it
    attached.send(ENTER)
    assert attached.prompt() == 1


def test_jupyter_console_attaches_to_a_default_kernel(tmp_path: os.PathLike[str]) -> None:
    """The real `jupyter console --existing` on the kernel a plain `mycon` started: it builds
    its client from the ports alone (no Curve keys), so the default must be plain signed TCP."""
    need_kernel("mycon")
    cf = os.path.join(str(tmp_path), "kernel-default.json")
    owner = Term("-f", cf)
    other: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.expect("(not encrypted: any Jupyter client can attach)")
        owner.prompt()
        with open(cf) as f:
            assert "curve_publickey" not in json.load(f)
        other = Term("console", "--existing", cf, program=JUPYTER)
        other.prompt()
        other.run("print('zz' + 'from jupyter console'); 6 * 7")
        other.expect("zzfrom jupyter console")
        other.expect("Out[1]: 42")
        owner.expect("zzfrom jupyter console")  # one kernel: the owner sees that work live
    finally:
        if other is not None:
            other.child.terminate(force=True)
        owner.close()


def test_attach_by_a_prefix_of_the_kernel_id() -> None:
    """`mycon --existing 5c4d`: the start of a local kernel's id is enough."""
    need_kernel("mycon")
    owner = Term()  # its connection file goes to the runtime directory
    attached: Term | None = None
    try:
        # the banner shows the short form: the first 8 characters, more only when another
        # kernel file shares them
        m = owner.expect(re.compile(r"To attach another terminal: mycon --existing ([0-9a-f-]{8,36}) "))
        assert isinstance(m, re.Match)
        assert len(m.group(1)) < 36
        owner.prompt()
        attached = Term("--existing", m.group(1))
        attached.prompt()
        attached.run("zz = 6 * 7; zz")
        attached.expect("Out[1]: 42")
        owner.expect("[client 1] In [1]: zz = 6 * 7; zz")
    finally:
        if attached is not None:
            attached.close()
        owner.close()


def test_encrypted_kernel_attached(tmp_path: os.PathLike[str]) -> None:
    """--encryption launches our kernel with CurveZMQ; a second console attaches; both say so."""
    need_kernel("mycon")
    cf = os.path.join(str(tmp_path), "kernel-curve.json")
    owner = Term("--kernel", "mycon", "--encryption", "-f", cf)
    attached: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.expect("(encrypted with CurveZMQ: jupyter console and qtconsole cannot attach)")
        owner.prompt()
        with open(cf) as f:
            info = json.load(f)
        assert info.get("curve_publickey") and info.get("curve_secretkey")
        attached = Term("--existing", cf)
        attached.expect("To attach another terminal")
        attached.expect("(encrypted with CurveZMQ")
        attached.prompt()
        attached.run("zz = 6 * 7; zz")
        attached.expect("Out[1]: 42")
        owner.expect("[client 1] In [1]: zz = 6 * 7; zz")
        attached.run("%connect_info")
        attached.expect("Encrypted (CurveZMQ)")
    finally:
        if attached is not None:
            attached.close()
        owner.close()


def test_encryption_for_a_kernel_without_it_is_one_line(tmp_path: os.PathLike[str]) -> None:
    """Asked for encryption, a kernelspec that does not declare CurveZMQ is refused in words
    (never a silently plain connection)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("mycon").to_dict()
    folder = os.path.join(str(tmp_path), "kernels", "zz-no-curve")
    os.makedirs(folder)
    with open(os.path.join(folder, "kernel.json"), "w") as f:
        json.dump(dict(spec, metadata={}), f)
    t = Term("--kernel", "zz-no-curve", "--encryption", env={"JUPYTER_PATH": str(tmp_path)})
    t.expect("kernel 'zz-no-curve' does not support encryption")
    assert t.wait_exit() == 2
    assert "Traceback" not in plain(t.raw)


def test_no_other_output_hides_other_clients(tmp_path: os.PathLike[str]) -> None:
    cf = os.path.join(str(tmp_path), "kernel-quiet.json")
    owner = Term("--kernel", "python3", "-f", cf)
    quiet: Term | None = None
    try:
        owner.expect("To attach another terminal")
        owner.prompt()
        quiet = Term("--existing", cf, "--no-other-output")
        quiet.expect("To attach another terminal")
        quiet.prompt()
        owner.run("print('zz' + 'hidden')")
        owner.expect("zzhidden")
        owner.prompt()
        quiet.run("print('zz' + 'mine')")
        quiet.expect("zzmine")
        quiet.prompt()
        assert "zzhidden" not in quiet.raw and "[client" not in quiet.raw
    finally:
        if quiet is not None:
            quiet.close()
        owner.close()


def test_input_belongs_to_the_console_that_ran_the_cell(pair: tuple[Term, Term, str], request: pytest.FixtureRequest) -> None:
    owner, attached, _ = pair
    ours = request.node.callspec.params["pair"] == "mycon"
    attached.run("zzname = input('zzwho? '); print('zzhello', zzname)")
    attached.expect("zzwho? ")
    owner.expect("[client 1] In [1]: zzname = input(")
    if ours:  # our kernel says on iopub that it waits, and for whom
        owner.expect("[client 1] asked for input: zzwho?  (the kernel waits for their answer)")
    attached.send("bob" + ENTER)
    attached.expect("zzhello bob")
    if ours:
        owner.expect("[client 1] answered")
    owner.expect("zzhello bob")
    owner.prompt()
    assert "zzwho? bob" not in owner.raw  # the owner was never asked
    assert "asked for input" not in attached.raw  # the one asked is not told about itself


def test_others_see_the_wait_for_input_and_queue_behind_it(tmp_path: os.PathLike[str]) -> None:
    """Our kernel's wait for one console's input is shown in the others: a console that runs
    a cell meanwhile is told why it waits, one attaching during the wait is told too, and an
    interrupted password prompt is shown as cancelled."""
    with two_consoles(tmp_path, "mycon") as (owner, asked, cf):
        late: Term | None = None
        try:
            asked.run("zzcity = input('zzcity? ')")
            asked.expect("zzcity? ")
            owner.expect("[client 1] asked for input: zzcity?")
            late = Term("--existing", cf)  # attaches while the kernel waits
            late.expect("[client 1] asked for input: zzcity?")
            owner.run("print('zz' + 'queued')")
            owner.expect("(the kernel waits for input from client 1: this cell runs once it is answered)")
            asked.send("Oslo" + ENTER)
            owner.expect("[client 1] answered")
            owner.expect("zzqueued")
            late.expect("[client 1] answered")
            late.expect("zzqueued")
            assert plain(late.raw).count("asked for input") == 1  # once, though announced again for it
            asked.expect("In [3]: ")  # after its cell 1 the owner's cell 2 ran: the count keeps step
            asked.run("import getpass; zzpw = getpass.getpass('zzpw: ')")
            asked.expect("zzpw: ")
            owner.expect("[client 1] asked for a password: zzpw:")
            asked.send(CTRL_C)
            asked.expect("KeyboardInterrupt")
            owner.expect("[client 1] a password cancelled")
            owner.run("zzcity")
            owner.expect("'Oslo'")
            assert "Oslo" not in re.sub(r"Out\[\d+\]: 'Oslo'", "", plain(owner.raw))  # the answer is not published
        finally:
            if late is not None:
                late.close()


def test_heartbeat_through_curve(tmp_path: os.PathLike[str]) -> None:
    """An attached console pings an encrypted kernel's heartbeat with Curve too: it sees the
    kernel die and, once restarted on the same ports and keys, answer again."""
    need_kernel("mycon")
    import signal

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="mycon", transport_encryption="required")
    km.connection_file = os.path.join(str(tmp_path), "kernel-curve-hb.json")
    km.start_kernel()
    t = Term("--existing", km.connection_file)
    try:
        with open(km.connection_file) as f:
            assert json.load(f).get("curve_publickey")
        t.expect("To attach another terminal")
        t.prompt()
        os.kill(km.provisioner.pid, signal.SIGKILL)  # type: ignore[union-attr]
        t.expect("may be gone")
        km.restart_kernel(now=True)
        t.expect("(the kernel answers again)")
        t.run("6 * 7")
        t.expect("Out[1]: 42")
    finally:
        t.close()
        km.shutdown_kernel(now=True)


def test_a_cell_skipped_after_anothers_error_comes_back(tmp_path: os.PathLike[str]) -> None:
    """stop_on_error: the owner's cell fails while the attached console's cell waits behind
    it; the kernel skips that cell, and the attached console says so and gives it back.
    (Our kernel: its note on the wait for input shows when the attached cell is queued.)"""
    with two_consoles(tmp_path, "mycon") as (owner, attached, _):
        owner.run("zzq = input('zzq? ')")
        owner.expect("zzq? ")
        attached.expect("[client 1] asked for input: zzq?")
        attached.run("print('zz' + 'after')")
        attached.expect("this cell runs once it is answered")
        owner.send(CTRL_C)
        owner.expect("KeyboardInterrupt")
        attached.expect("(not run: the kernel was interrupted before it reached this cell; it is back at the prompt)")
        attached.expect("print('zz' + 'after')")  # redrawn in the input line
        attached.send(ENTER)
        attached.expect("zzafter")
        attached.prompt()


def test_the_owner_leaving_is_told_to_the_attached_console(pair: tuple[Term, Term, str], request: pytest.FixtureRequest) -> None:
    """Leaving asks first when others are attached. Our kernel counts them (and could be left
    running); ipykernel cannot, and stops with the console that started it: the question says
    so and asks only to shut down or stay."""
    owner, attached, _ = pair
    attached.run("zz = 1")  # the owner sees the other client at work
    owner.expect("[client 1] In [1]: zz = 1")
    owner.send(CTRL_D)
    if request.node.callspec.params["pair"] == "mycon":
        owner.expect("1 other client is attached to this kernel. Leave it running [Enter], "
                     "shut it down for everyone (s), or cancel (c)?")
        owner.send("s" + ENTER)
    else:
        owner.expect("Other clients may be attached; the kernel stops with this console. Shut it down for everyone")
        owner.send("y" + ENTER)
    assert owner.wait_exit() == 0
    # from the shutdown_reply on iopub, whose parent header names the sender's session
    attached.expect("(client 1 shut the kernel down: its variables are gone)")
    attached.expect("it may be gone")


def test_leaving_the_owner_cancelled_keeps_everything(pair: tuple[Term, Term, str]) -> None:
    owner, attached, _ = pair
    attached.run("zz = 6")
    owner.expect("[client 1] In [1]: zz = 6")
    owner.send(CTRL_D)
    owner.expect(re.compile(r"\(y/\[n\]\)\?|or cancel \(c\)\?"))
    owner.send("c" + ENTER)
    owner.prompt()
    owner.run("zz * 7")
    owner.expect("42")
    attached.expect("42")


def _sharing_of(cf: str) -> dict[str, object]:
    """Our kernel's own answer to who is attached (kernel_info on control, bounded)."""
    from jupyter_client.blocking.client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_file(cf)
    kc.start_channels(shell=False, iopub=False, stdin=False, hb=False)
    try:
        msg = kc.session.msg("kernel_info_request", {})
        kc.control_channel.send(msg)
        reply = kc.control_channel.get_msg(timeout=10)
        return dict(reply["content"]["mycon_sharing"])
    finally:
        kc.stop_channels()


def test_a_kernel_left_running_outlives_its_console_until_a_client_shuts_it_down(tmp_path: os.PathLike[str]) -> None:
    """The owner leaves its kernel running for two attached consoles (Enter: the default); the
    kernel does not follow it out, is listed by `mycon list`, and the last console to leave is
    asked again and shuts it down."""
    need_kernel("mycon")
    owner = Term("--kernel", "mycon")
    firsts: list[Term] = []
    try:
        m = owner.expect(re.compile(r"To attach another terminal: mycon --existing (\S+)"))
        assert isinstance(m, re.Match)
        name = m.group(1)
        owner.prompt()
        for _ in range(2):
            t = Term("--existing", name)
            t.expect("To attach another terminal")
            t.prompt()
            firsts.append(t)
        first, second = firsts
        cf = resolve_connection_file(name)  # the banner names it by the start of its id
        owner.run("zzkept = 42")
        owner.prompt()
        owner.send(CTRL_D)
        owner.expect("2 other clients are attached to this kernel. Leave it running [Enter]")
        owner.send(ENTER)
        assert owner.wait_exit() == 0
        deadline = time.monotonic() + 10
        while _sharing_of(cf)["left_running"] is not True:  # the kernel saw its starter go
            assert time.monotonic() < deadline, "the kernel never noticed its console left"
            time.sleep(0.2)
        first.run("zzkept")
        first.expect("Out[2]: 42")
        listed = subprocess.run([MYCON, "list"], capture_output=True, text=True, timeout=60)
        assert re.search(rf"alive .*{os.path.basename(cf)}", listed.stdout), listed.stdout
        second.send(CTRL_D)  # another client remains: the usual question
        second.expect("Do you really want to exit")
        second.send("y" + ENTER)
        assert second.wait_exit() == 0
        first.send(CTRL_D)
        first.expect("This is the last client of a kernel its console left running. Leave it running [Enter], "
                     "shut it down for everyone (s)")
        first.send("s" + ENTER)
        first.expect("(the kernel was shut down)")
        assert first.wait_exit() == 0
        deadline = time.monotonic() + 10
        while os.path.exists(cf):  # a kernel left running removes its file itself when shut down
            assert time.monotonic() < deadline, "the connection file outlived the kernel"
            time.sleep(0.1)
    finally:
        for t in firsts:
            t.close()
        owner.close()


def test_shutdown_command_from_an_attached_console(pair: tuple[Term, Term, str]) -> None:
    owner, attached, _ = pair
    attached.run("%mycon")
    attached.expect("%mycon interrupt")
    attached.expect("%mycon shutdown      shut the kernel down for every client")
    attached.run("%mycon shutdown")
    attached.expect("Shut the kernel down for every client?")
    attached.send(ENTER)  # no
    attached.expect("(not shut down)")
    attached.prompt()
    attached.run("%mycon shutdown")
    attached.expect("Shut the kernel down for every client?")
    attached.send("y" + ENTER)
    attached.expect("(the kernel was shut down)")
    assert attached.wait_exit() == 0
    owner.expect("(client 1 shut the kernel down: its variables are gone)")
    owner.expect("restarting it")  # the owner's own kernel: it brings it back
    owner.expect("(kernel restarted)")


def test_interrupting_another_clients_cell(pair: tuple[Term, Term, str]) -> None:
    """Ctrl-C at an idle prompt clears the input and says how to interrupt the cell another
    client runs; interrupting it makes the kernel skip our queued cell, which is said as such
    (not as an error of someone's)."""
    owner, attached, _ = pair
    owner.run("import time; print('zz' + 'long', flush=True); time.sleep(60)")
    attached.expect("zzlong")
    attached.send("draft")
    attached.send(CTRL_C)
    attached.expect("(client 1's cell is running in the kernel: `%mycon interrupt` interrupts it)")
    attached.run("print('zz' + 'queued')")  # waits behind the owner's cell
    attached.expect("(the kernel runs client 1's cell: this one runs after it; Ctrl-C interrupts that cell)")
    attached.send(CTRL_C)  # interrupts the owner's cell: the kernel then skips ours
    owner.expect("KeyboardInterrupt")
    attached.expect("(not run: the kernel was interrupted before it reached this cell; it is back at the prompt)")
    attached.send(CTRL_C)  # clear the cell given back
    owner.prompt()
    owner.run("print('zz' + 'again', flush=True); time.sleep(60)")
    attached.expect("zzagain")
    attached.run("%mycon interrupt")
    attached.expect("(interrupt sent to the kernel)")
    owner.expect("KeyboardInterrupt")
    assert "earlier error" not in plain(attached.raw)



def test_a_console_attached_while_the_kernel_is_busy_learns_its_count_afterwards(tmp_path: os.PathLike[str]) -> None:
    """The attached console asks for history (3 s) and then the counter (3 s): a cell that
    keeps the kernel busy longer makes both wait; the counter's late answer still counts."""
    with two_consoles(tmp_path, "mycon") as (owner, _, cf):
        owner.run("1")
        owner.prompt()
        owner.run("import time; time.sleep(8)")
        late = Term("--existing", cf)
        try:
            late.expect("To attach another terminal")
            late.expect("In [1]: ")  # the kernel cannot answer yet
            owner.prompt(timeout=20)
            # the answer came after the cell: the prompt follows with no key pressed
            # (prompt_toolkit redraws only what changed, the digit: In [1] becomes In [3])
            late.expect("3")
        finally:
            late.close()
