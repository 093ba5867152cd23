"""Keeps the benchmark harness from rotting: a quick run against the echo kernel only.

No figure is checked (speed belongs to bench/, not to the test suite); only that the harness
runs, measures every kernel row for the floor, and writes its table and JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
def test_quick_floor_run_fills_every_kernel_row(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "floor",
         "--json", str(out)],
        capture_output=True, text=True, timeout=170, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| metric" in done.stdout
    rows = json.loads(out.read_text())["rows"]
    keys = {row["key"] for row in rows}
    assert {"startup", "memory", "rtt", "stream", "flood", "complete", "inspect"} <= keys
    for row in rows:
        floor = row["floor"]
        assert floor["failure"] is None, (row["key"], floor["failure"])
        assert floor["n"] > 0 and floor["value"] > 0
        assert "ours" not in row and "reference" not in row


def test_unknown_only_value_is_a_clear_message() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--only", "nonsense"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "unknown --only value" in done.stderr
    assert "Traceback" not in done.stderr
