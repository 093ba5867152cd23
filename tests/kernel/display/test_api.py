"""Rich display: the wrappers' mime bundles, display()/update_display()/clear_output() on a real
Shell, and the same end to end through a real kernel (matplotlib figures included)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import execute, stdout_of

from kernel.display import (
    HTML,
    JSON,
    SVG,
    DisplayHandle,
    Image,
    Javascript,
    Latex,
    Markdown,
    Pretty,
    clear_output,
    display,
    formatting,
    update_display,
)
from kernel.display import api as display_module
from kernel.execution.shell import Shell

# a valid 1x1 PNG and the start of a JPEG whose SOF0 frame says 3x2 pixels
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x00\x02\x00\x03\x03" + b"\x00" * 12 + b"\xff\xd9"


def bundle(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    data, metadata, problems = formatting.format_object(obj)
    assert problems == []
    return data, metadata


# ----- wrappers ---------------------------------------------------------------------------------


def test_html_has_html_and_readable_plain_text() -> None:
    data, _ = bundle(HTML("<h1>Title</h1><p>some <b>bold</b> text</p><script>x()</script>"))
    assert data["text/html"].startswith("<h1>Title</h1>")
    assert data["text/plain"] == "Title\nsome bold text"


def test_markdown_latex_pretty_javascript() -> None:
    assert bundle(Markdown("# Head\n*it*"))[0] == {"text/markdown": "# Head\n*it*", "text/plain": "# Head\n*it*"}
    assert bundle(Latex(r"$\alpha^2$"))[0] == {"text/latex": r"$\alpha^2$", "text/plain": r"$\alpha^2$"}
    assert bundle(Pretty("as is"))[0] == {"text/plain": "as is"}
    data, _ = bundle(Javascript("console.log(1)"))
    assert data["application/javascript"] == "console.log(1)"
    assert data["text/plain"] == "<Javascript: console.log(1)>"


def test_wrappers_read_files(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<i>from a file</i> é", encoding="utf-8")
    assert bundle(HTML(filename=str(page)))[0]["text/html"] == "<i>from a file</i> é"
    assert bundle(HTML(str(page)))[0]["text/html"] == "<i>from a file</i> é"
    assert bundle(Markdown(page))[0]["text/markdown"] == "<i>from a file</i> é"
    with pytest.raises(ValueError, match="cannot read"):
        HTML(filename=str(tmp_path / "missing.html"))


def test_json_from_objects_and_text() -> None:
    data, metadata = bundle(JSON({"a": [1, 2]}, expanded=True))
    assert data["application/json"] == {"a": [1, 2]}
    assert metadata["application/json"] == {"expanded": True, "root": "root"}
    assert json.loads(data["text/plain"]) == {"a": [1, 2]}
    assert bundle(JSON('[1, "x"]'))[0]["application/json"] == [1, "x"]
    with pytest.raises(ValueError, match="not valid JSON"):
        JSON("{nope")
    with pytest.raises(ValueError, match="cannot be sent as JSON"):
        JSON({"x": object()})


def test_svg_from_text_bytes_and_file(tmp_path: Path) -> None:
    svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>'
    data, _ = bundle(SVG(svg))
    assert data["image/svg+xml"].startswith("<svg")
    path = tmp_path / "c.svg"
    path.write_text(svg)
    assert bundle(SVG(filename=str(path)))[0]["image/svg+xml"].startswith("<svg")
    assert bundle(SVG(svg.encode()))[0]["image/svg+xml"].endswith("</svg>")
    with pytest.raises(ValueError, match="<svg>"):
        SVG("<div>not an svg</div>")


def test_image_png_from_bytes_with_size_metadata() -> None:
    data, metadata = bundle(Image(PNG, width=120, height="2em"))
    assert base64.b64decode(data["image/png"]) == PNG
    assert metadata["image/png"] == {"width": 120, "height": "2em"}
    assert data["text/plain"] == f"<Image: png 1x1, {len(PNG)} bytes>"
    assert "image/jpeg" not in data


def test_image_jpeg_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    for image in (Image(filename=str(path)), Image(str(path)), Image(path)):
        data, _ = bundle(image)
        assert base64.b64decode(data["image/jpeg"]) == JPEG
        assert data["text/plain"] == f"<Image: jpeg 3x2, {len(JPEG)} bytes>"


def test_image_url_is_kept_as_a_link() -> None:
    data, _ = bundle(Image("https://example.invalid/cat.png", width=10))
    assert data["text/html"] == '<img src="https://example.invalid/cat.png" width="10"/>'
    assert data["text/plain"] == "<Image: https://example.invalid/cat.png>"
    assert "image/png" not in data


def test_image_retina_halves_the_display_size() -> None:
    _, metadata = bundle(Image(JPEG, retina=True))
    assert metadata["image/jpeg"] == {"width": 1, "height": 1}
    with pytest.raises(ValueError, match="does not download"):
        Image(url="https://example.invalid/x.png", embed=True)


def test_image_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="neither an existing file nor a URL"):
        Image("no-such-file.png")
    with pytest.raises(ValueError, match="neither PNG nor JPEG"):
        Image(b"GIF89a....")
    with pytest.raises(ValueError, match="unsupported format"):
        Image(PNG, format="bmp")
    with pytest.raises(ValueError, match="needs data"):
        Image()
    with pytest.raises(TypeError, match="must be bytes"):
        Image(12)


# ----- display() on a real Shell --------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Messages published by display helpers bound to a real (socket-less) Shell."""
    messages: list[tuple[str, dict[str, Any]]] = []
    shell = Shell(lambda msg_type, content: messages.append((msg_type, content)))
    monkeypatch.setattr(display_module, "_shell", shell)
    return messages


def test_display_publishes_display_data(published: list[tuple[str, dict[str, Any]]]) -> None:
    assert display(HTML("<b>x</b>"), 42) is None
    assert [m for m, _ in published] == ["display_data", "display_data"]
    assert published[0][1] == {
        "data": {"text/html": "<b>x</b>", "text/plain": "x"},
        "metadata": {},
        "transient": {},
    }
    assert published[1][1]["data"] == {"text/plain": "42"}


def test_display_handle_updates_in_place(published: list[tuple[str, dict[str, Any]]]) -> None:
    handle = display("first", display_id=True)
    assert isinstance(handle, DisplayHandle)
    assert len(handle.display_id) == 32
    handle.update("second")
    handle.display("third")
    kinds = [(m, c["transient"]["display_id"], c["data"]["text/plain"]) for m, c in published]
    assert kinds == [
        ("display_data", handle.display_id, "'first'"),
        ("update_display_data", handle.display_id, "'second'"),
        ("display_data", handle.display_id, "'third'"),
    ]


def test_named_display_ids_and_update_display(published: list[tuple[str, dict[str, Any]]]) -> None:
    handle = display(1, display_id="progress")
    assert handle is not None and handle.display_id == "progress"
    update_display(2, display_id="progress")
    display(3, transient={"display_id": "other"})
    assert [(m, c["transient"]) for m, c in published] == [
        ("display_data", {"display_id": "progress"}),
        ("update_display_data", {"display_id": "progress"}),
        ("display_data", {"display_id": "other"}),
    ]
    with pytest.raises(TypeError, match="display_id"):
        update_display(4, display_id="")


def test_clear_output_and_display_clear(published: list[tuple[str, dict[str, Any]]]) -> None:
    clear_output()
    clear_output(wait=True)
    display("x", clear=True)
    assert [(m, c.get("wait")) for m, c in published] == [
        ("clear_output", False),
        ("clear_output", True),
        ("clear_output", True),
        ("display_data", None),
    ]


def test_include_exclude_metadata_and_raw(published: list[tuple[str, dict[str, Any]]]) -> None:
    display(HTML("<b>x</b>"), exclude=["text/html"])
    display(HTML("<b>x</b>"), include=["text/html"], metadata={"isolated": True})
    display({"text/markdown": "**raw**", "text/plain": "raw"}, raw=True)
    assert published[0][1]["data"] == {"text/plain": "x"}
    assert published[1][1]["data"] == {"text/html": "<b>x</b>"}
    assert published[1][1]["metadata"] == {"isolated": True}
    assert published[2][1]["data"] == {"text/markdown": "**raw**", "text/plain": "raw"}
    with pytest.raises(TypeError, match="mime bundles"):
        display("not a dict", raw=True)


def test_failing_repr_method_is_reported_not_fatal(published: list[tuple[str, dict[str, Any]]]) -> None:
    class Broken:
        def _repr_html_(self) -> str:
            raise RuntimeError("html is broken")

        def _repr_markdown_(self) -> str:
            return "*still here*"

        def __repr__(self) -> str:
            return "Broken()"

    display(Broken())
    assert published[0] == (
        "stream",
        {"name": "stderr", "text": "_repr_html_ of Broken() failed: RuntimeError: html is broken\n"},
    )
    assert published[1][1]["data"] == {"text/markdown": "*still here*", "text/plain": "Broken()"}


def test_outside_a_kernel_display_prints_plain_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display_module, "_shell", None)
    display(Markdown("# hello"), [1, 2])
    clear_output()
    assert capsys.readouterr().out == "# hello\n[1, 2]\n"


# ----- end to end through a real kernel ---------------------------------------------------------------


def outputs_of(outputs: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [m for m in outputs if m["msg_type"] in kinds]


def run_ok(kc: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    reply, outputs = execute(kc, code)
    errors = outputs_of(outputs, "error")
    assert reply["content"]["status"] == "ok", errors
    return outputs


def test_kernel_display_builtins(kernel_client: BlockingKernelClient) -> None:
    outputs = run_ok(kernel_client, "from kernel.display import HTML\ndisplay(HTML('<b>bold</b>'), 7)")
    shown = outputs_of(outputs, "display_data")
    assert [m["content"]["data"] for m in shown] == [
        {"text/html": "<b>bold</b>", "text/plain": "bold"},
        {"text/plain": "7"},
    ]


def test_kernel_display_handle_update(kernel_client: BlockingKernelClient) -> None:
    outputs = run_ok(
        kernel_client,
        "h = display('start', display_id=True)\nprint('between')\nh.update('done')\n"
        "update_display('again', display_id=h.display_id)",
    )
    kinds = [m["msg_type"] for m in outputs if m["msg_type"] != "execute_input"]
    assert kinds == ["display_data", "stream", "update_display_data", "update_display_data"]
    ids = {m["content"]["transient"]["display_id"] for m in outputs_of(outputs, "display_data", "update_display_data")}
    assert len(ids) == 1
    assert outputs_of(outputs, "update_display_data")[0]["content"]["data"] == {"text/plain": "'done'"}


def test_kernel_clear_output_wait(kernel_client: BlockingKernelClient) -> None:
    outputs = run_ok(kernel_client, "print('old', flush=True)\nclear_output(wait=True)\nprint('new')")
    kinds = [(m["msg_type"], m["content"].get("text") or m["content"].get("wait")) for m in outputs if m["msg_type"] != "execute_input"]
    assert kinds == [("stream", "old\n"), ("clear_output", True), ("stream", "new\n")]


def test_kernel_failing_repr_is_reported(kernel_client: BlockingKernelClient) -> None:
    code = (
        "class Shaky:\n"
        "    def _repr_html_(self):\n"
        "        raise ZeroDivisionError('no html')\n"
        "    def __repr__(self):\n"
        "        return 'Shaky()'\n"
        "Shaky()"
    )
    reply, outputs = execute(kernel_client, code)
    # as ipykernel: the error with its traceback, the reply an error, the plain text still shown
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "ZeroDivisionError"
    errors = outputs_of(outputs, "error")
    assert errors[0]["content"]["evalue"] == "no html"
    assert "raise ZeroDivisionError('no html')" in "\n".join(errors[0]["content"]["traceback"])
    result = outputs_of(outputs, "execute_result")
    assert result[0]["content"]["data"] == {"text/plain": "Shaky()"}
    run_ok(kernel_client, "1")  # and the kernel still serves


def test_kernel_results_are_pretty_printed(kernel_client: BlockingKernelClient) -> None:
    outputs = run_ok(kernel_client, "{'numbers': list(range(25)), 'name': 'x'}")
    text = outputs_of(outputs, "execute_result")[0]["content"]["data"]["text/plain"]
    assert text.startswith("{'numbers': [0,\n  1,\n")  # as IPython lays it out
    assert text.endswith("\n  24],\n 'name': 'x'}")


def png_of(message: dict[str, Any]) -> bytes:
    data = base64.b64decode(message["content"]["data"]["image/png"])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return data


def test_kernel_matplotlib_figures_are_png(kernel_client: BlockingKernelClient) -> None:
    pytest.importorskip("matplotlib")
    outputs = run_ok(kernel_client, "import matplotlib\nprint(matplotlib.get_backend())")
    assert stdout_of(outputs).strip() == "module://kernel.display.mpl_backend"

    # plt.show() displays the open figure once; nothing is left for the end of the cell
    outputs = run_ok(kernel_client, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
    shown = outputs_of(outputs, "display_data")
    assert len(shown) == 1
    png_of(shown[0])
    assert shown[0]["content"]["data"]["text/plain"] == "<Figure size 640x480 with 1 Axes>"

    # a figure as the last expression is the result, and not shown a second time
    outputs = run_ok(kernel_client, "fig, ax = plt.subplots()\nax.bar([1, 2], [3, 4])\nfig")
    assert len(outputs_of(outputs, "display_data")) == 0
    png_of(outputs_of(outputs, "execute_result")[0])

    # a figure left open at the end of a cell is shown then closed
    outputs = run_ok(kernel_client, "plt.figure()\nplt.scatter([1], [2])\nNone")
    assert len(outputs_of(outputs, "display_data")) == 1
    outputs = run_ok(kernel_client, "len(plt.get_fignums())")
    assert outputs_of(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "0"

    # an empty figure is not shown; a Figure made without pyplot still has a PNG
    outputs = run_ok(kernel_client, "plt.figure()\nfrom matplotlib.figure import Figure\nf = Figure()\nf.add_subplot().plot([1])\nf")
    assert len(outputs_of(outputs, "display_data")) == 0
    png_of(outputs_of(outputs, "execute_result")[0])


def test_kernel_subprocesses_do_not_inherit_a_backend(kernel_client: BlockingKernelClient) -> None:
    outputs = run_ok(
        kernel_client,
        "import subprocess, sys\n"
        "print(subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"MPLBACKEND\"))'],"
        " capture_output=True, text=True).stdout)",
    )
    assert stdout_of(outputs).strip() == "None"


def test_kernel_matplotlib_magic(kernel_client: BlockingKernelClient) -> None:
    pytest.importorskip("matplotlib")
    outputs = run_ok(kernel_client, "%matplotlib inline\nimport matplotlib\nprint(matplotlib.get_backend())")
    assert stdout_of(outputs).strip() == "module://kernel.display.mpl_backend"
    outputs = run_ok(kernel_client, "%matplotlib --list")
    assert "inline" in stdout_of(outputs)
    reply, outputs = execute(kernel_client, "%matplotlib no-such-backend")
    assert reply["content"]["status"] == "error"
    assert "cannot use backend 'no-such-backend'" in reply["content"]["evalue"]
    outputs = run_ok(kernel_client, "%matplotlib agg\nimport matplotlib.pyplot as plt\nplt.plot([1])\nplt.close('all')")
    outputs = run_ok(kernel_client, "print(matplotlib.get_backend())\n%matplotlib inline")
    assert stdout_of(outputs).strip() == "agg"
    outputs = run_ok(kernel_client, "plt.plot([2, 1]);")
    assert len(outputs_of(outputs, "display_data")) == 1


def test_kernel_ipython_display_is_routed_to_ours(kernel_client: BlockingKernelClient) -> None:
    pytest.importorskip("IPython")
    outputs = run_ok(
        kernel_client,
        "from IPython.display import display as ip_display, HTML as IpHTML, clear_output as ip_clear\n"
        "ip_display(IpHTML('<i>from IPython</i>'))\n"
        "handle = ip_display('v1', display_id=True)\n"
        "handle.update('v2')\n"
        "ip_clear(wait=True)",
    )
    kinds = [m["msg_type"] for m in outputs if m["msg_type"] != "execute_input"]
    assert kinds == ["display_data", "display_data", "update_display_data", "clear_output"]
    assert outputs_of(outputs, "display_data")[0]["content"]["data"]["text/html"] == "<i>from IPython</i>"
