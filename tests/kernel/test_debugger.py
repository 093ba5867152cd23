"""pdb in the kernel: breakpoint() asks for commands over stdin, and the kernel's interrupt
handling is back afterwards without a word in its log."""

from __future__ import annotations

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
