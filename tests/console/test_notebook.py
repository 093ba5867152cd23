"""``%mycon notebook FILE``: the console's cells and outputs saved as a Jupyter notebook."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from term import ENTER, Term, need_kernel

from console.notebook import NotebookRecorder, notebook_json, save_notebook


def _msg(msg_type: str, **content: Any) -> dict[str, Any]:
    return {"header": {"msg_type": msg_type}, "content": content}


def _as_read(document: dict[str, Any]) -> Any:
    """The document as Jupyter reads it from a file, validated."""
    nb = nbformat.reads(json.dumps(document), as_version=4)
    nbformat.validate(nb)
    return nb


def test_outputs_become_what_a_notebook_shows() -> None:
    rec = NotebookRecorder()
    rec.begin("print('a'); print('b')\n6 * 7")
    rec.output(_msg("execute_input", code="...", execution_count=3))
    rec.output(_msg("stream", name="stdout", text="a\n"))
    rec.output(_msg("stream", name="stdout", text="b\n"))  # merged with the one before
    rec.output(_msg("stream", name="stderr", text="warn\n"))
    rec.output(_msg("execute_result", execution_count=3, data={"text/plain": "42"}, metadata={}))
    rec.end("ok", 3)
    rec.begin("progress")
    rec.output(_msg("display_data", data={"text/plain": "0%"}, metadata={}, transient={"display_id": "bar"}))
    rec.output(_msg("update_display_data", data={"text/plain": "100%"}, metadata={}, transient={"display_id": "bar"}))
    rec.output(_msg("stream", name="stdout", text="old\n"))
    rec.output(_msg("clear_output", wait=True))
    rec.output(_msg("stream", name="stdout", text="new\n"))  # the wait=True clear happens here
    rec.end("ok", 4)
    rec.begin("1/0")
    rec.output(_msg("error", ename="ZeroDivisionError", evalue="division by zero", traceback=["tb"]))
    rec.end("error", 5)
    rec.begin("skipped")
    rec.end("aborted", 5)  # never ran: not kept
    document = notebook_json(rec.cells, "mycon", {"language_info": {"name": "python", "version": "3"}})
    nb = _as_read(document)
    assert [c.execution_count for c in nb.cells] == [3, 4, 5]
    first, second, third = (c.outputs for c in nb.cells)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in first[:2]] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "warn\n")]
    assert first[2].data["text/plain"] == "42"
    assert [o.get("text") for o in second] == ["new\n"]
    third_error = third[0]
    assert (third_error.ename, third_error.traceback) == ("ZeroDivisionError", ["tb"])
    assert nb.metadata.kernelspec.name == "mycon" and nb.metadata.language_info.name == "python"


def test_updated_display_keeps_its_place() -> None:
    rec = NotebookRecorder()
    rec.begin("d")
    rec.output(_msg("display_data", data={"text/plain": "first"}, metadata={}, transient={"display_id": "x"}))
    rec.output(_msg("stream", name="stdout", text="between\n"))
    rec.output(_msg("update_display_data", data={"text/plain": "second"}, metadata={}, transient={"display_id": "x"}))
    rec.end("ok", 1)
    nb = _as_read(notebook_json(rec.cells, "", {}))
    assert [o.output_type for o in nb.cells[0].outputs] == ["display_data", "stream"]
    assert nb.cells[0].outputs[0].data["text/plain"] == "second"


def test_saving_is_whole_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    save_notebook(str(path), notebook_json([], "mycon", {}))
    assert nbformat.read(str(path), as_version=4).cells == []
    assert os.listdir(tmp_path) == ["n.ipynb"]  # no temporary file left behind


@pytest.mark.timeout(120)
def test_console_session_saved_and_run_again(tmp_path: Path) -> None:
    """A real console session saved with %mycon notebook is a notebook nbclient runs."""
    need_kernel("mycon")
    path = tmp_path / "session.ipynb"
    t = Term("--kernel", "mycon", "--no-confirm-exit")
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("zz = 6 * 7; print('zz' + 'printed')")
        t.expect("zzprinted")
        t.prompt()
        t.run("zz")
        t.expect("Out[2]: 42")
        t.prompt()
        t.run("from IPython.display import HTML; HTML('<b>zzbold</b>')")
        t.prompt()
        t.run(f"%mycon notebook {path}")
        t.expect(f"saved 3 cells to {path}")
        t.prompt()
        t.run(f"%mycon notebook {path}")  # ours already: replaced without asking
        t.expect(f"saved 3 cells to {path}")
        t.prompt()
        taken = tmp_path / "taken.ipynb"
        taken.write_text("someone's notebook")
        t.run(f"%mycon notebook {taken}")
        t.expect("exists; add -f to replace it")
        t.prompt()
        assert taken.read_text() == "someone's notebook"
        t.send(f"%mycon notebook {taken} -f" + ENTER)
        t.expect(f"saved 3 cells to {taken}")
        t.prompt()
    finally:
        t.close()
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells][:2] == ["zz = 6 * 7; print('zz' + 'printed')", "zz"]
    assert nb.cells[0].outputs[0].text == "zzprinted\n"
    assert nb.cells[1].outputs[0].data["text/plain"] == "42"
    assert "<b>zzbold</b>" in nb.cells[2].outputs[0].data["text/html"]
    assert nb.metadata.kernelspec.name == "mycon"
    NotebookClient(nb, timeout=60, kernel_name="mycon").execute()  # it runs as saved
    assert nb.cells[1].outputs[0].data["text/plain"] == "42"
