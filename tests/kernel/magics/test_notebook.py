"""The magics notebooks commonly use (%%capture, %%html..., %config, %precision, %who_ls, %save,
%conda), through a real kernel, and a notebook using them run by nbclient."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import execute, running_kernel, stdout_of
from nbclient import NotebookClient

Outputs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebook_magics")


@pytest.fixture(scope="module")
def kc(workdir: Path) -> Iterator[BlockingKernelClient]:
    env = dict(os.environ, MYCON_DATA_DIR=str(workdir / "data"))
    with running_kernel("mycon", cwd=str(workdir), env=env) as (_, client):
        yield client


def run_ok(kc: BlockingKernelClient, code: str) -> Outputs:
    reply, outputs = execute(kc, code)
    errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    assert reply["content"]["status"] == "ok", errors
    return outputs


def run_error(kc: BlockingKernelClient, code: str) -> dict[str, Any]:
    reply, outputs = execute(kc, code)
    assert reply["content"]["status"] == "error"
    errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    if reply["content"]["ename"] == "UsageError":  # one stderr line, as ipykernel shows it
        assert errors == [] and stdout_of(outputs, "stderr").startswith("UsageError: ")
        content: dict[str, Any] = reply["content"]
        return content
    assert len(errors) == 1
    return errors[0]


def of_type(outputs: Outputs, msg_type: str) -> list[dict[str, Any]]:
    return [m["content"] for m in outputs if m["msg_type"] == msg_type]


def result(outputs: Outputs) -> str:
    (content,) = of_type(outputs, "execute_result")
    text: str = content["data"]["text/plain"]
    return text


# ----- %%capture -------------------------------------------------------------------------------


def test_capture_holds_back_print_shell_output_stderr_displays_and_the_value(kc: BlockingKernelClient) -> None:
    cell = (
        "%%capture c\n"
        "print('from print')\n"
        "!echo from a shell; echo to stderr >&2\n"
        "import sys\nsys.stderr.write('python stderr\\n')\n"
        "display(42)\n"
        "'the last value'\n"
    )
    outputs = run_ok(kc, cell)
    assert [m["msg_type"] for m in outputs if m["msg_type"] != "execute_input"] == []
    outputs = run_ok(kc, "print(repr(c.stdout)); print(repr(c.stderr)); [o.data for o in c.outputs]")
    # (a shell command's output and errors come as one terminal stream, as in IPython)
    assert stdout_of(outputs) == "'from print\\nfrom a shell\\r\\nto stderr\\r\\n'\n'python stderr\\n'\n"
    assert result(outputs) == "[{'text/plain': '42'}]"
    outputs = run_ok(kc, "c.show()")
    assert stdout_of(outputs) == "from print\nfrom a shell\r\nto stderr\r\n"
    assert stdout_of(outputs, "stderr") == "python stderr\n"
    assert [d["data"] for d in of_type(outputs, "display_data")] == [{"text/plain": "42"}]
    outputs = run_ok(kc, "c()")  # calling it shows it too
    assert stdout_of(outputs) == "from print\nfrom a shell\r\nto stderr\r\n"
    assert "1 display output" in result(run_ok(kc, "c"))
    # the streams are the kernel's own again
    outputs = run_ok(kc, "print('after')\n!echo shell after")
    assert stdout_of(outputs) == "after\nshell after\r\n"


def test_capture_options_let_one_kind_of_output_through(kc: BlockingKernelClient) -> None:
    outputs = run_ok(kc, "%%capture --no-stdout --no-display c2\nprint('seen')\nimport sys\nprint('hidden', file=sys.stderr)\ndisplay('shown')")
    assert stdout_of(outputs) == "seen\n"
    assert stdout_of(outputs, "stderr") == ""
    assert [d["data"]["text/plain"] for d in of_type(outputs, "display_data")] == ["'shown'"]
    outputs = run_ok(kc, "print(repr(c2.stdout), repr(c2.stderr), c2.outputs)")
    assert stdout_of(outputs) == "'' 'hidden\\n' []\n"
    outputs = run_ok(kc, "%%capture --no-stderr\nimport sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert stdout_of(outputs) == "" and stdout_of(outputs, "stderr") == "err\n"


def test_capture_lets_errors_through_and_keeps_what_came_before(kc: BlockingKernelClient) -> None:
    error = run_error(kc, "%%capture failed\nprint('before the error')\n1/0")
    assert error["ename"] == "ZeroDivisionError"
    assert result(run_ok(kc, "failed.stdout")) == "'before the error\\n'"
    assert stdout_of(run_ok(kc, "print('streams back')")) == "streams back\n"
    assert "unknown option --quiet" in run_error(kc, "%%capture --quiet\npass")["evalue"]
    assert "at most one" in run_error(kc, "%%capture a b\npass")["evalue"]
    assert "not a valid variable name" in run_error(kc, "%%capture class\npass")["evalue"]


def test_capture_keeps_the_cells_figures(kc: BlockingKernelClient) -> None:
    pytest.importorskip("matplotlib")
    outputs = run_ok(kc, "%%capture fig_out\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])")
    assert of_type(outputs, "display_data") == []
    outputs = run_ok(kc, "[sorted(o.data) for o in fig_out.outputs]")
    assert result(outputs) == "[['image/png', 'text/plain']]"
    outputs = run_ok(kc, "fig_out.show()")
    assert [sorted(d["data"]) for d in of_type(outputs, "display_data")] == [["image/png", "text/plain"]]


# ----- cells shown as a mime type --------------------------------------------------------------


@pytest.mark.parametrize(("magic", "body", "mime", "plain"), [  # text/plain as IPython gives it
    ("html", "<p>Hello <b>world</b></p>", "text/html", "<IPython.core.display.HTML object>"),
    ("javascript", "console.log('hi')", "application/javascript", "<IPython.core.display.Javascript object>"),
    ("js", "alert(1)", "application/javascript", "<IPython.core.display.Javascript object>"),
    ("latex", r"$\alpha^2$", "text/latex", "<IPython.core.display.Latex object>"),
    ("markdown", "# Title\n*text*", "text/markdown", "<IPython.core.display.Markdown object>"),
    ("svg", "<svg width='2' height='2'></svg>", "image/svg+xml", "<IPython.core.display.SVG object>"),
])
def test_cell_is_published_as_its_mime_type(kc: BlockingKernelClient, magic: str, body: str, mime: str, plain: str) -> None:
    outputs = run_ok(kc, f"%%{magic}\n{body}")
    (shown,) = of_type(outputs, "display_data")
    assert shown["data"] == {mime: body + "\n", "text/plain": plain}


def test_mime_cell_magics_refuse_what_they_cannot_show(kc: BlockingKernelClient) -> None:
    outputs = run_ok(kc, "%%html --isolated\n<i>x</i>")
    assert of_type(outputs, "display_data")[0]["metadata"] == {"text/html": {"isolated": True}}
    assert "no <svg> element" in run_error(kc, "%%svg\n<p>not an image</p>")["evalue"]
    assert "takes no arguments" in run_error(kc, "%%markdown extra\n# x")["evalue"]
    listing = result(run_ok(kc, "%lsmagic")).replace("\\n", " ")
    for name in ("%%capture", "%%html", "%%javascript", "%%js", "%%latex", "%%markdown", "%%svg",
                 "%config", "%precision", "%who_ls", "%save", "%conda", "%mamba"):
        assert name in listing.split()


# ----- %config --------------------------------------------------------------------------------


def test_config_lists_what_it_supports_and_ignores_the_rest(kc: BlockingKernelClient) -> None:
    outputs = run_ok(kc, "%config")
    assert "InlineBackend.figure_format = 'png' | 'retina' | 'svg'" in stdout_of(outputs)
    outputs = run_ok(kc, "%config Completer.use_jedi = False\n%config IPCompleter.greedy=True")
    lines = stdout_of(outputs, "stderr").splitlines()
    assert len(lines) == 2 and all("ignored" in line for line in lines)
    assert "Completer.use_jedi" in lines[0]
    outputs = run_ok(kc, "%config InlineBackend.figure_format = 'pdf'")
    assert "not supported" in stdout_of(outputs, "stderr")
    assert "unknown figure format 'gif'" in run_error(kc, "%config InlineBackend.figure_format = 'gif'")["evalue"]
    assert "cannot evaluate" in run_error(kc, "%config InlineBackend.figure_format = retina")["evalue"]
    assert "expected Class.trait = value" in run_error(kc, "%config = 3")["evalue"]


def test_config_figure_format_retina_and_svg(kc: BlockingKernelClient) -> None:
    pytest.importorskip("matplotlib")
    draw = "import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 1), dpi=50)\nplt.plot([1, 2]);"
    try:
        run_ok(kc, "%config InlineBackend.figure_format = 'png'")
        (plain,) = of_type(run_ok(kc, draw), "display_data")
        run_ok(kc, "%config InlineBackend.figure_format = 'retina'")
        (retina,) = of_type(run_ok(kc, draw), "display_data")
        png = base64.b64decode(retina["data"]["image/png"])
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert retina["metadata"]["image/png"] == {"width": width // 2, "height": height // 2}
        plain_width = int.from_bytes(base64.b64decode(plain["data"]["image/png"])[16:20], "big")
        assert abs(width - 2 * plain_width) <= 4  # twice the pixels, shown at the same size
        run_ok(kc, "%config InlineBackend.figure_format = 'svg'")
        (svg,) = of_type(run_ok(kc, draw), "display_data")
        assert sorted(svg["data"]) == ["image/svg+xml", "text/plain"]
        assert "<svg" in svg["data"]["image/svg+xml"]
        run_ok(kc, "%config InlineBackend.figure_formats = {'png', 'svg'}")
        (both,) = of_type(run_ok(kc, draw), "display_data")
        assert sorted(both["data"]) == ["image/png", "image/svg+xml", "text/plain"]
        assert "'png', 'svg'" in stdout_of(run_ok(kc, "%config InlineBackend"))
    finally:
        run_ok(kc, "%config InlineBackend.figure_format = 'png'")


# ----- %precision, %who_ls ---------------------------------------------------------------------


def test_precision_sets_how_floats_print(kc: BlockingKernelClient) -> None:
    try:
        assert result(run_ok(kc, "%precision 3")) == "'%.3f'"
        assert result(run_ok(kc, "3.14159265")) == "3.142"
        assert result(run_ok(kc, "[1.5, {'pi': 3.14159265}, 2]")) == "[1.500, {'pi': 3.142}, 2]"
        assert result(run_ok(kc, "%precision %.2e\n31415.9")) == "3.14e+04"
        assert "not a format" in run_error(kc, "%precision %d %d")["evalue"]
        assert "number of decimals" in run_error(kc, "%precision many")["evalue"]
        assert result(run_ok(kc, "%precision\n3.14159265")) == "3.14159265"
        pytest.importorskip("numpy")
        assert result(run_ok(kc, "import numpy as np\n%precision 2\nnp.array([1.23456])")) == "array([1.23])"
        assert result(run_ok(kc, "%precision\nnp.array([1.23456])")) == "array([1.23456])"
    finally:
        run_ok(kc, "%precision")


def test_who_ls_returns_the_sorted_names(kc: BlockingKernelClient) -> None:
    run_ok(kc, "%reset -f\nzeta = 1\nalpha = 'a'\ndef fn(): pass")
    assert result(run_ok(kc, "%who_ls")) == "['alpha', 'fn', 'zeta']"
    assert result(run_ok(kc, "names = %who_ls int function\nnames")) == "['fn', 'zeta']"


# ----- %save -----------------------------------------------------------------------------------


def test_save_writes_history_ranges_to_a_py_file(kc: BlockingKernelClient, workdir: Path) -> None:
    first = run_ok(kc, "a_saved = 1")
    count = int(of_type(first, "execute_input")[0]["execution_count"])
    run_ok(kc, "b_saved = 2")
    run_ok(kc, "c_saved = a_saved + b_saved")
    outputs = run_ok(kc, f"%save snippet {count}-{count + 1} {count + 2}")
    assert "written to file `snippet.py`" in stdout_of(outputs)
    assert (workdir / "snippet.py").read_text() == "a_saved = 1\nb_saved = 2\nc_saved = a_saved + b_saved\n"
    assert "use %save -f" in run_error(kc, f"%save snippet.py {count}")["evalue"]
    run_ok(kc, f"%save -f snippet.py {count + 2}")
    assert (workdir / "snippet.py").read_text() == "c_saved = a_saved + b_saved\n"
    run_ok(kc, f"%save -a snippet {count}")
    assert (workdir / "snippet.py").read_text() == "c_saved = a_saved + b_saved\na_saved = 1\n"
    assert "needs a file name" in run_error(kc, "%save")["evalue"]
    assert "not a history range" in run_error(kc, "%save other.py x-y")["evalue"]


# ----- %conda, %mamba --------------------------------------------------------------------------


def test_conda_runs_for_this_environment_and_is_refused_without_conda(kc: BlockingKernelClient, workdir: Path) -> None:
    empty = workdir / "empty-bin"
    empty.mkdir()
    fake = workdir / "fake-bin"
    fake.mkdir()
    script = fake / "conda"
    script.write_text("#!/bin/sh\necho conda got: \"$@\"\n")
    script.chmod(0o755)
    run_ok(kc, f"import os\nsaved_path = os.environ['PATH']\nos.environ.pop('CONDA_EXE', None)\nos.environ['PATH'] = {str(empty)!r}")
    try:
        assert "not on this kernel's PATH" in run_error(kc, "%conda install numpy")["evalue"]
        assert "`mamba` is not on" in run_error(kc, "%mamba list")["evalue"]
        run_ok(kc, f"os.environ['PATH'] = {str(fake)!r} + ':' + saved_path")
        outputs = run_ok(kc, "%conda install -c conda-forge numpy")
        lines = stdout_of(outputs).splitlines()
        prefix = _kernel_prefix(kc)
        assert lines[0] == f"conda got: install --prefix {prefix} -c conda-forge numpy --yes"
        assert "restart the kernel" in lines[1]
        outputs = run_ok(kc, "%conda list -n base")
        assert stdout_of(outputs) == "conda got: list -n base\n"
    finally:
        run_ok(kc, "os.environ['PATH'] = saved_path")


def _kernel_prefix(kc: BlockingKernelClient) -> str:
    return stdout_of(run_ok(kc, "import sys\nprint(sys.prefix)")).strip()


# ----- a notebook, run by nbclient --------------------------------------------------------------


def test_nbclient_runs_a_notebook_using_these_magics(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%config InlineBackend.figure_format = 'retina'\n%precision 2"),
        nbformat.v4.new_code_cell("%%capture setup\nprint('noisy set-up')\n!echo more noise"),
        nbformat.v4.new_code_cell("%%html\n<b>report</b>"),
        nbformat.v4.new_code_cell("import math\nmath.pi"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 1), dpi=40)\nplt.plot([1, 2]);"),
        nbformat.v4.new_code_cell("setup.stdout"),
    ]
    client = NotebookClient(nb, kernel_name="mycon", timeout=30, startup_timeout=30,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    config, capture, html, pi, figure, captured = (cell.outputs for cell in nb.cells)
    assert config[0]["data"]["text/plain"] == "'%.2f'"
    assert capture == []
    assert html[0]["output_type"] == "display_data" and html[0]["data"]["text/html"] == "<b>report</b>\n"
    assert pi[0]["data"]["text/plain"] == "3.14"
    assert figure[0]["output_type"] == "display_data"
    assert set(figure[0]["metadata"]["image/png"]) == {"width", "height"}
    assert captured[0]["data"]["text/plain"] == "'noisy set-up\\nmore noise\\r\\n'"
