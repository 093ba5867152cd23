"""Nothing from the working directory is imported by the kernel; user code still imports from it.

A kernel launched through its kernelspec (a ``python -c`` line that drops the working directory
from ``sys.path`` before importing anything, on every Python version) starts with the working
directory off ``sys.path``; after start-up the directory is added for user code, and standard
modules are still found in the standard library (``app.StdlibFirst``), so a stray ``json.py``
or ``sqlite3.py`` there breaks neither the kernel's history nor user code.
"""

from __future__ import annotations

from pathlib import Path

from kernel_harness import execute, request, running_kernel, stdout_of

SHADOWED = (
    "zmq", "json", "hmac", "hashlib", "threading", "select", "signal", "typing", "types", "codecs",
    "traceback", "linecache", "ast", "tokenize", "inspect", "sqlite3", "asyncio", "pickle", "random",
    "sitecustomize", "usercustomize", "kernel", "jupyter_client", "IPython", "matplotlib",
)


def test_stray_modules_in_the_working_directory_are_not_imported(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    for name in SHADOWED:
        (tmp_path / f"{name}.py").write_text(f"open({str(marks / name)!r}, 'w').close()\nraise ImportError('stray {name}')\n")
    (tmp_path / "mine.py").write_text("VALUE = 'from the working directory'\n")
    with running_kernel(cwd=str(tmp_path)) as (_, kc):
        reply, outputs = execute(kc, f"import os, mine, json\nprint(os.getcwd() == {str(tmp_path)!r}, mine.VALUE, json.dumps([1]))")
        assert reply["content"]["status"] == "ok", reply["content"]
        assert stdout_of(outputs) == "True from the working directory [1]\n"
        # services that import standard modules lazily, after start-up
        reply, _ = execute(kc, "import asyncio\nawait asyncio.sleep(0)\n1/0")
        assert reply["content"]["ename"] == "ZeroDivisionError"
        complete, _ = request(kc, "complete_request", {"code": "os.pa", "cursor_pos": 5})
        assert "os.path" in complete["content"]["matches"] or "path" in complete["content"]["matches"]
        inspect, _ = request(kc, "inspect_request", {"code": "json.dumps", "cursor_pos": 10, "detail_level": 1})
        assert inspect["content"]["found"]
        history, _ = request(kc, "history_request", {"hist_access_type": "tail", "n": 2, "output": False, "raw": True})
        assert any("import asyncio" in entry[2] for entry in history["content"]["history"])
        reply, outputs = execute(kc, "%time x = 1")
        assert reply["content"]["status"] == "ok"
    assert sorted(p.name for p in marks.iterdir()) == []
