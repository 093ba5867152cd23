"""``get_ipython()`` over the wire: the shell object's API, compared with ipykernel's where it
is the reference."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

Session = Any  # conftest.Session: runs cells on one kernel


def both(mycon: Session, ipykernel: Session, code: str) -> str:
    """Run ``code`` on both kernels; what it printed, which must be the same."""
    ours, theirs = mycon.printed(code), ipykernel.printed(code)
    assert ours == theirs
    return ours


def test_ipython_is_not_imported_until_asked_for(mycon: Session) -> None:
    assert mycon.printed("import sys\nget_ipython().user_ns\nprint('IPython' in sys.modules)") == "False\n"


def test_the_shell_is_there_under_ipythons_names(mycon: Session, ipykernel: Session) -> None:
    code = ("import IPython\n"
            "print(type(get_ipython()).__name__, IPython.get_ipython() is get_ipython(),\n"
            "      get_ipython().user_ns is globals(), get_ipython().user_global_ns is globals())")
    assert both(mycon, ipykernel, code) == "ZMQInteractiveShell True True True\n"


def test_a_script_exported_by_nbconvert_runs(mycon: Session, ipykernel: Session) -> None:
    code = "get_ipython().run_line_magic('time', 'x = 1 + 1')\nprint(x)"
    for session in (mycon, ipykernel):
        text = session.printed(code)
        assert "Wall time" in text and text.endswith("2\n")
    assert mycon.result("get_ipython().run_cell_magic('capture', 'cap', 'print(5)')\ncap.stdout") == {"text/plain": "'5\\n'"}
    assert mycon.printed("get_ipython().magic('pwd')\nprint(get_ipython().getoutput('echo hi'))") == "['hi']\n"
    # system() runs on a pseudo-terminal, as IPython's does: terminal line ends
    assert mycon.printed("get_ipython().system('echo from-system')") == "from-system\r\n"


def test_namespace_methods(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        ip = get_ipython()
        ip.push({'pushed': 41})
        def f():
            local_name = 'from a frame'
            ip.push('local_name')
        f()
        ip.ex('executed = pushed + 1')
        print(ip.ev('executed'), local_name)
        ip.del_var('executed')
        print('executed' in globals())
    """)
    assert both(mycon, ipykernel, code) == "42 from a frame\nFalse\n"


def test_magics_registered_the_ipython_way(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        from IPython.core.magic import Magics, magics_class, line_magic, cell_magic
        from IPython.core import magic_arguments
        from IPython.core.error import UsageError

        @magics_class
        class Shout(Magics):
            @magic_arguments.magic_arguments()
            @magic_arguments.argument('-n', type=int, default=1)
            @magic_arguments.argument('word')
            @line_magic
            def shout(self, line):
                args = magic_arguments.parse_argstring(self.shout, line)
                return ' '.join([args.word.upper()] * args.n)

            @cell_magic
            def rows(self, line, cell):
                self.shell.user_ns[line.strip()] = cell.splitlines()

            @line_magic
            def strict(self, line):
                raise UsageError('strict needs nothing')

        get_ipython().register_magics(Shout)
        get_ipython().register_magic_function(lambda line, cell=None: print('lc', line, cell), 'line_cell', 'lc')
    """)
    for session in (mycon, ipykernel):
        session.ok(code)
        assert session.result("%shout -n 2 hi") == {"text/plain": "'HI HI'"}
        assert session.printed("%%rows kept\na\nb") == ""
        assert session.printed("print(kept)") == "['a', 'b']\n"
        assert session.printed("%lc one") == "lc one None\n"
        # IPython hands a cell magic its body with a final newline, this kernel without (the
        # cell-magic rewriting is kernel.execution.transform's, not the shell object's)
        assert session.printed("%%lc two\nbody").rstrip("\n") == "lc two body"
        assert session.printed("print(get_ipython().find_line_magic('shout').__self__.__class__.__name__)") == "Shout\n"
    ours, theirs = mycon.error("%strict"), ipykernel.error("%strict")
    assert ours["ename"] == theirs["ename"] == "UsageError"
    assert ours["evalue"] == theirs["evalue"] == "strict needs nothing"


def test_events_around_each_cell(mycon: Session, ipykernel: Session) -> None:
    setup = textwrap.dedent("""\
        seen = []
        def pre(info): seen.append(('pre', info.raw_cell))
        def post(result): seen.append(('post', result.result, result.success))
        def pre_execute(): seen.append('pre_execute')
        get_ipython().events.register('pre_run_cell', pre)
        get_ipython().events.register('post_run_cell', post)
        get_ipython().events.register('pre_execute', pre_execute)
    """)
    stop = ("get_ipython().events.unregister('pre_run_cell', pre)\n"
            "get_ipython().events.unregister('post_run_cell', post)\n"
            "get_ipython().events.unregister('pre_execute', pre_execute)")
    seen = []
    for session in (mycon, ipykernel):
        session.ok(setup)
        session.ok("6 * 7")
        session.run("1 / 0")
        session.run("'silent'", silent=True)
        session.ok(stop)
        seen.append(session.printed("print(seen)"))
    assert seen[0] == seen[1]
    assert "'pre_execute', ('pre', '6 * 7'), ('post', 42, True), 'pre_execute', ('pre', '1 / 0'), ('post', None, False), 'pre_execute', 'pre_execute'" in seen[0]


def test_type_printers_change_how_results_render(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        class Money:
            def __init__(self, cents): self.cents = cents
        class Euro(Money): pass
        formatters = get_ipython().display_formatter.formatters
        formatters['text/html'].for_type(Money, lambda m: f'<b>{m.cents / 100:.2f}</b>')
        formatters['text/plain'].for_type(Money, lambda m, p, cycle: p.text(f'{m.cents / 100:.2f} money'))
        formatters['text/markdown'].for_type_by_name('builtins', 'complex', lambda c: f'**{c}**')
    """)
    for session in (mycon, ipykernel):
        session.ok(code)
        assert session.result("Euro(250)") == {"text/html": "<b>2.50</b>", "text/plain": "2.50 money"}
        assert session.result("3j") == {"text/markdown": "**3j**", "text/plain": "3j"}
        displayed = [m["content"]["data"] for m in session.ok("display(Money(5))") if m["msg_type"] == "display_data"]
        assert displayed == [{"text/html": "<b>0.05</b>", "text/plain": "0.05 money"}]
        published = [m["content"]["data"] for m in session.ok("get_ipython().display_pub.publish({'text/plain': 'raw'})")
                     if m["msg_type"] == "display_data"]
        assert published == [{"text/plain": "raw"}]
        session.ok("formatters['text/html'].pop(Money); formatters['text/plain'].pop(Money); "
                   "formatters['text/markdown'].pop('builtins.complex')")
        assert session.result("3j") == {"text/plain": "3j"}


def test_set_next_input_is_a_payload(mycon: Session, ipykernel: Session) -> None:
    code = "get_ipython().set_next_input('print(1)')"
    ours, _ = mycon.run(code)
    theirs, _ = ipykernel.run(code)
    assert ours["payload"] == theirs["payload"] == [{"source": "set_next_input", "text": "print(1)", "replace": False}]


def test_custom_exceptions_and_showtraceback(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        class Oops(Exception): pass
        def handler(shell, etype, value, tb, tb_offset=None):
            print('handled', etype.__name__, value)
            return ['custom traceback']
        get_ipython().set_custom_exc((Oops,), handler)
    """)
    for session in (mycon, ipykernel):
        session.ok(code)
        content, outputs = session.run("raise Oops('bad')")
        assert content["status"] == "error"
        assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["handled Oops bad\n"]
        # the handler shows what it wants; its return value is not shown (ipykernel's behaviour)
        assert [m["msg_type"] for m in outputs] == ["stream"]
        assert (content["ename"], content["traceback"]) == ("Oops", [])
        session.ok("get_ipython().set_custom_exc((), None)")
    outputs = mycon.ok("try:\n    {}['missing']\nexcept KeyError:\n    get_ipython().showtraceback()\nprint('went on')")
    errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    assert [(e["ename"], e["evalue"]) for e in errors] == [("KeyError", "'missing'")]
    assert "went on" in [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"][0]


def test_transformers_of_lines_and_trees(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        import ast
        class Doubler(ast.NodeTransformer):
            def visit_Constant(self, node):
                if isinstance(node.value, int):
                    return ast.copy_location(ast.Constant(node.value * 2), node)
                return node
        def shout(lines):
            return [line.replace('hello', 'HELLO') for line in lines]
        ip = get_ipython()
        ip.ast_transformers.append(Doubler())
        ip.input_transformers_post.append(shout)
    """)
    for session in (mycon, ipykernel):
        session.ok(code)
        assert session.printed("print(21, 'hello')") == "42 HELLO\n"
        session.ok("ip.ast_transformers.clear(); ip.input_transformers_post.remove(shout)")
        assert session.printed("print(21, 'hello')") == "21 hello\n"


def test_nested_run_cell_returns_its_result(mycon: Session, ipykernel: Session) -> None:
    code = "r = get_ipython().run_cell('40 + 2')\nprint(r.result, r.success)\ne = get_ipython().run_cell('1/0')\nprint(type(e.error_in_exec).__name__)"
    for session in (mycon, ipykernel):
        content, outputs = session.run(code)
        assert content["status"] == "ok"
        results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        assert results == ["42"]
        assert "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout") == "42 True\nZeroDivisionError\n"


def test_the_kernel_its_comms_and_config(mycon: Session, ipykernel: Session) -> None:
    code = ("k = get_ipython().kernel\n"
            "print(k is not None, hasattr(k.comm_manager, 'register_target'), k.session is not None,\n"
            "      'IPKernelApp' in get_ipython().config)")  # how libraries tell a kernel from a terminal
    assert both(mycon, ipykernel, code) == "True True True True\n"


def test_ipythons_magic_decorators_register_here(mycon: Session, ipykernel: Session) -> None:
    code = textwrap.dedent("""\
        from IPython.core.magic import register_line_magic, register_cell_magic
        @register_line_magic
        def greet(line):
            return 'hello ' + line
        @register_cell_magic('count_lines')
        def count(line, cell):
            print(line, len(cell.strip().splitlines()))
    """)
    for session in (mycon, ipykernel):
        session.ok(code)
        assert session.result("%greet you") == {"text/plain": "'hello you'"}
        assert session.printed("%%count_lines tag\na\nb\nc") == "tag 3\n"


def test_extensions_load_unload_and_reload(mycon: Session, tmp_path: Path) -> None:
    (tmp_path / "toy_ext.py").write_text(textwrap.dedent("""\
        loads = []
        def load_ipython_extension(ip):
            loads.append(1)
            ip.register_magic_function(lambda line: f'toy {line} {len(loads)}', 'line', 'toy')
        def unload_ipython_extension(ip):
            ip.user_ns['toy_unloaded'] = True
    """))
    (tmp_path / "needy_ext.py").write_text("def load_ipython_extension(ip):\n    ip.pt_app.layout\n")
    (tmp_path / "wanting_ext.py").write_text("def load_ipython_extension(ip):\n    import no_such_package_here\n")
    mycon.ok(f"import sys; sys.path.insert(0, {str(tmp_path)!r})")
    assert mycon.printed("%load_ext toy_ext") == ""
    assert mycon.result("%toy a") == {"text/plain": "'toy a 1'"}
    assert mycon.printed("%load_ext toy_ext") == (
        "The toy_ext extension is already loaded. To reload it, use:\n  %reload_ext toy_ext\n")
    mycon.ok("%unload_ext toy_ext")
    assert mycon.printed("print(toy_unloaded)") == "True\n"
    mycon.ok("%reload_ext toy_ext")
    assert mycon.printed("print('toy_ext' in get_ipython().extension_manager.loaded)") == "True\n"
    error = mycon.error("%load_ext needy_ext")
    assert error["evalue"] == ("%load_ext The extension needy_ext needs get_ipython().pt_app, which this "
                               "kernel does not provide.")
    assert len(error["traceback"]) == 1
    error = mycon.error("%load_ext wanting_ext")
    assert error["evalue"] == ("%load_ext wanting_ext: it needs what is not installed: ModuleNotFoundError: "
                               "No module named 'no_such_package_here'")


@pytest.mark.parametrize("name", ["autoreload", "IPython.extensions.autoreload"])
def test_autoreload_still_built_in(mycon: Session, name: str) -> None:
    assert mycon.printed(f"get_ipython().extension_manager.load_extension({name!r})\n%autoreload 2") == ""


def test_ipythons_own_classes_accept_the_shell(mycon: Session, ipykernel: Session) -> None:
    code = ("from IPython.core.debugger import Pdb\n"
            "from IPython.core.interactiveshell import InteractiveShellABC\n"
            "print(type(Pdb().shell).__name__, get_ipython().colors, isinstance(get_ipython(), InteractiveShellABC))\n"
            "try:\n    {}['k']\nexcept KeyError:\n    print(repr(get_ipython().get_exception_only()))")
    assert both(mycon, ipykernel, code) == "ZMQInteractiveShell neutral True\n\"KeyError: 'k'\\n\"\n"
