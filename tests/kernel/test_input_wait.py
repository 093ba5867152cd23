"""The kernel tells every client on iopub when it waits for input (``mycon_input_wait``), so
consoles other than the one that was asked can show why the kernel is stuck."""

from __future__ import annotations

from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import TIMEOUT, collect_until_idle, execute
from protocol_check import check

WAIT = "mycon_input_wait"


def _next_of_type(kc: BlockingKernelClient, msg_type: str, parent_id: str) -> dict[str, Any]:
    """The next iopub message of ``msg_type`` caused by ``parent_id`` (others validated, skipped)."""
    while True:
        msg = check(kc.get_iopub_msg(timeout=TIMEOUT))
        if msg["msg_type"] == msg_type and msg["parent_header"].get("msg_id") == parent_id:
            return msg


def test_wait_announced_to_all_then_its_end(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("print('before'); zzname = input('zzwho? '); print('hi', zzname)", allow_stdin=True)
    req = check(kernel_client.get_stdin_msg(timeout=TIMEOUT), "input_request")
    kernel_client.input("Ada")
    check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    outputs = collect_until_idle(kernel_client, msg_id)
    kinds = [(m["msg_type"], m["content"].get("state") or m["content"].get("text")) for m in outputs]
    assert kinds == [
        ("execute_input", None),
        ("stream", "before\n"),  # output written before input() goes out before the announcement
        (WAIT, "waiting"),
        (WAIT, "answered"),
        ("stream", "hi Ada\n"),
    ]
    waiting, answered = outputs[2]["content"], outputs[3]["content"]
    assert waiting == {"prompt": "zzwho? ", "password": False, "state": "waiting"}
    assert answered == {"prompt": "zzwho? ", "password": False, "state": "answered"}
    assert "Ada" not in str(outputs[2:4])  # the answer itself is never published
    assert outputs[2]["parent_header"] == req["parent_header"]


def test_getpass_wait_cancelled_by_interrupt(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("import getpass; getpass.getpass('zzpw: ')", allow_stdin=True)
    check(kernel_client.get_stdin_msg(timeout=TIMEOUT), "input_request")
    waiting = _next_of_type(kernel_client, WAIT, msg_id)
    assert waiting["content"] == {"prompt": "zzpw: ", "password": True, "state": "waiting"}
    interrupt = kernel_client.session.msg("interrupt_request", {})
    kernel_client.control_channel.send(interrupt)
    reply = check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    ended = _next_of_type(kernel_client, WAIT, msg_id)
    assert ended["content"]["state"] == "cancelled"
    error = [m for m in collect_until_idle(kernel_client, msg_id, seen_busy=True) if m["msg_type"] == "error"]
    assert error[0]["content"]["evalue"] == "interrupted while waiting for input"
    traceback = "\n".join(error[0]["content"]["traceback"])
    assert "Cell In[" in traceback and "File " not in traceback  # the user's line, nothing below it


def test_client_subscribing_during_the_wait_is_told(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("zzlate = input('zzlate? ')", allow_stdin=True)
    check(kernel_client.get_stdin_msg(timeout=TIMEOUT), "input_request")
    _next_of_type(kernel_client, WAIT, msg_id)
    late = BlockingKernelClient()
    late.load_connection_info(kernel_client.get_connection_info(session=False))
    late.session.key = kernel_client.session.key
    late.start_channels(shell=False, stdin=False, hb=False, control=False)
    try:
        seen: list[str] = []
        while WAIT not in seen:
            msg = check(late.get_iopub_msg(timeout=TIMEOUT))
            seen.append(msg["msg_type"])
        assert seen[0] == "iopub_welcome"  # the welcome first, then what the kernel waits for
        assert msg["content"]["state"] == "waiting" and msg["content"]["prompt"] == "zzlate? "
        assert msg["parent_header"]["msg_id"] == msg_id
        kernel_client.input("x")
        check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
        assert _next_of_type(late, WAIT, msg_id)["content"]["state"] == "answered"
    finally:
        late.stop_channels()
    collect_until_idle(kernel_client, msg_id, seen_busy=True)


def test_no_announcement_when_stdin_is_not_allowed(kernel_client: BlockingKernelClient) -> None:
    reply, outputs = execute(kernel_client, "input('zzno? ')", allow_stdin=False)
    assert reply["content"]["status"] == "error"
    assert WAIT not in [m["msg_type"] for m in outputs]


def test_jupyter_clients_own_input_loop_ignores_it(kernel_client: BlockingKernelClient) -> None:
    """jupyter_client's execute_interactive (used by scripts and tools) runs an input cell with
    our extra iopub message in the stream and does not stumble on it."""
    seen: list[str] = []
    answers = iter(["Grace"])

    def stdin_hook(msg: dict[str, Any]) -> None:
        kernel_client.input(next(answers))

    out: list[str] = []

    def output_hook(msg: dict[str, Any]) -> None:
        seen.append(check(msg)["msg_type"])
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kernel_client.execute_interactive(
        "print('hello', input('zzname? '))", allow_stdin=True, timeout=TIMEOUT,
        stdin_hook=stdin_hook, output_hook=output_hook,
    )
    assert reply["content"]["status"] == "ok"
    assert "".join(out) == "hello Grace\n"
    assert seen.count(WAIT) == 2
