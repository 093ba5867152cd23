"""jupyter_kernel_test, the Jupyter project's own conformance suite, on the installed kernelspec."""

from __future__ import annotations

import jupyter_kernel_test


class MyconKernelTests(jupyter_kernel_test.KernelTests):
    """Conformance of the ``mycon`` kernelspec; every message is schema-validated by the suite."""

    kernel_name = "mycon"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    code_generate_error = "raise ValueError('bad thing')"
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'a' + 'b'", "result": "'ab'"},
        {"code": "x = [1, 2]\nx", "result": "[1, 2]"},
    ]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n    return x\n\n", "%time 1", "!true"]
    incomplete_code_samples = ["print('''hello", "def f(x):", "for i in range(3):\n    pass", "%%bash\necho 1"]
    invalid_code_samples = ["import = 7q", "1 +* 2", "1+"]

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "print(fl", "matches": {"flush=", "float"}},
        {"text": "import json.de", "matches": {"json.decoder"}},
    ]
    code_inspect_sample = "zip"
    code_page_something = "zip?"

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "6 ? 7"

    code_display_data = [
        {"code": "from kernel.display import HTML\ndisplay(HTML('<b>bold</b>'))", "mime": "text/html"},
        {"code": "from kernel.display import Markdown\ndisplay(Markdown('# title'))", "mime": "text/markdown"},
        {"code": "display({'a': 1})", "mime": "text/plain"},
    ]
    code_clear_output = "clear_output()"


class MyconIopubWelcome(jupyter_kernel_test.IopubWelcomeTests):
    """Our iopub is an XPUB socket that welcomes each new subscriber."""

    kernel_name = "mycon"
    support_iopub_welcome = True
