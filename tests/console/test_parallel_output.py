"""Parallel (%px) output: engine labels coloured per engine, identical remote errors folded.

The texts are what ipyparallel 9 sends (recorded from ipykernel and from our kernel running
``%px`` on a 2-engine cluster); the terminal tests are in test_parallel_terminal.py.
"""

from __future__ import annotations

from console import parallel_output as px
from console.displays import OutputArea
from console.render import RenderOptions, strip_ansi

COLOR = RenderOptions(color=True, graphics="none", color_depth="256")
PLAIN = RenderOptions(color=False, graphics="none", color_depth="mono")

TB = (
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m\n"
    "\x1b[31mZeroDivisionError\x1b[39m                         Traceback (most recent call last)\n"
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[{n}]\x1b[39m\x1b[32m, line 1\x1b[39m\n"
    "\x1b[32m----> \x1b[39m\x1b[32m1\x1b[39m \x1b[32m1\x1b[39m/\x1b[32m0\x1b[39m\n\n"
    "\x1b[31mZeroDivisionError\x1b[39m: division by zero\n"
)


def test_labels_get_their_engine_colour() -> None:
    text = px.color_labels("[stdout:0] hi\n[stdout:1] hi\n", COLOR)
    assert px.engine_color(0) + "[stdout:0]" in text
    assert px.engine_color(1) + "[stdout:1]" in text
    assert px.engine_color(0) != px.engine_color(1)
    assert strip_ansi(text) == "[stdout:0] hi\n[stdout:1] hi\n"


def test_result_label_recoloured_and_plain_without_colour() -> None:
    sent = "\x1b[0;31mOut[1:5]: \x1b[0m3"  # ipyparallel paints every Out[e:n] red
    coloured = px.color_labels(sent, COLOR)
    assert px.engine_color(1) + "Out[1:5]:" in coloured
    assert "\x1b[0;31m" not in coloured
    assert px.color_labels(sent, PLAIN) == "Out[1:5]: 3"


def test_only_labels_at_a_line_start() -> None:
    assert px.color_labels("x = [stdout:0]\n", COLOR) == "x = [stdout:0]\n"
    assert not px.has_engine_label("print([1:2])")


def test_identical_errors_fold_into_one_block_naming_the_engines() -> None:
    text = "[1:execute]\n" + TB.format(n=2) + "[0:execute]\n" + TB.format(n=3)
    folded = strip_ansi(px.fold_engine_errors(text, COLOR))
    assert folded.count("ZeroDivisionError: division by zero") == 1
    assert folded.startswith("[0,1:execute] the same error on 2 engines: 0, 1\n")


def test_different_errors_stay_apart() -> None:
    other = TB.replace("ZeroDivisionError", "NameError")
    text = "[0:execute]\n" + TB.format(n=2) + "[1:execute]\n" + other.format(n=2) + "[2:execute]\n" + TB.format(n=2)
    folded = strip_ansi(px.fold_engine_errors(text, PLAIN))
    assert "[0,2:execute] the same error on 2 engines: 0, 2" in folded
    assert "\n[1:execute]\nNameError" in folded.replace("-" * 75 + "\n", "")


def _area(out: list[str]) -> OutputArea:
    return OutputArea(out.append, lambda: COLOR, lambda: 50)


def test_area_folds_errors_sent_one_message_per_engine() -> None:
    """Our kernel sends each engine's block in its own stream message; ipykernel both in one."""
    for messages in (
        ["[1:execute]\n" + TB.format(n=2), "[0:execute]\n" + TB.format(n=2)],
        ["[1:execute]\n" + TB.format(n=2) + "[0:execute]\n" + TB.format(n=2)],
    ):
        out: list[str] = []
        area = _area(out)
        area.begin_cell()
        for text in messages:
            area.show({"header": {"msg_type": "stream"}, "content": {"name": "stderr", "text": text}})
        assert out == []  # held until the engines' errors are all in
        area.show({"header": {"msg_type": "error"},
                   "content": {"ename": "AlreadyDisplayedError", "evalue": "2 errors", "traceback": ["long"]}})
        area.end_cell()
        shown = strip_ansi("".join(out))
        assert shown.count("division by zero") == 1
        assert "[0,1:execute] the same error on 2 engines: 0, 1" in shown
        assert shown.endswith("2 errors on the engines (shown above)\n")


def test_area_labels_display_outputs() -> None:
    out: list[str] = []
    area = _area(out)
    area.begin_cell()
    area.show({"header": {"msg_type": "display_data"},
               "content": {"data": {"text/plain": "[stdout:3] hi 1\n"}, "metadata": {},
                           "transient": {"display_id": "x-stdout"}}})
    area.end_cell()
    assert px.engine_color(3) + "[stdout:3]" in "".join(out)


# -- mycon --cluster: the pieces that need no cluster ------------------------------------------


def test_autopx_switch_read_from_output() -> None:
    assert px.autopx_switch("%autopx enabled\n") is True
    assert px.autopx_switch("\x1b[0m%autopx disabled\n") is False
    assert px.autopx_switch("print('%autopx is nice')\n") is None


def test_missing_ipyparallel_in_the_kernel_is_one_line_with_the_fix() -> None:
    from console.parallel import failure_text

    line = failure_text({"status": "error", "ename": "ModuleNotFoundError",
                         "evalue": "No module named 'ipyparallel'"})
    assert line == "--cluster needs ipyparallel where the kernel runs: pip install mycon[parallel]"


def test_ready_note_counts_the_engines() -> None:
    from console.parallel import ready_text

    content = {"user_expressions": {"engines": {"status": "ok", "data": {"text/plain": "4"}}}}
    assert ready_text(content, 4).startswith("(cluster ready: 4 engines up;")


def test_cluster_flags_checked_in_one_line() -> None:
    from click.testing import CliRunner

    from console import cli

    for args, says in (
        (["--cluster", "0"], "--cluster wants a number of engines of at least 1, not 0"),
        (["--keep-cluster"], "--keep-cluster goes with --cluster N"),
        (["--watch"], "--watch goes with --existing"),
        (["--existing", "x", "--watch", "--cluster", "2"], "--watch never runs anything"),
    ):
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 2, args
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and says in lines[0], result.output
