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


def test_table_shows_xeus_columns_only_when_xeus_was_measured() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.results import Results, Row, ratio_at_most

    rows = [Row("rtt", "round trip", "s", "median", ratio_at_most(0.3), ratio_at_most(1.0)),
            Row("stream", "stream", "s", "median", ratio_at_most(0.2), ratio_at_most(1.0))]
    without = Results(rows)
    without.add("rtt", "ours", [0.0003])
    without.add("rtt", "reference", [0.003])
    assert "xeus" not in without.table()

    results = Results(rows)
    results.add("rtt", "ours", [0.0003])
    results.add("rtt", "reference", [0.003])
    results.add("rtt", "xeus", [0.0002])
    results.add("stream", "ours", [0.1])
    results.fail(["stream"], "xeus", "OUTPUT WRONG: 0 of 10 lines received")
    table = results.table()
    header, _, rtt_line, stream_line = table.splitlines()[:4]
    assert [c.strip() for c in header.split("|")[1:-1]] == [
        "metric", "ours", "reference", "xeus-python", "floor", "ours/ref", "target", "met?",
        "ours/xeus", "target vs xeus", "met?"]
    rtt = [c.strip() for c in rtt_line.split("|")[1:-1]]
    assert rtt[3] == "0.20 ms" and rtt[8:] == ["1.5", "<= 1", "NO"]  # slower than xeus: not met
    stream = [c.strip() for c in stream_line.split("|")[1:-1]]
    # xeus-python lost the output: no ratio, and ours (right) meets the row
    assert stream[3] == "failed [1]" and stream[8:] == ["-", "<= 1", "yes"]
    as_json = {row["key"]: row for row in results.as_json()["rows"]}
    assert as_json["rtt"]["met_xeus"] is False and as_json["stream"]["met_xeus"] is True
