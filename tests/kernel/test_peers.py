"""Peers no one here wrote, driving our kernel unchanged: nbclient and jupyter console."""

from __future__ import annotations

import os
import shutil
import sys

import nbformat
import pexpect
import pytest
from nbclient import NotebookClient

PROMPT_TIMEOUT = 30


def test_nbclient_runs_a_notebook() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 21\nprint('half:', x)"),
        nbformat.v4.new_code_cell("x * 2"),
        nbformat.v4.new_code_cell("import sys\nsys.stderr.write('warn\\n')"),
        nbformat.v4.new_code_cell("class R:\n    def _repr_html_(self):\n        return '<i>rich</i>'\nR()"),
    ]
    client = NotebookClient(nb, kernel_name="mycon", timeout=30, startup_timeout=30)
    client.execute()
    first, second, third, fourth = (cell.outputs for cell in nb.cells)
    assert first == [nbformat.v4.new_output("stream", name="stdout", text="half: 21\n")]
    assert second[0]["output_type"] == "execute_result"
    assert second[0]["data"]["text/plain"] == "42"
    assert [o["name"] for o in third if o["output_type"] == "stream"] == ["stderr"]
    assert fourth[0]["data"]["text/html"] == "<i>rich</i>"
    assert [cell.execution_count for cell in nb.cells] == [1, 2, 3, 4]


def test_nbclient_reports_errors_as_the_notebook_expects() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1/0")]
    client = NotebookClient(nb, kernel_name="mycon", timeout=30, allow_errors=True)
    client.execute()
    error = nb.cells[0].outputs[0]
    assert error["output_type"] == "error" and error["ename"] == "ZeroDivisionError"


@pytest.fixture
def jupyter_console() -> pexpect.spawn:
    exe = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or "jupyter"
    child = pexpect.spawn(
        exe, ["console", "--kernel", "mycon", "--ZMQTerminalInteractiveShell.simple_prompt=True"],
        encoding="utf-8", timeout=PROMPT_TIMEOUT, dimensions=(40, 120),
        env=dict(os.environ, TERM="dumb"),
    )
    child.expect(r"In \[1\]: ")
    yield child
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()


def test_jupyter_console_runs_code_errors_input_and_interrupt(jupyter_console: pexpect.spawn) -> None:
    child = jupyter_console
    child.sendline("print(6 * 7)")
    child.expect("42")
    child.expect(r"In \[2\]: ")
    child.sendline("1/0")
    child.expect("ZeroDivisionError")
    child.expect(r"In \[3\]: ")
    child.sendline("name = input('name? ')")
    child.expect("name\\? ")
    child.sendline("Grace")
    child.expect(r"In \[4\]: ")
    child.sendline("print('hi', name)")
    child.expect("hi Grace")
    child.expect(r"In \[5\]: ")
    child.sendline("import time; print('sleep' + 'ing'); time.sleep(60)")
    child.expect("sleeping")  # printed by the running cell, so it is inside the sleep now
    child.sendintr()
    child.expect("KeyboardInterrupt")
    child.expect(r"In \[6\]: ")
    child.sendline("print('after interrupt')")
    child.expect("after interrupt")
