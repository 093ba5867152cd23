"""Load: 20 clients on one kernel executing and reading at once; every reply and every output
arrives, in order per client. Memory after many cells stays close to where it started.
(The 100,000-message and 10,000-cell runs are in ``bench/fuzz_kernel.py``.)"""

from __future__ import annotations

from pathlib import Path

from hostile.helpers import kernel_pid_of, raw_client, rss_mb, standalone_kernel
from hostile.loadgen import run_load

CLIENTS = 20
CELLS_PER_CLIENT = 50  # each cell: reply, busy, execute_input, stream, idle => 5,000 messages


def test_twenty_clients_at_once_lose_nothing(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path), env={"MYCON_DATA_DIR": str(tmp_path / "data")}) as kernel:
        result = run_load(kernel.info, CLIENTS, CELLS_PER_CLIENT)
        print(f"load: {result['clients']} clients, {result['cells']} cells, {result['kernel_messages']} messages "
              f"({result['iopub_deliveries']} iopub deliveries) in {result['seconds']:.1f} s")
        assert result["problems"] == []
        assert result["kernel_messages"] >= CLIENTS * CELLS_PER_CLIENT * 5
        assert kernel.alive()


def test_memory_after_many_cells(tmp_path: Path) -> None:
    with standalone_kernel(str(tmp_path), env={"MYCON_DATA_DIR": str(tmp_path / "data")}) as kernel, raw_client(kernel.info) as client:
        client.wait_for_iopub()
        pid = kernel_pid_of(kernel)

        def cells(count: int) -> None:
            ids = [client.send_msg("shell", "execute_request", {"code": f"x = {i}\nprint(x)\nx", "silent": False}) for i in range(count)]
            for msg_id in ids:
                assert client.reply_to("shell", msg_id)["content"]["status"] == "ok"
            client.drain(0.05)

        cells(300)  # warm: lazy imports, history database, caches
        before = rss_mb(pid)
        cells(2000)
        grown = rss_mb(pid) - before
        print(f"kernel RSS after 2,000 more cells: {grown:+.1f} MB")
        assert grown < 4, f"kernel RSS grew {grown:.1f} MB over 2,000 cells"


def test_output_cache_is_bounded() -> None:
    """Out / _N keep at most OUTPUT_CACHE_SIZE results (IPython's rule), with a notice."""
    from kernel.execution.shell import OUTPUT_CACHE_SIZE, Shell

    notices: list[str] = []
    shell = Shell(lambda msg_type, content: notices.append(content.get("text", "")) if msg_type == "stream" else None)
    for i in range(OUTPUT_CACHE_SIZE + 5):
        shell.run_cell(f"[{i}] * 3")
    assert len(shell.outputs) <= OUTPUT_CACHE_SIZE
    assert "_1" not in shell.user_ns and shell.user_ns["_"] == [OUTPUT_CACHE_SIZE + 4] * 3
    assert any("Output cache limit" in text for text in notices)
