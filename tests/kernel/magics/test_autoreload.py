"""``%load_ext autoreload``, ``%autoreload`` and ``%aimport`` through a real kernel.

One kernel runs in a directory of small modules (written before it starts, so the import
system sees them all); each test edits its own module, dating the file explicitly so the change
is seen within the same second, and checks what the next cell runs.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import execute, running_kernel, stdout_of

MODULES = {
    "ar_basic": """
def f(x=1):
    return ("old", x)

class C:
    def m(self):
        return "old m"

    @property
    def p(self):
        return "old p"

    @staticmethod
    def s():
        return "old s"

    @classmethod
    def k(cls):
        return "old k"
""",
    "ar_marked": "def f():\n    return 'old marked'\n",
    "ar_unmarked": "def f():\n    return 'old unmarked'\n",
    "ar_off": "def f():\n    return 'old off'\n",
    "ar_skipped": "def f():\n    return 'old skipped'\n",
    "ar_broken": "def f():\n    return 'old broken'\n",
    "ar_complete": "VALUE = 'old value'\n\ndef f():\n    return 'old complete'\n",
    "ar_unload": "def f():\n    return 'old unload'\n",
    "ar_print": "def f():\n    return 'old print'\n",
    "ar_shapes": """
import functools

def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return ["wrapped", fn(*args)]
    return wrapper

@deco
def decorated():
    return "old"

@functools.lru_cache
def cached(x):
    return ("old", x)

class Base:
    def hello(self):
        return "old base"
""",
    "ar_pkg/__init__": "X = 'old init'\n",
    "ar_pkg/sub": "def f():\n    return 'old sub'\n",
    "ar_trace": "def f():\n    return 'old trace'\n",
    "ar_same_second": "def f():\n    return 'old same'\n",
    "fake_ipython_ext": "def load_ipython_extension(ipython):\n    pass\n",
}

_stamps = itertools.count(1)
_BASE = time.time()


def edit(directory: Path, name: str, source: str) -> None:
    """Rewrite a module, with a modification time no earlier edit had."""
    path = directory / f"{name}.py"
    path.write_text(source)
    stamp = _BASE + 100 * next(_stamps)
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("autoreload")
    for name, source in MODULES.items():
        path = directory / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
    return directory


@pytest.fixture(scope="module")
def kc(workdir: Path) -> Iterator[BlockingKernelClient]:
    # bytecode is written, as for most users (the test environment may turn it off)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    with running_kernel(cwd=str(workdir), env=env) as (_, client):
        yield client


def ok(kc: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """Run a cell that must succeed; its iopub outputs (``execute_input`` left out)."""
    reply, outputs = execute(kc, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    return [m for m in outputs if m["msg_type"] != "execute_input"]


def error(kc: BlockingKernelClient, code: str) -> dict[str, Any]:
    """Run a cell that must fail; the reply's content."""
    reply, outputs = execute(kc, code)
    content: dict[str, Any] = reply["content"]
    assert content["status"] == "error", content
    if content["ename"] == "UsageError":  # one stderr line, as ipykernel shows it
        assert [m["msg_type"] for m in outputs] == ["execute_input", "stream"]
        assert outputs[1]["content"]["text"] == f"UsageError: {content['evalue']}\n"
    else:
        assert [m["msg_type"] for m in outputs] == ["execute_input", "error"]
    return content


def printed(kc: BlockingKernelClient, code: str) -> str:
    """What a cell prints, asserting it wrote nothing to stderr."""
    outputs = ok(kc, code)
    assert stdout_of(outputs, "stderr") == ""
    return stdout_of(outputs)


def test_load_ext_autoreload_is_silent_and_idempotent(kc: BlockingKernelClient) -> None:
    assert ok(kc, "%load_ext autoreload") == []
    assert ok(kc, "%load_ext autoreload") == []
    assert ok(kc, "%reload_ext autoreload") == []


def test_mode_2_updates_modules_imported_names_and_instances(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%load_ext autoreload\n%autoreload 2")
    ok(kc, "import ar_basic\nfrom ar_basic import f, C\nc = C()")
    assert printed(kc, "print(f(), c.m(), c.p)") == "('old', 1) old m old p\n"
    edit(workdir, "ar_basic", MODULES["ar_basic"].replace("old", "new").replace("x=1", "x=2"))
    assert printed(kc, "print(ar_basic.f(), f(), f is ar_basic.f)") == "('new', 2) ('new', 2) False\n"
    assert printed(kc, "print(c.m(), c.p, c.s(), c.k(), C().m(), isinstance(c, ar_basic.C))") == (
        "new m new p new s new k new m True\n"
    )
    # a second edit reaches the names imported before the first one as well
    edit(workdir, "ar_basic", MODULES["ar_basic"].replace("old", "third") + "\ndef g():\n    return 'g'\n")
    assert printed(kc, "print(f(), c.m(), ar_basic.g())") == "('third', 1) third m g\n"


def test_decorated_cached_and_subclassed_objects_and_packages(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2\nimport ar_pkg.sub\nfrom ar_shapes import decorated, cached, Base")
    ok(kc, "class Mine(Base):\n    def hello(self):\n        return 'mine+' + super().hello()\n\nmine = Mine()\ncached(1)")
    edit(workdir, "ar_shapes", MODULES["ar_shapes"].replace("old", "new"))
    edit(workdir, "ar_pkg/__init__", "X = 'new init'\n")
    edit(workdir, "ar_pkg/sub", "def f():\n    return 'new sub'\n")
    assert printed(kc, "print(decorated(), cached(1), mine.hello())") == "['wrapped', 'new'] ('new', 1) mine+new base\n"
    assert printed(kc, "print(ar_pkg.X, ar_pkg.sub.f())") == "new init new sub\n"


def test_mode_1_reloads_only_modules_marked_with_aimport(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 1\n%aimport ar_marked\nimport ar_unmarked")
    assert printed(kc, "%aimport").startswith("Modules to reload:\nar_marked\n\nModules to skip:\n")
    edit(workdir, "ar_marked", "def f():\n    return 'new marked'\n")
    edit(workdir, "ar_unmarked", "def f():\n    return 'new unmarked'\n")
    assert printed(kc, "print(ar_marked.f(), ar_unmarked.f())") == "new marked old unmarked\n"
    ok(kc, "%autoreload 2")


def test_mode_0_disables_and_a_bare_autoreload_reloads_now(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 0\nimport ar_off")
    edit(workdir, "ar_off", "def f():\n    return 'new off'\n")
    assert printed(kc, "print(ar_off.f())") == "old off\n"
    assert printed(kc, "%autoreload\nprint(ar_off.f())") == "new off\n"
    ok(kc, "%autoreload all\n%reload_ext autoreload")  # keeps the mode, as in IPython
    edit(workdir, "ar_off", "def f():\n    return 'newer off'\n")
    assert printed(kc, "print(ar_off.f())") == "newer off\n"


def test_aimport_minus_excludes_a_module(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2\nimport ar_skipped\n%aimport -ar_skipped")
    assert "Modules to skip:\nar_skipped\n" in printed(kc, "%aimport")
    edit(workdir, "ar_skipped", "def f():\n    return 'new skipped'\n")
    assert printed(kc, "print(ar_skipped.f())") == "old skipped\n"


def test_a_module_that_fails_to_reload_gives_one_line_and_the_cell_runs(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2\nimport ar_broken")
    edit(workdir, "ar_broken", "def f(:\n    return 'new broken'\n")
    outputs = ok(kc, "print(ar_broken.f())")
    assert stdout_of(outputs) == "old broken\n"
    err = stdout_of(outputs, "stderr")
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "autoreload of ar_broken failed: SyntaxError" in err and "line 1" in err
    assert printed(kc, "print(ar_broken.f())") == "old broken\n"  # said once, not each cell
    edit(workdir, "ar_broken", "X = 1\nraise ValueError('half way')\n")
    outputs = ok(kc, "print(ar_broken.f())")
    assert stdout_of(outputs) == "old broken\n"  # the module is left as it was
    assert stdout_of(outputs, "stderr") == "[autoreload of ar_broken failed: ValueError: half way (ar_broken.py, line 2)]\n"
    edit(workdir, "ar_broken", "def f():\n    return 'fixed'\n")
    assert printed(kc, "print(ar_broken.f())") == "fixed\n"


def test_tracebacks_show_the_reloaded_source(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2\nfrom ar_trace import f as trace_f\ntrace_f()")
    edit(workdir, "ar_trace", "def f():\n    x = 'padding'\n    raise ValueError('from the new source')\n")
    content = error(kc, "trace_f()")
    text = "\n".join(content["traceback"])
    assert "raise ValueError('from the new source')" in text and "ar_trace.py:3" in text, text


def test_an_edit_within_the_same_second_and_size_is_not_hidden_by_the_bytecode_cache(
    kc: BlockingKernelClient, workdir: Path
) -> None:
    path = workdir / "ar_same_second.py"
    os.utime(path, ns=(1_000_000_000_100_000_000, 1_000_000_000_100_000_000))
    ok(kc, "%autoreload 2\nimport ar_same_second")  # its .pyc records second 1000000000
    path.write_text("def f():\n    return 'new same'\n")  # as long as before
    os.utime(path, ns=(1_000_000_000_900_000_000, 1_000_000_000_900_000_000))
    assert printed(kc, "print(ar_same_second.f())") == "new same\n"


def test_mode_3_binds_again_names_imported_from_the_module(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 3\nfrom ar_complete import VALUE, f as renamed")
    edit(workdir, "ar_complete", "VALUE = 'new value'\n\ndef f():\n    return 'new complete'\n")
    assert printed(kc, "print(VALUE, renamed())") == "new value new complete\n"
    ok(kc, "%autoreload 2")


def test_print_option_announces_each_reload(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2 -p\nimport ar_print")
    edit(workdir, "ar_print", "def f():\n    return 'new print'\n")
    assert printed(kc, "print(ar_print.f())") == "Reloading 'ar_print'.\nnew print\n"
    ok(kc, "%autoreload 2")


def test_unload_ext_stops_reloading(kc: BlockingKernelClient, workdir: Path) -> None:
    ok(kc, "%autoreload 2\nimport ar_unload\n%unload_ext autoreload")
    edit(workdir, "ar_unload", "def f():\n    return 'new unload'\n")
    assert printed(kc, "print(ar_unload.f())") == "old unload\n"
    assert printed(kc, "%unload_ext autoreload") == "The autoreload extension is not loaded.\n"
    assert ok(kc, "%load_ext autoreload") == []


def test_other_extensions_load_or_are_refused_in_words(kc: BlockingKernelClient) -> None:
    assert ok(kc, "%load_ext fake_ipython_ext") == []  # any IPython extension loads (tests/kernel/ipython)
    content = error(kc, "%load_ext no_such_module_anywhere")
    assert content["evalue"] == (
        "%load_ext no_such_module_anywhere: ModuleNotFoundError: No module named 'no_such_module_anywhere'"
    )
    content = error(kc, "%load_ext json")
    assert "not an IPython extension" in content["evalue"]
    content = error(kc, "%autoreload 7")
    assert "unknown argument '7'" in content["evalue"]
    content = error(kc, "%aimport no_such_module_anywhere")
    assert "ModuleNotFoundError" in content["evalue"]


def test_lsmagic_lists_the_autoreload_magics(kc: BlockingKernelClient) -> None:
    text = next(m["content"]["data"]["text/plain"] for m in ok(kc, "%lsmagic") if m["msg_type"] == "execute_result")
    text = text.replace("\\n", " ").strip("'")
    for name in ("%load_ext", "%unload_ext", "%reload_ext", "%autoreload", "%aimport"):
        assert f"{name} " in text or text.endswith(name), name
