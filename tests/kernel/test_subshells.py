"""Kernel subshells (protocol 5.5) over the wire: create, list, delete; a subshell answers
while the main shell is busy; output goes to the request that wrote it; an interrupt stops the
main shell's cell only. Every message the kernel sends is validated (protocol_check)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import TIMEOUT, collect_until_idle, running_kernel, stdout_of
from protocol_check import check


@pytest.fixture
def kc() -> Iterator[BlockingKernelClient]:
    """A kernel of its own for each test (subshells and interrupts change its state)."""
    with running_kernel("mycon") as (_, client):
        yield client


def control(kc: BlockingKernelClient, msg_type: str, **content: Any) -> dict[str, Any]:
    """Send a control request; its validated reply."""
    msg = kc.session.msg(msg_type, content)
    kc.control_channel.send(msg)
    reply_type = msg_type.replace("_request", "_reply")
    return check(kc.get_control_msg(timeout=TIMEOUT), reply_type, msg["header"]["msg_id"])


def send_execute(kc: BlockingKernelClient, code: str, subshell_id: str | None) -> str:
    """Send an execute_request to a subshell (None: the main shell); its msg_id."""
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True})
    msg["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(msg)
    msg_id: str = msg["header"]["msg_id"]
    return msg_id


def shell_reply(kc: BlockingKernelClient, timeout: float = TIMEOUT) -> dict[str, Any]:
    return check(kc.get_shell_msg(timeout=timeout))


def wait_for_stream(kc: BlockingKernelClient, msg_id: str, text: str) -> dict[str, Any]:
    """The stream message of request ``msg_id`` that contains ``text`` (others are skipped)."""
    while True:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        if (msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id
                and text in msg["content"]["text"]):
            return msg


def outputs_of(kc: BlockingKernelClient, msg_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The iopub messages of several requests running at once, by request, until all are idle."""
    outputs: dict[str, list[dict[str, Any]]] = {msg_id: [] for msg_id in msg_ids}
    busy = set(msg_ids)
    while busy:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        parent = msg["parent_header"].get("msg_id")
        if parent not in outputs:
            continue
        outputs[parent].append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            busy.discard(parent)
    return outputs


def run(kc: BlockingKernelClient, code: str, subshell_id: str | None = None) -> tuple[dict[str, Any], str]:
    """Run ``code`` in a subshell (or the main shell): its reply and its stdout."""
    msg_id = send_execute(kc, code, subshell_id)
    reply = shell_reply(kc)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply, stdout_of(collect_until_idle(kc, msg_id))


def test_create_list_delete(kc: BlockingKernelClient) -> None:
    info = control(kc, "kernel_info_request")["content"]
    assert info["protocol_version"] == "5.5"
    assert "kernel subshells" in info["supported_features"]
    threads = "print(sorted(t.name for t in threading.enumerate() if t.name.startswith('subshell')))"
    _, before = run(kc, "import threading; " + threads)
    assert before == "[]\n"

    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == []
    first = control(kc, "create_subshell_request")["content"]["subshell_id"]
    second = control(kc, "create_subshell_request")["content"]["subshell_id"]
    assert first != second
    assert sorted(control(kc, "list_subshell_request")["content"]["subshell_id"]) == sorted([first, second])
    _, during = run(kc, threads)
    assert during == str(sorted(["subshell-router", f"subshell-{first}", f"subshell-{second}"])) + "\n"

    # the subshells share the main shell's namespace, each in a thread of its own
    run(kc, "x = 6 * 7")
    reply, out = run(kc, "print(x, threading.get_ident() != threading.main_thread().ident)", first)
    assert reply["content"]["status"] == "ok"
    assert reply["parent_header"]["subshell_id"] == first
    assert out == "42 True\n"

    assert control(kc, "delete_subshell_request", subshell_id=first)["content"]["status"] == "ok"
    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == [second]
    assert control(kc, "delete_subshell_request", subshell_id=second)["content"]["status"] == "ok"
    again = control(kc, "delete_subshell_request", subshell_id=second)["content"]
    assert again["status"] == "error"
    assert again["evalue"] == f"Unknown subshell_id {second!r}"

    # a request for a deleted subshell is answered (an error), not dropped
    msg_id = send_execute(kc, "1", first)
    reply = shell_reply(kc)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "UnknownSubshellError"
    assert collect_until_idle(kc, msg_id) == []

    # the main shell reads its socket again: no thread of the subshells is left
    reply, after = run(kc, threads)
    assert reply["content"]["status"] == "ok"
    assert after == before


def test_subshell_answers_while_the_main_shell_is_busy(kc: BlockingKernelClient) -> None:
    run(kc, "import threading; release = threading.Event()")
    subshell = control(kc, "create_subshell_request")["content"]["subshell_id"]

    # the main shell's cell waits for the subshell's; run in turn, this would never end
    main_id = send_execute(kc, "print('main waits', flush=True); assert release.wait(20); print('main done')", None)
    wait_for_stream(kc, main_id, "main waits")
    sub_id = send_execute(kc, "print('from the subshell'); release.set()", subshell)
    replies = [shell_reply(kc) for _ in range(2)]  # in either order: the two run at once
    assert {reply["parent_header"]["msg_id"]: reply["content"]["status"] for reply in replies} == {
        sub_id: "ok", main_id: "ok"}

    # each request's output, busy and idle carry it as their parent (with its subshell_id)
    outputs = outputs_of(kc, [sub_id, main_id])
    assert stdout_of(outputs[sub_id]) == "from the subshell\n"
    assert stdout_of(outputs[main_id]) == "main done\n"
    assert {msg["parent_header"].get("subshell_id") for msg in outputs[sub_id]} == {subshell}
    assert [msg["content"]["execution_state"] for msg in outputs[sub_id] if msg["msg_type"] == "status"] == [
        "busy", "idle"]

    # requests to one subshell run in order; a failed cell aborts only that subshell's queue
    failing = send_execute(kc, "import time; time.sleep(0.2); 1 / 0", subshell)
    aborted = send_execute(kc, "print('never')", subshell)
    statuses = {}
    for _ in range(2):
        reply = shell_reply(kc)
        statuses[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
    assert statuses == {failing: "error", aborted: "aborted"}
    outputs_of(kc, [failing, aborted])
    reply, out = run(kc, "print('main runs on')")
    assert (reply["content"]["status"], out) == ("ok", "main runs on\n")
    control(kc, "delete_subshell_request", subshell_id=subshell)


def test_interrupt_stops_the_main_shell_only(kc: BlockingKernelClient) -> None:
    run(kc, "import threading, time; go = threading.Event()")
    subshell = control(kc, "create_subshell_request")["content"]["subshell_id"]
    main_id = send_execute(kc, "print('main sleeps', flush=True); time.sleep(30)", None)
    wait_for_stream(kc, main_id, "main sleeps")
    # a subshell's cell that ends while the main shell's runs leaves that one interruptible
    reply, out = run(kc, "print('quick')", subshell)
    assert (reply["content"]["status"], out) == ("ok", "quick\n")
    assert control(kc, "interrupt_request")["content"]["status"] == "ok"
    reply = shell_reply(kc)
    assert reply["parent_header"]["msg_id"] == main_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    collect_until_idle(kc, main_id, seen_busy=True)

    # an interrupt does not reach a subshell's cell (SIGINT is the main thread's, as in ipykernel)
    waiting_id = send_execute(kc, "print('sub waits', flush=True); assert go.wait(30); print('sub done')", subshell)
    wait_for_stream(kc, waiting_id, "sub waits")
    assert control(kc, "interrupt_request")["content"]["status"] == "ok"
    with pytest.raises(queue.Empty):  # the subshell's cell runs on
        kc.get_shell_msg(timeout=0.3)
    go_id = send_execute(kc, "go.set()", None)
    replies = [shell_reply(kc) for _ in range(2)]  # in either order: the two run at once
    assert {reply["parent_header"]["msg_id"]: reply["content"]["status"] for reply in replies} == {
        go_id: "ok", waiting_id: "ok"}
    outputs = outputs_of(kc, [waiting_id, go_id])
    assert stdout_of(outputs[waiting_id]) == "sub done\n"
    control(kc, "delete_subshell_request", subshell_id=subshell)


def test_subshell_created_while_the_main_shell_is_busy(kc: BlockingKernelClient) -> None:
    """A console attached to a busy kernel makes a subshell to look around (the subshell's
    router takes the shell socket while the main shell's cell runs)."""
    run(kc, "import threading; release = threading.Event()")
    main_id = send_execute(kc, "print('main waits', flush=True); assert release.wait(20); print('main done')", None)
    wait_for_stream(kc, main_id, "main waits")
    subshell = control(kc, "create_subshell_request")["content"]["subshell_id"]
    reply, out = run(kc, "print('looking around')", subshell)
    assert (reply["content"]["status"], out) == ("ok", "looking around\n")
    # the last subshell deleted and another made while the main shell is still busy: the new
    # one answers at once too
    assert control(kc, "delete_subshell_request", subshell_id=subshell)["content"]["status"] == "ok"
    subshell = control(kc, "create_subshell_request")["content"]["subshell_id"]
    release_id = send_execute(kc, "release.set()", subshell)
    replies = [shell_reply(kc) for _ in range(2)]  # in either order: the two run at once
    assert {reply["parent_header"]["msg_id"]: reply["content"]["status"] for reply in replies} == {
        release_id: "ok", main_id: "ok"}
    outputs_of(kc, [release_id, main_id])
    # deleted while the main shell is idle again: it reads the shell socket itself again
    control(kc, "delete_subshell_request", subshell_id=subshell)
    reply, out = run(kc, "print('main again')")
    assert (reply["content"]["status"], out) == ("ok", "main again\n")
