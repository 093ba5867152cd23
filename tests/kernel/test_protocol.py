"""The kernel over real sockets: every request type, every execute_request field."""

from __future__ import annotations

import queue

from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import TIMEOUT, collect_until_idle, execute, request, stdout_of
from protocol_check import check


def test_kernel_info(kernel_client: BlockingKernelClient) -> None:
    reply, outputs = request(kernel_client, "kernel_info_request", {})
    content = reply["content"]
    assert content["status"] == "ok"
    major, minor = (int(x) for x in content["protocol_version"].split(".")[:2])
    assert (major, minor) >= (5, 4)
    assert content["implementation"] == "mycon"
    assert content["banner"]
    assert content["help_links"]
    info = content["language_info"]
    for key in ("name", "version", "mimetype", "file_extension", "pygments_lexer", "codemirror_mode", "nbconvert_exporter"):
        assert info[key], key
    assert info["name"] == "python" and info["file_extension"] == ".py"
    assert outputs == []


def test_execute_result_input_and_counter(kernel_client: BlockingKernelClient) -> None:
    reply, outputs = execute(kernel_client, "x = 20\nx + 1")
    count = reply["content"]["execution_count"]
    kinds = [m["msg_type"] for m in outputs]
    assert kinds == ["execute_input", "execute_result"]
    assert outputs[0]["content"] == {"code": "x = 20\nx + 1", "execution_count": count}
    assert outputs[1]["content"]["data"]["text/plain"] == "21"
    assert outputs[1]["content"]["execution_count"] == count
    reply2, _ = execute(kernel_client, "x")
    assert reply2["content"]["execution_count"] == count + 1


def test_store_history_false_does_not_advance_counter(kernel_client: BlockingKernelClient) -> None:
    first, _ = execute(kernel_client, "1")
    count = first["content"]["execution_count"]
    reply, outputs = execute(kernel_client, "2", store_history=False)
    assert reply["content"]["execution_count"] == count
    assert [m["msg_type"] for m in outputs] == ["execute_input", "execute_result"]
    after, _ = execute(kernel_client, "3")
    assert after["content"]["execution_count"] == count + 1


def test_silent_runs_but_shows_nothing(kernel_client: BlockingKernelClient) -> None:
    before, _ = execute(kernel_client, "silent_value = 0")
    reply, outputs = execute(kernel_client, "silent_value = 41\nsilent_value + 1", silent=True)
    assert reply["content"]["status"] == "ok"
    assert outputs == []
    assert reply["content"]["execution_count"] == before["content"]["execution_count"]
    _, outputs = execute(kernel_client, "silent_value")
    assert outputs[-1]["content"]["data"]["text/plain"] == "41"


def test_trailing_semicolon_hides_result(kernel_client: BlockingKernelClient) -> None:
    _, outputs = execute(kernel_client, "1 + 1;")
    assert [m["msg_type"] for m in outputs] == ["execute_input"]
    _, outputs = execute(kernel_client, "1 + 1;  # a comment")
    assert [m["msg_type"] for m in outputs] == ["execute_input"]
    _, outputs = execute(kernel_client, "'a;'")
    assert outputs[-1]["content"]["data"]["text/plain"] == "'a;'"


def test_underscore_variables(kernel_client: BlockingKernelClient) -> None:
    first, _ = execute(kernel_client, "'first'")
    n = first["content"]["execution_count"]
    execute(kernel_client, "'second'")
    execute(kernel_client, "'third'")
    _, outputs = execute(kernel_client, f"(_, __, ___, _{n}, Out[{n}], In[{n}], _i{n})")
    text = outputs[-1]["content"]["data"]["text/plain"]
    assert text.replace("\n", "").replace(" ", "") == "('third','second','first','first','first',\"'first'\",\"'first'\")"


def test_user_expressions(kernel_client: BlockingKernelClient) -> None:
    reply, _ = execute(
        kernel_client, "ue = 6", user_expressions={"double": "ue * 2", "bad": "1/0"}
    )
    results = reply["content"]["user_expressions"]
    assert results["double"]["status"] == "ok"
    assert results["double"]["data"]["text/plain"] == "12"
    assert results["bad"]["status"] == "error"
    assert results["bad"]["ename"] == "ZeroDivisionError"


def test_error_reply_and_single_error_output(kernel_client: BlockingKernelClient) -> None:
    reply, outputs = execute(kernel_client, "def f():\n    return 1/0\nf()")
    content = reply["content"]
    assert content["status"] == "error"
    assert content["ename"] == "ZeroDivisionError"
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert len(errors) == 1
    assert stdout_of(outputs, "stderr") == ""
    text = "\n".join(errors[0]["content"]["traceback"])
    assert "Cell In[" in text and "line 3" in text and "line 2" in text
    assert "kernel/" not in text and "shell.py" not in text


def test_syntax_error_points_at_column(kernel_client: BlockingKernelClient) -> None:
    reply, outputs = execute(kernel_client, "x = (1 +\n")
    assert reply["content"]["ename"] == "SyntaxError"
    reply, outputs = execute(kernel_client, "a = 1 2")
    tb = "\n".join(reply["content"]["traceback"])
    assert "a = 1 2" in tb and "^" in tb


def test_stop_on_error_aborts_queued_requests(kernel_client: BlockingKernelClient) -> None:
    failing = kernel_client.execute("import time; time.sleep(0.3); 1/0")
    queued = [kernel_client.execute(f"print({i})") for i in range(3)]
    replies = {}
    for _ in range(4):
        msg = check(kernel_client.get_shell_msg(timeout=TIMEOUT))
        replies[msg["parent_header"]["msg_id"]] = msg["content"]
    assert replies[failing]["status"] == "error"
    assert [replies[q]["status"] for q in queued] == ["aborted"] * 3
    for msg_id in queued:
        assert collect_until_idle(kernel_client, msg_id) == []
    reply, outputs = execute(kernel_client, "print('alive')")
    assert stdout_of(outputs) == "alive\n"


def test_stop_on_error_false_keeps_queue(kernel_client: BlockingKernelClient) -> None:
    failing = kernel_client.execute("import time; time.sleep(0.2); 1/0", stop_on_error=False)
    queued = kernel_client.execute("1")
    statuses = {}
    for _ in range(2):
        msg = check(kernel_client.get_shell_msg(timeout=TIMEOUT))
        statuses[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
    assert statuses == {failing: "error", queued: "ok"}
    collect_until_idle(kernel_client, queued)


def test_streams_in_order_and_flushed_before_idle(kernel_client: BlockingKernelClient) -> None:
    code = "import sys\nfor i in range(5000):\n    print(i)\nsys.stderr.write('E\\n')\nprint('last')"
    _, outputs = execute(kernel_client, code)
    assert stdout_of(outputs) == "".join(f"{i}\n" for i in range(5000)) + "last\n"
    assert stdout_of(outputs, "stderr") == "E\n"
    names = [m["content"]["name"] for m in outputs if m["msg_type"] == "stream"]
    assert names.index("stderr") < len(names) - 1  # stderr came before 'last'


def test_file_descriptor_output_is_captured(kernel_client: BlockingKernelClient) -> None:
    code = (
        "import os, subprocess\n"
        "print('a', flush=True)\n"
        "os.write(1, b'b\\n')\n"
        "subprocess.run(['sh', '-c', 'echo c; echo d >&2'])\n"
        "print('e')"
    )
    _, outputs = execute(kernel_client, code)
    assert stdout_of(outputs) == "a\nb\nc\ne\n"
    assert stdout_of(outputs, "stderr") == "d\n"


def test_line_from_long_cell_arrives_before_the_cell_ends(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("import time\nprint('early')\ntime.sleep(3)\nprint('late')")
    text = ""
    while not text.endswith("\n"):  # print writes the text and its newline apart: maybe 2 messages
        msg = check(kernel_client.get_iopub_msg(timeout=TIMEOUT))
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            text += msg["content"]["text"]
    assert text == "early\n"
    # the reply cannot have arrived yet: the cell sleeps for 3 s after printing
    try:
        kernel_client.get_shell_msg(timeout=0)
        raise AssertionError("the reply came before 'early' was needed")
    except queue.Empty:
        pass
    check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    assert stdout_of(collect_until_idle(kernel_client, msg_id, seen_busy=True)) == "late\n"


def test_display_data_and_rich_repr(kernel_client: BlockingKernelClient) -> None:
    code = "class H:\n    def _repr_html_(self):\n        return '<b>hi</b>'\nH()"
    _, outputs = execute(kernel_client, code)
    data = outputs[-1]["content"]["data"]
    assert data["text/html"] == "<b>hi</b>" and "text/plain" in data


def test_failing_repr_is_reported_not_fatal(kernel_client: BlockingKernelClient) -> None:
    code = "class B:\n    def _repr_html_(self):\n        raise ValueError('nope')\n    def __repr__(self):\n        return 'B!'\nB()"
    reply, outputs = execute(kernel_client, code)
    # as ipykernel: the error and its traceback, the reply an error, the plain text still shown
    assert reply["content"]["status"] == "error" and reply["content"]["evalue"] == "nope"
    assert outputs[-1]["content"]["data"] == {"text/plain": "B!"}
    assert [m["content"]["ename"] for m in outputs if m["msg_type"] == "error"] == ["ValueError"]
    assert execute(kernel_client, "1")[0]["content"]["status"] == "ok"


def test_input_over_stdin(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("name = input('who? ')\nprint('hello', name)", allow_stdin=True)
    req = check(kernel_client.get_stdin_msg(timeout=TIMEOUT), "input_request")
    assert req["content"] == {"prompt": "who? ", "password": False}
    assert req["parent_header"]["msg_id"] == msg_id
    kernel_client.input("Ada")
    check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    assert stdout_of(collect_until_idle(kernel_client, msg_id)) == "hello Ada\n"


def test_getpass_sets_password_flag(kernel_client: BlockingKernelClient) -> None:
    msg_id = kernel_client.execute("import getpass\nsecret = getpass.getpass()\nlen(secret)", allow_stdin=True)
    req = check(kernel_client.get_stdin_msg(timeout=TIMEOUT), "input_request")
    assert req["content"]["password"] is True
    kernel_client.input("abcd")
    check(kernel_client.get_shell_msg(timeout=TIMEOUT), "execute_reply", msg_id)
    outputs = collect_until_idle(kernel_client, msg_id)
    assert outputs[-1]["content"]["data"]["text/plain"] == "4"


def test_input_without_stdin_is_a_clear_error(kernel_client: BlockingKernelClient) -> None:
    reply, _ = execute(kernel_client, "input()", allow_stdin=False)
    assert reply["content"]["status"] == "error"
    assert "does not support input" in reply["content"]["evalue"]


def test_complete_inspect_is_complete_history_replies_validate(kernel_client: BlockingKernelClient) -> None:
    request(kernel_client, "complete_request", {"code": "pri", "cursor_pos": 3})
    request(kernel_client, "inspect_request", {"code": "print", "cursor_pos": 5, "detail_level": 0})
    request(kernel_client, "is_complete_request", {"code": "x = 1"})
    request(kernel_client, "history_request", {"output": False, "raw": True, "hist_access_type": "tail", "n": 5})


def test_comms(kernel_client: BlockingKernelClient) -> None:
    reply, _ = request(kernel_client, "comm_info_request", {})
    assert reply["content"]["comms"] == {}
    msg = kernel_client.session.msg("comm_open", {"comm_id": "c1", "target_name": "nobody", "data": {}})
    kernel_client.shell_channel.send(msg)
    outputs = collect_until_idle(kernel_client, msg["header"]["msg_id"])
    assert [m["msg_type"] for m in outputs] == ["comm_close"]
    assert outputs[0]["content"]["comm_id"] == "c1"


def test_heartbeat_answers(kernel_client: BlockingKernelClient) -> None:
    assert kernel_client.is_alive()
    hb = kernel_client.hb_channel
    assert hb.is_beating()


def test_comm_registry_round_trip(kernel_client: BlockingKernelClient) -> None:
    execute(kernel_client, (
        "from kernel.comms import register_target\n"
        "received = []\n"
        "def opened(comm, msg):\n"
        "    comm.on_msg(lambda m: (received.append(m['content']['data']), comm.send({'echo': m['content']['data']})))\n"
        "    comm.send({'hello': msg['content']['data']})\n"
        "register_target('echo', opened)"
    ))
    open_msg = kernel_client.session.msg("comm_open", {"comm_id": "e1", "target_name": "echo", "data": {"x": 1}})
    kernel_client.shell_channel.send(open_msg)
    outputs = collect_until_idle(kernel_client, open_msg["header"]["msg_id"])
    assert [(m["msg_type"], m["content"]["data"]) for m in outputs] == [("comm_msg", {"hello": {"x": 1}})]
    reply, _ = request(kernel_client, "comm_info_request", {"target_name": "echo"})
    assert reply["content"]["comms"] == {"e1": {"target_name": "echo"}}
    msg = kernel_client.session.msg("comm_msg", {"comm_id": "e1", "data": {"n": 2}})
    kernel_client.shell_channel.send(msg)
    outputs = collect_until_idle(kernel_client, msg["header"]["msg_id"])
    assert [m["content"]["data"] for m in outputs] == [{"echo": {"n": 2}}]
    close = kernel_client.session.msg("comm_close", {"comm_id": "e1", "data": {}})
    kernel_client.shell_channel.send(close)
    collect_until_idle(kernel_client, close["header"]["msg_id"])
    reply, _ = request(kernel_client, "comm_info_request", {})
    assert reply["content"]["comms"] == {}
    _, outputs = execute(kernel_client, "received")
    assert outputs[-1]["content"]["data"]["text/plain"] == "[{'n': 2}]"


def test_a_boolean_cursor_is_no_position(kernel_client: BlockingKernelClient) -> None:
    """``cursor_pos: true`` (found by the fuzz test): the reply's positions are numbers, never
    the boolean sent (Python counts True as 1)."""
    reply, _ = request(kernel_client, "complete_request", {"code": "pri", "cursor_pos": True})
    assert reply["content"]["cursor_start"] is not True and reply["content"]["cursor_end"] == 3
    request(kernel_client, "inspect_request", {"code": "print", "cursor_pos": True, "detail_level": 0})
