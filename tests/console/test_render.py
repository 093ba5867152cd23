"""Rendering is pure: messages in, terminal text out (no terminal, no kernel)."""

from __future__ import annotations

from dataclasses import replace

from console import render

OPTS = render.RenderOptions(width=80, color=True)
MONO = render.RenderOptions(width=80, color=False)


def msg(msg_type: str, **content: object) -> dict[str, object]:
    return {"header": {"msg_type": msg_type}, "parent_header": {}, "content": content}


def test_stdout_verbatim_and_progress_kept() -> None:
    text = render.render_iopub(msg("stream", name="stdout", text="10%\r50%\r100%\n"), OPTS)
    assert text == "10%\r50%\r100%\n"


def test_stderr_marked_red_per_line() -> None:
    text = render.render_iopub(msg("stream", name="stderr", text="a\nb\n"), OPTS)
    assert text == "\x1b[31ma\x1b[0m\n\x1b[31mb\x1b[0m\n"
    assert render.render_iopub(msg("stream", name="stderr", text="a"), MONO) == "a"


def test_execute_result_out_prompt() -> None:
    text = render.render_iopub(
        msg("execute_result", execution_count=3, data={"text/plain": "42"}, metadata={}), MONO
    )
    assert text == "Out[3]: 42\n"
    multi = render.render_iopub(
        msg("execute_result", execution_count=4, data={"text/plain": "a\nb"}, metadata={}), MONO
    )
    assert multi == "Out[4]: \na\nb\n"
    coloured = render.render_iopub(
        msg("execute_result", execution_count=5, data={"text/plain": "1"}, metadata={}), OPTS
    )
    assert coloured.startswith("\x1b[31mOut[5]: \x1b[0m")


def test_display_data_as_text() -> None:
    text = render.render_iopub(
        msg("display_data", data={"text/plain": "<Figure>", "image/png": "AAAA"}, metadata={}), MONO
    )
    assert "<Figure>" in text or "image/png" in text or text.strip()


def test_error_keeps_kernel_colours_or_strips_them() -> None:
    tb = ["\x1b[31mTraceback\x1b[0m", "ZeroDivisionError: division by zero"]
    content = {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": tb}
    assert render.render_iopub(msg("error", **content), OPTS) == "\n".join(tb) + "\n"
    plain = render.render_iopub(msg("error", **content), MONO)
    assert "\x1b" not in plain and "Traceback" in plain
    bare = render.render_error({"ename": "E", "evalue": "v", "traceback": []}, MONO)
    assert bare == "E: v\n"


def test_unknown_and_status_render_nothing() -> None:
    assert render.render_iopub(msg("status", execution_state="idle"), OPTS) == ""
    assert render.render_iopub(msg("comm_open"), OPTS) == ""


def test_bundle_without_text_plain_says_what_it_is() -> None:
    text = render.render_bundle({"application/x-weird": "x"}, {}, MONO)
    assert "application/x-weird" in text


def test_other_client_input() -> None:
    text = render.render_input({"code": "a = 1\nb = 2", "execution_count": 7}, MONO, who="client 2")
    assert text.splitlines()[0] == "[client 2] In [7]: a = 1"
    assert text.splitlines()[1].endswith("...: b = 2")


def test_banner_and_attach_hint() -> None:
    info = {"banner": "Kernel X\n", "language_info": {"name": "x"}}
    assert render.render_banner(info, "To attach: mycon --existing a", MONO) == (
        "Kernel X\nTo attach: mycon --existing a\n"
    )
    fallback = render.render_banner({"implementation": "k", "language_info": {"name": "l"}}, "", MONO)
    assert fallback.startswith("k (l")


def test_page_and_signature_help() -> None:
    data = {"text/plain": "\x1b[31mSignature:\x1b[0m f(x)\n\x1b[31mDocstring:\x1b[0m Doubles.\nType: function\n"}
    assert "\x1b" not in render.render_page(data, MONO)
    assert render.signature_help(data) == "f(x)\nDoubles."
    ipy = {"text/plain": "Signature: os.path.join(a, *p)\nDocstring:\nJoin two paths.\nFile: x.py\n"}
    assert render.signature_help(ipy) == "os.path.join(a, *p)\nJoin two paths."


def test_prompts_line_up() -> None:
    assert len(render.in_prompt_text(12)) == len(render.continuation_text(12))
    assert render.continuation_text(3).endswith("...: ")


def test_prompts_from_templates() -> None:
    classic = render.Prompts(input=">>> ", output="")
    assert render.in_prompt_text(4, classic) == ">>> "
    assert render.continuation_text(4, classic) == "... "
    numbered = render.Prompts(input="[{n}] ", continuation="{n}| ", output="= ")
    assert render.in_prompt_text(12, numbered) == "[12] "
    assert render.continuation_text(12, numbered) == "12| "
    assert render.Prompts(input="py {n}> ").input_parts(3) == ("py ", "3", "> ")
    opts = replace(MONO, prompts=classic)
    result = {"data": {"text/plain": "1\n2"}, "execution_count": 4}
    assert render.render_execute_result(result, opts) == "1\n2\n"  # no label, no blank line
    other = render.render_input({"code": "a\nb", "execution_count": 4}, opts, who="client 2")
    assert other == "[client 2] >>> a\n           ... b\n"


def test_input_wait_of_another_client() -> None:
    waiting = render.render_input_wait({"state": "waiting", "prompt": "Name?\n> ", "password": False}, MONO, "client 2")
    assert waiting == "[client 2] asked for input: Name? >  (the kernel waits for their answer)\n"
    secret = render.render_input_wait({"state": "waiting", "prompt": "\x1b[1mPIN: ", "password": True}, MONO, "client 2")
    assert secret.startswith("[client 2] asked for a password: PIN:  (")
    long = render.render_input_wait({"state": "waiting", "prompt": "x" * 500, "password": False}, MONO, "c")
    assert len(long) < 200 and "…" in long
    assert render.render_input_wait({"state": "answered"}, MONO, "client 2") == "[client 2] answered\n"
    assert render.render_input_wait({"state": "cancelled", "password": True}, MONO, "client 2") == "[client 2] a password cancelled\n"
    assert render.render_input_wait({"state": 7, "prompt": ["odd"]}, MONO, "c") == "[c] input cancelled\n"
