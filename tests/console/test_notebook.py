"""``%mycon notebook FILE``: the console's cells and outputs saved as a Jupyter notebook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbclient import NotebookClient
from term import ENTER, Term, need_kernel

from console.notebook import RESTART_MARK, NotebookRecorder, notebook_json, save_notebook
from console.notebook_text import NotebookStreamText


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


def _stream_text(*chunks: str, name: str = "stdout") -> str:
    """The text a cell's stream messages leave in the saved notebook."""
    rec = NotebookRecorder()
    rec.begin("c")
    for chunk in chunks:
        rec.output(_msg("stream", name=name, text=chunk))
    rec.end("ok", 1)
    outputs = _as_read(notebook_json(rec.cells, "", {})).cells[0].outputs
    assert len(outputs) == 1
    return str(outputs[0].text)


def test_carriage_return_keeps_what_is_left_on_screen() -> None:
    """A progress bar's updates are saved as its last state, not one line per update, as a
    notebook front end shows the stream (and the terminal did): ``\r`` goes back to the line's
    start, later text overwrites, and what a shorter line did not overwrite stays (JupyterLab's
    output area does the same)."""
    assert _stream_text("0%\r", "50%\r", "100%\n", "done\n") == "100%\ndone\n"
    assert _stream_text("50%", "\r", "75%", "\r100%") == "100%"  # \r and its text in two messages
    assert _stream_text("fetching 10 files\rdone\n") == "donehing 10 files\n"
    assert _stream_text("abc\r\n") == "abc\n"  # \r\n is a newline
    assert _stream_text("ab\x08X\n") == "aX\n"  # a backspace steps back one column
    assert _stream_text("a long line\r\x1b[Kshort\n") == "short\n"  # erase to the end of the line
    assert _stream_text("x" * 3 + "\r", "\n" * 2) == "xxx\n\n"
    many = _stream_text(*(f"\r{i}/500" for i in range(501)), "\n")
    assert many == "500/500\n"


def test_colour_kept_screen_control_dropped() -> None:
    """Colour (SGR) sequences stay: Jupyter renders them in a stream. Clear-screen, cursor
    moves between lines, window titles and the bell are dropped, not emulated: a notebook's
    output has no screen for them to act on (JupyterLab's and nbconvert's renderers show them as
    nothing), and a clear-screen would not clear the cell's earlier output there (clear_output is
    the notebook's way to do that, and it is honoured)."""
    red = "\x1b[31mred\x1b[0m plain\n"
    assert _stream_text(red) == red
    assert _stream_text("before\n", "\x1b[2J\x1b[Hafter\n") == "before\nafter\n"
    rec = NotebookRecorder()
    rec.begin("clear")
    rec.output(_msg("stream", name="stdout", text="\x1b[H\x1b[2J"))
    rec.end("ok", 1)
    assert _as_read(notebook_json(rec.cells, "", {})).cells[0].outputs == []  # nothing to show
    long_colour = "".join(f"\x1b[{30 + i % 8}m" for i in range(500)) + "x\x1b[" + "1;" * 200 + "4mz\n"
    assert _stream_text(long_colour).endswith("4mz\x1b[0m\n")  # colour state stays bounded
    assert _stream_text("\x1b]0;title\x07\x1b[?25lhidden cursor\x1b[?25h\x1b[1A\x07\n") == "hidden cursor\n"
    assert _stream_text("\x1b[3", "2mgreen\x1b[0m\n") == "\x1b[32mgreen\x1b[0m\n"  # split in two messages
    bar = ["\r\x1b[32m" + "#" * n + "\x1b[0m" + "." * (4 - n) for n in range(5)]
    assert _stream_text(*bar, "\n") == "\x1b[32m####\x1b[0m\n"
    # overwriting part of a coloured line keeps the colour of what is left
    assert _stream_text("\x1b[1mBOLD\x1b[0m\rab\n") == "ab\x1b[1mLD\x1b[0m\n"


_PIECES = ["ab", "xyz", "\n", "\r", "\r\n", "\x08", "\x1b[31m", "\x1b[0m", "\x1b[K", "\x1b[2J", "\x1b[", "3", "m", "\x07"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.data())
def test_stream_text_same_however_the_messages_split_it(pieces: list[str], data: st.DataObject) -> None:
    """The shown text depends on the stream's characters, not on where messages cut them
    (an escape sequence or a \r\n may be cut in two)."""
    text = "".join(pieces)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(text)), max_size=8)))
    whole, split = NotebookStreamText(), NotebookStreamText()
    whole.feed(text)
    for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True):
        split.feed(text[start:end])
    assert split.shown_lines() == whole.shown_lines()


def test_help_page_kept_as_output() -> None:
    """``obj?`` comes back as a ``page`` payload of the reply. JupyterLab adds the first one to
    the cell as a display_data output (nbclient keeps no payload at all); the saved notebook keeps
    it that way, so the help the user read is in the file. Other payloads are not output. The
    help shown while typing (an inspect_request of the prompt's toolbar) belongs to no cell and
    is not saved, as JupyterLab's contextual help is not."""
    rec = NotebookRecorder()
    rec.begin("len?")
    page = {"source": "page", "data": {"text/plain": "Signature: len(obj, /)\nDocstring: ..."}, "start": 0}
    rec.end("ok", 2, [{"source": "set_next_input", "text": "x", "replace": False}, page])
    rec.begin("failing?")
    rec.end("error", 3, [page])  # JupyterLab adds a page only to a successful reply
    nb = _as_read(notebook_json(rec.cells, "", {}))
    (help_output,) = nb.cells[0].outputs
    assert help_output.output_type == "display_data"
    assert help_output.data["text/plain"] == "Signature: len(obj, /)\nDocstring: ..."
    assert nb.cells[1].outputs == []


def test_restart_is_marked() -> None:
    """The cells of two runs of the kernel are told apart by a markdown cell, once per restart
    however many signs of it came; the counts are the kernel's (from 1 again after it)."""
    rec = NotebookRecorder()
    rec.restarted()  # before any cell: nothing to tell apart
    for count, code in enumerate(("a = 1", "a"), start=1):
        rec.begin(code)
        rec.output(_msg("execute_input", code=code, execution_count=count))
        rec.end("ok", count)
    rec.restarted()
    rec.restarted()  # the same restart seen twice
    rec.begin("skipped")
    rec.end("aborted", None)  # dropped; the mark waits for the next cell that ran
    rec.begin("a")
    rec.output(_msg("execute_input", code="a", execution_count=1))
    rec.end("error", 1)
    nb = _as_read(notebook_json(rec.cells, "", {}))
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        ("code", "a = 1"), ("code", "a"), ("markdown", RESTART_MARK), ("code", "a")]
    assert [c.get("execution_count") for c in nb.cells] == [1, 2, None, 1]


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


@pytest.mark.timeout(150)
@pytest.mark.parametrize("kernel", ["python3", "mycon"])
def test_progress_help_and_restart_saved_and_converted(tmp_path: Path, kernel: str) -> None:
    """A real session with a progress bar, screen control, ``?`` help and a restart, saved with
    %mycon notebook: the file holds what a notebook front end shows and `jupyter nbconvert --to
    html` converts it (on ipykernel as on ours)."""
    need_kernel(kernel)
    path = tmp_path / "session.ipynb"
    t = Term("--kernel", kernel, "--no-confirm-exit")
    try:
        t.expect("To attach another terminal")
        t.prompt()
        t.run("for i in range(4): print(f'\\rzzstep {i}/3', end='', flush=True); __import__('time').sleep(0.02)")
        t.send(ENTER)  # the for loop ends the cell at the empty line
        t.expect("zzstep 3/3")
        t.prompt()
        t.run("print('\\x1b[2J\\x1b[H\\x1b[32mzz' + 'green\\x1b[0m')")
        t.expect("zzgreen")
        t.prompt()
        t.run("len?")
        t.expect("Return the number of items")
        t.prompt()
        t.run("%mycon restart")
        t.expect("Restart the kernel?")
        t.run("y")
        t.expect("(kernel restarted)")
        t.run("'zz' + 'after'")
        t.expect("Out[1]: 'zzafter'")
        t.prompt()
        t.run(f"%mycon notebook {path}")
        t.expect(f"saved 4 cells to {path}")
        t.prompt()
    finally:
        t.close()
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["code", "code", "code", "markdown", "code"]
    progress, green, help_cell, mark, after = nb.cells
    assert [o.text for o in progress.outputs] == ["zzstep 3/3"]
    assert [o.text for o in green.outputs] == ["\x1b[32mzzgreen\x1b[0m\n"]
    (help_output,) = help_cell.outputs
    assert help_output.output_type == "display_data"
    assert "Return the number of items" in help_output.data["text/plain"]
    assert mark.source == RESTART_MARK
    assert after.execution_count == 1 and after.outputs[0].data["text/plain"] == "'zzafter'"
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    done = subprocess.run(
        [jupyter, "nbconvert", "--to", "html", str(path), "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "session.html").read_text(encoding="utf-8")
    assert "zzstep 3/3" in html and "zzstep 0/3" not in html
    assert re.search(r'<span class="ansi-green-fg">zzgreen</span>', html)
    assert "Return the number of items" in html
    assert "Kernel restarted" in html and "zzafter" in html
