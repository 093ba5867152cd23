"""Real IPython extensions loaded with ``%load_ext`` into a mycon kernel: line_profiler,
memory_profiler, Cython, jupysql, and sympy's printing (compared with ipykernel)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

Session = Any  # conftest.Session: runs cells on one kernel

FUNCTION = "def triangle(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total"


def page_text(session: Session, code: str) -> str:
    content, outputs = session.run(code, timeout=120)
    assert content["status"] == "ok", (content, outputs)
    pages = [p["data"]["text/plain"] for p in content["payload"] if p.get("source") == "page"]
    streams = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    return "".join(pages) + streams


def test_line_profiler_lprun(mycon: Session) -> None:
    mycon.ok("%load_ext line_profiler")
    mycon.ok(FUNCTION)
    text = page_text(mycon, "%lprun -f triangle triangle(50)")
    assert "Timer unit:" in text and "Line #      Hits" in text
    assert "\n     3        51 " in text  # the loop line ran 51 times


def test_memory_profiler_memit(mycon: Session) -> None:
    mycon.ok("%load_ext memory_profiler")
    assert mycon.printed("%memit sum(range(1000))", timeout=120).startswith("peak memory: ")


@pytest.mark.skipif(shutil.which("cc") is None, reason="%%cython needs a C compiler (cc); install build-essential")
def test_cython_cell_magic(mycon: Session) -> None:
    mycon.ok("%load_ext Cython")
    mycon.ok("%%cython\ndef csum(int n):\n    cdef int i, s = 0\n    for i in range(n):\n        s += i\n    return s",
             timeout=180)
    assert mycon.result("csum(10)") == {"text/plain": "45"}
    assert mycon.printed("import inspect\nprint(type(csum).__name__)") == "cython_function_or_method\n"


def test_jupysql_on_sqlite(mycon: Session) -> None:
    mycon.ok("%load_ext sql")
    mycon.ok("%sql sqlite://")
    mycon.ok("%sql CREATE TABLE numbers (x int); INSERT INTO numbers VALUES (1), (2), (3);")
    data = mycon.result("%sql SELECT sum(x) AS total FROM numbers")
    assert "| total |" in data["text/plain"] and "|   6   |" in data["text/plain"]
    assert "<th>total</th>" in data["text/html"]
    mycon.ok("%config SqlMagic.displaylimit = 1")
    assert mycon.printed("print(get_ipython().find_cell_magic('sql').__self__.displaylimit)") == "1\n"


def test_sympy_init_printing_as_in_ipykernel(mycon: Session, ipykernel: Session) -> None:
    code = "from sympy import init_printing, Symbol\ninit_printing(use_latex='mathjax')\nSymbol('x') ** 2 + 1"
    ours, theirs = mycon.result(code), ipykernel.result(code)
    assert ours["text/latex"] == theirs["text/latex"] == "$\\displaystyle x^{2} + 1$"
    assert ours == theirs


@pytest.mark.timeout(180)
def test_ipyparallel_registers_its_magics(mycon: Session, tmp_path: Any) -> None:
    """A Client registers ``%px`` through ``get_ipython().magics_manager`` (the magics themselves
    belong to interactive parallel computing; here: that they arrive and run once)."""
    mycon.ok(f"import os\nos.environ['IPYTHONDIR'] = {str(tmp_path)!r}\nimport ipyparallel as ipp\n"
             "cluster = ipp.Cluster(n=1, log_level=40)\nrc = cluster.start_and_connect_sync()",
             timeout=150)
    try:
        mycon.ok("%px x = 6 * 7")
        outputs = mycon.ok("%px print(x)")
        assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "display_data"] == ["[stdout:0] 42\n"]
        assert mycon.printed("print(type(get_ipython().magics_manager.registry['ParallelMagics']).__module__)") == (
            "ipyparallel.client.magics\n")
    finally:
        mycon.ok("rc.close()\ncluster.stop_cluster_sync()", timeout=60)
