"""pdb in the kernel: breakpoint() asks for commands over stdin, and the kernel's interrupt
handling is back afterwards without a word in its log."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from hostile.helpers import raw_client, standalone_kernel, stream_text


def test_breakpoint_over_stdin_then_interrupt_still_works(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        code = "def zzg(a):\n    b = a * 2\n    breakpoint()\n    return b\nzzg(21)"
        msg_id = client.send_msg("shell", "execute_request", {"code": code, "silent": False, "allow_stdin": True})
        prompts = []
        for command in ("p b", "c"):
            request = client.recv("stdin")
            assert request is not None and request["msg_type"] == "input_request"
            prompts.append(request["content"]["prompt"])
            client.send_msg("stdin", "input_reply", {"value": command, "status": "ok"})
        assert prompts == ["(Pdb) ", "(Pdb) "]
        assert client.reply_to("shell", msg_id)["content"]["status"] == "ok"
        outputs = client.until_idle(msg_id)
        assert "42\n" in stream_text(outputs)  # `p b`
        assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"] == ["42"]
        # pdb's `continue` installed its own SIGINT handler; the kernel's is back
        msg_id = client.send_msg("shell", "execute_request", {"code": "import time\nprint('zzsleep', flush=True)\ntime.sleep(60)", "silent": False})
        while "zzsleep" not in stream_text([m for m in [client.recv("iopub")] if m is not None]):
            pass
        kernel.proc.send_signal(signal.SIGINT)
        assert client.reply_to("shell", msg_id)["content"]["ename"] == "KeyboardInterrupt"
        assert "SIGINT handler" not in kernel.log()


def _answer_all(client, msg_id: str, commands: list[str]) -> tuple[list[str], dict, list[dict]]:
    """Answer the cell's input requests with ``commands``; (prompts, reply, outputs)."""
    prompts = []
    for command in commands:
        request = client.recv("stdin")
        assert request is not None and request["msg_type"] == "input_request", request
        prompts.append(request["content"]["prompt"])
        client.send_msg("stdin", "input_reply", {"value": command, "status": "ok"})
    return prompts, client.reply_to("shell", msg_id), client.until_idle(msg_id)


def test_debug_after_an_error_and_pdb_on(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        reply, outputs = client.execute("%debug")
        assert stream_text(outputs) == "No traceback has been produced, nothing to debug.\n"
        reply, _ = client.execute("def zzf(v):\n    zzlocal = v * 3\n    return 1 / 0\nzzf(14)")
        assert reply["content"]["ename"] == "ZeroDivisionError"
        msg_id = client.send_msg("shell", "execute_request", {"code": "%debug", "silent": False, "allow_stdin": True})
        prompts, reply, outputs = _answer_all(client, msg_id, ["p zzlocal", "q"])
        assert prompts == ["(Pdb) ", "(Pdb) "] and reply["content"]["status"] == "ok"
        assert "42\n" in stream_text(outputs)  # the failing frame's local
        reply, outputs = client.execute("%pdb on")
        assert stream_text(outputs) == "Automatic pdb calling has been turned ON\n"
        msg_id = client.send_msg("shell", "execute_request", {"code": "zzf(5)", "silent": False, "allow_stdin": True})
        prompts, reply, outputs = _answer_all(client, msg_id, ["p zzlocal", "q"])
        assert reply["content"]["ename"] == "ZeroDivisionError"  # the cell's error stands
        assert "15\n" in stream_text(outputs)
        client.execute("%pdb off")
        reply, _ = client.execute("zzf(1)", allow_stdin=True)  # no debugger now: no input asked
        assert reply["content"]["ename"] == "ZeroDivisionError"


def test_prun_prints_a_profile(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        client.execute("def zzwork():\n    return sum(i * i for i in range(1000))")
        reply, outputs = client.execute("%prun -l 5 zzwork()")
        page = reply["content"]["payload"][0]  # the table goes to the pager, as ipykernel sends it
        text = page["data"]["text/plain"]
        assert reply["content"]["status"] == "ok" and page["source"] == "page"
        assert "function calls" in text and "zzwork" in text and "Ordered by: internal time" in text
        reply, outputs = client.execute("%%prun -s cumulative\nzzwork()\nzzwork()")
        assert "Ordered by: cumulative time" in reply["content"]["payload"][0]["data"]["text/plain"]
        reply, _ = client.execute("%prun -s nonsense zzwork()")
        assert reply["content"]["ename"] == "UsageError" and "unknown sort key" in reply["content"]["evalue"]


def _plain(reply: dict) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply["content"]["traceback"]))


def test_xmode_minimal_verbose_and_back(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path)) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        client.execute("def zzdiv(zzn):\n    zzhalf = zzn / 2\n    return zzn / 0")
        reply, outputs = client.execute("%xmode Minimal")
        assert stream_text(outputs) == "Exception reporting mode: Minimal\n"
        reply, _ = client.execute("zzdiv(8)")
        assert _plain(reply) == "ZeroDivisionError: division by zero\n"
        client.execute("%xmode verbose")  # any case, any unique prefix
        reply, _ = client.execute("zzdiv(8)")
        assert "in zzdiv(zzn=8)" in _plain(reply)  # as ipykernel: the arguments with their values
        client.execute("%xmode Context")
        reply, _ = client.execute("zzdiv(8)")
        assert "Cell In[" in _plain(reply) and "in zzdiv(zzn)" in _plain(reply)
        reply, _ = client.execute("%xmode Loud")
        assert reply["content"]["ename"] == "UsageError"
