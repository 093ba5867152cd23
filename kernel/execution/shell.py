"""Running Python cells: the namespace, the execution counter, results, errors, payloads.

The language layer of the kernel: no sockets and no zmq. It reports what happens through a
``publish(msg_type, content)`` callback that the dispatcher binds to the current request.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import re
import sys
import threading
from collections.abc import Callable
from types import CodeType
from typing import Any

from ..display import formatting
from . import tracebacks
from .tracebacks import CellError

Publish = Callable[[str, dict[str, Any]], None]

CO_COROUTINE = 0x0080
TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0x2000)
CLEANUP_STARTS = frozenset(" \t\n>I")  # first characters of input IPython cleans up first
MAGIC_MARKERS = ("%", "!", "?")  # a cell with none of these needs no input transformation
# A line that may be a magic typed without its % (``cd ..``, ``pwd``, ``pip install x``): a
# name alone, or a name and a space and something that does not make it Python's (``x = 1``,
# ``f (x)``, ``a [0]``, ``a, b``, ``a: int``). transform.automagic_call decides.
AUTOMAGIC_CANDIDATE = re.compile(r"^[ \t]*([A-Za-z_]\w*)(?:[ \t]*$|[ \t]+(?![\s=(\[,:]))", re.MULTILINE)
OUTPUT_CACHE_SIZE = 1000  # results kept in Out / _N, as IPython's cache_size




class CellOutcome:
    """What a run produced, for the ``execute_reply``."""

    def __init__(self, execution_count: int = 0) -> None:
        self.status = "ok"  # "ok" | "error"
        self.execution_count = execution_count
        self.ename = ""
        self.evalue = ""
        self.traceback: list[str] = []
        self.payload: list[dict[str, Any]] = []


def _ends_with_semicolon(code: str) -> bool:
    """True when the cell's last statement ends with ``;`` (hides the result)."""
    stripped = code.rstrip()
    if "#" not in stripped.rsplit("\n", 1)[-1]:
        return stripped.endswith(";")
    import io
    import tokenize

    last = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.ENDMARKER,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.string == ";"


def _awaits(code: Any) -> bool:
    """True if a compiled part of a cell uses top-level ``await``."""
    return code is not None and bool(code.co_flags & CO_COROUTINE)


def _defines_code(code: Any) -> bool:
    """True if a compiled cell holds nested code (functions, classes, lambdas, comprehensions)."""
    return code is not None and any(isinstance(const, CodeType) for const in code.co_consts)


class Shell:
    """The Python interpreter state behind one kernel."""

    def __init__(self, publish: Publish | None = None) -> None:
        self.publish: Publish = publish or (lambda msg_type, content: None)
        self.execution_count = 0
        self.user_ns: dict[str, Any] = {
            "__name__": "__main__",
            "__doc__": None,
            "__builtins__": builtins,
        }
        self.inputs: list[str] = [""]  # In[0] is empty, as in IPython
        self.outputs: dict[int, Any] = {}
        self.user_ns.update(In=self.inputs, Out=self.outputs, _="", __="", ___="")
        self.user_ns.update(_i="", _ii="", _iii="", _ih=self.inputs, _oh=self.outputs)
        self._last_input = ""
        self.display_error: BaseException | None = None  # the last repr that failed in display_result
        self.future_flags = 0  # ``from __future__`` imports of earlier cells apply to later ones
        self.cell_names: dict[str, int] = {}  # linecache filename -> execution count
        self.payloads: list[dict[str, Any]] = []
        self._cell_serial = 0
        self._transformer: Any = None
        # ``word -> True`` when a line starting with ``word`` is a magic without its %
        # (services install it: a line magic not shadowed by a variable); None: no automagic
        self.automagic: Callable[[str], bool] | None = None
        self._cell_loop: Any = None  # the asyncio loop (aio.CellLoop), made when first needed
        # (file descriptor, callback): while a cell awaits, the callback runs when the
        # descriptor is readable (the kernel serves comm messages then)
        self.await_watch: tuple[int, Callable[[], None]] | None = None
        self.gui_loop: Any = None  # a toolkit's loop run between requests (display.gui)
        self.interruptible = False  # True while user code runs (SIGINT may interrupt it)
        self.extensions: dict[str, Any] = {}  # services attach here (magics, history, ...)
        self.pre_run_hooks: list[Callable[[str], None]] = []
        self.post_run_hooks: list[Callable[[str, CellOutcome], None]] = []
        # IPython's extension points (get_ipython() fills them; empty, they cost nothing):
        # functions of the cell's lines run after magics became Python, NodeTransformers of
        # its tree, and (exception classes, handler(exc)) from set_custom_exc: the handler shows
        # what it wants instead of the traceback
        self.input_transformers_post: list[Callable[[list[str]], list[str]]] = []
        self.ast_transformers: list[Any] = []
        self.custom_exc: tuple[Any, Callable[[BaseException], None]] | None = None
        self.running_silent = False  # the run in progress is silent (hooks tell it apart)
        # the visual debugger on: a cell's file, named by its code (the front end's breakpoints)
        self.cell_filename: Callable[[str], str] | None = None
        # get_ipython().run_cell / run_ast_nodes replaced by an extension (ipyparallel's %autopx):
        # typed cells from the front end go through ``typed_cell_runner(code, silent,
        # store_history)``; ``parsed_cell_runner(source, filename)`` runs a parsed cell instead of
        # us (True: it failed). Silent cells (a front end's own queries) skip both. None, as
        # almost always: nothing changes and nothing is spent.
        self.typed_cell_runner: Callable[[str, bool, bool], CellOutcome] | None = None
        self.parsed_cell_runner: Callable[[str, str], bool] | None = None
        # per thread: a subshell's thread sets ``cell_loop`` (its own aio.CellLoop for
        # top-level await); the main thread's loop is ``cell_loop()``
        self.on_thread = threading.local()
        self._last_transform: tuple[str, int, str] | None = None  # (cell, count, transformed)

    # ----- input ---------------------------------------------------------------------------

    def transform(self, code: str) -> str:
        """Turn magics, shell escapes and ``obj?`` into plain Python.

        The history hook and the run of the same cell both ask; the second gets the first's
        answer (the same string object, in the same cell: nothing ran in between).
        """
        last = self._last_transform
        if last is not None and last[0] is code and last[1] == self.execution_count:
            return last[2]
        source = self._transform(code)
        self._last_transform = (code, self.execution_count, source)
        return source

    def _transform(self, code: str) -> str:
        if code[:1] in CLEANUP_STARTS:  # indented, pasted prompts, leading blank lines
            from .transform import clean_input

            cleaned = clean_input(code)
            if self.cell_filename is not None:  # debugging: breakpoints are on the lines as typed
                cleaned = "\n" * (len(code.splitlines()) - len(cleaned.splitlines())) + cleaned
            code = cleaned
        automagic = self.automagic
        if not any(marker in code for marker in MAGIC_MARKERS) and not (
            automagic is not None
            and any(automagic(match.group(1)) for match in AUTOMAGIC_CANDIDATE.finditer(code))
        ):
            return code
        if self._transformer is None:
            from .transform import transform_cell

            self._transformer = transform_cell
        result: str = self._transformer(code, automagic)
        return result

    def register_source(self, code: str, count: int, typed: str | None = None, cell: str | None = None) -> str:
        """Keep a cell's source (``typed``: as the user typed it, line for line the same) in
        linecache so tracebacks and ``inspect`` can read it. ``cell``: the cell as it came,
        which names its file while the debugger is on (``cell_filename``)."""
        self._cell_serial += 1
        if self.cell_filename is not None and cell is not None:
            filename = self.cell_filename(cell)
            tracebacks.CELL_FILES[filename] = (count, self._cell_serial)
        else:
            filename = tracebacks.cell_file_name(count, self._cell_serial, code)
        shown = typed if typed is not None else code
        linecache.cache[filename] = (len(shown), None, shown.splitlines(True), filename)
        self.cell_names[filename] = count
        return filename

    # ----- running ---------------------------------------------------------------------------

    def run_cell(self, code: str, silent: bool = False, store_history: bool = True) -> CellOutcome:
        """Run one cell; publish its result or error; return what the reply needs."""
        self.running_silent = silent
        if silent:
            store_history = False
        if store_history:
            self.execution_count += 1
        count = self.execution_count
        outcome = CellOutcome(execution_count=count)
        self.payloads = []
        for hook in self.pre_run_hooks:
            hook(code)
        if store_history:
            self._remember_input(code, count)
        try:
            source = self.transform(code)
            for line_transformer in self.input_transformers_post:
                source = "".join(line_transformer(source.splitlines(True)))
        except CellError as exc:
            self._report_plain_error(outcome, "UsageError", str(exc))
            return self._finish(code, outcome)
        except SyntaxError as exc:
            self._report(outcome, type(exc), exc, tracebacks.syntax_error(exc, self.cell_names))
            return self._finish(code, outcome)
        typed = None
        if source is not code or code[:1] in CLEANUP_STARTS:
            # tracebacks and inspect show the lines as typed (``%time f()``, not the call the
            # transform made of it) when the transform kept the lines where they were
            from .transform import HELPER, clean_input

            typed = clean_input(code) if code[:1] in CLEANUP_STARTS else code
            cell_magic = source.startswith(HELPER + ".cell(")  # line 1 shows as ``%%name args``
            if len(typed.splitlines()) != len(source.splitlines()) and not cell_magic:
                typed = None
        filename = self.register_source(source, count, typed, code)
        try:
            body, last = self._compile(source, filename)
        except (SyntaxError, ValueError, OverflowError) as exc:
            if isinstance(exc, SyntaxError):
                lines = tracebacks.syntax_error(exc, self.cell_names)
            else:
                lines = [f"{type(exc).__name__}: {exc}"]
            self._report(outcome, type(exc), exc, lines)
            return self._finish(code, outcome)
        if self.parsed_cell_runner is not None and not silent:  # (a silent cell is a front end's own)
            self._run_elsewhere(self.parsed_cell_runner, source, filename, outcome)
            return self._finish(code, outcome)
        # only the main thread's run is interruptible (SIGINT reaches the main thread); a run in
        # a subshell's thread leaves the flag to the main thread's
        own_loop = getattr(self.on_thread, "cell_loop", None)
        try:
            if own_loop is None:
                self.interruptible = True
            try:
                if _awaits(body) or _awaits(last):
                    value = self._run_coroutine(self._whole_cell(body, last))
                else:
                    if body is not None:
                        self._run_code(body)
                    value = self._run_code(last) if last is not None else None
            finally:
                if own_loop is None:
                    self.interruptible = False
        except CellError as exc:
            self._report_plain_error(outcome, "UsageError", str(exc))
        except SystemExit as exc:
            self._report(outcome, type(exc), exc, self._format_current(exc))
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything
            self._report(outcome, type(exc), exc, self._format_current(exc))
        else:
            if last is not None and value is not None and not silent and not _ends_with_semicolon(code):
                self.display_error = None
                self.display_result(value, count, store=store_history)
                if self.display_error is not None:  # the reply says error, as ipykernel's does
                    error = self.display_error
                    outcome.status, outcome.ename, outcome.evalue = "error", type(error).__name__, str(error)
                    outcome.traceback = self._format_current(error)
            if not _defines_code(body) and not _defines_code(last):
                self.forget_source(filename)
        return self._finish(code, outcome)

    def _run_elsewhere(self, runner: Callable[[str, str], bool], source: str, filename: str,
                       outcome: CellOutcome) -> None:
        """Hand the parsed cell to ``runner`` (it shows its own errors); a failure fails the cell."""
        sys.last_value = None  # type: ignore[assignment]
        try:
            self.interruptible = True
            try:
                failed = runner(source, filename)
            finally:
                self.interruptible = False
        except BaseException as exc:  # noqa: BLE001 - the runner runs user code too
            self._report(outcome, type(exc), exc, self._format_current(exc))
            return
        if failed:  # the runner showed the error (showtraceback keeps it in sys.last_value)
            shown = getattr(sys, "last_value", None)
            outcome.status = "error"
            outcome.ename = type(shown).__name__ if shown is not None else "Error"
            outcome.evalue = str(shown) if shown is not None else "the cell failed"

    def forget_source(self, filename: str) -> None:
        """Drop a cell's source from linecache once nothing can need it again.

        A cell that ran without error and defines no function, class, lambda or comprehension
        leaves no code object behind whose traceback or ``inspect.getsource`` would read it;
        keeping every such cell would grow the kernel by a few hundred bytes per cell forever.
        """
        linecache.cache.pop(filename, None)
        self.cell_names.pop(filename, None)
        tracebacks.CELL_FILES.pop(filename, None)

    def _finish(self, code: str, outcome: CellOutcome) -> CellOutcome:
        outcome.payload = self.payloads
        self.payloads = []
        for hook in self.post_run_hooks:
            try:
                hook(code, outcome)
            except Exception:
                pass
        return outcome

    def _compile(self, source: str, filename: str) -> tuple[Any, Any]:
        """Compile a cell as (body, last expression), so the last value can be shown."""
        flags = self.future_flags
        if self.extensions.get("autoawait") is not False:
            flags |= TOP_LEVEL_AWAIT
        tree = ast.parse(source, filename=filename, mode="exec", type_comments=False)
        if self.ast_transformers:
            tree = apply_ast_transformers(self.ast_transformers, tree, self._warn)
        if "__future__" in source:
            tree, cell_flags = take_future_imports(tree, filename)
            self.future_flags |= cell_flags
            flags |= cell_flags
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last_node = tree.body.pop()
            assert isinstance(last_node, ast.Expr)
            body = None
            if tree.body:
                body = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
            expression = ast.Expression(last_node.value)
            last = compile(expression, filename, "eval", flags=flags, dont_inherit=True)
            return body, last
        return compile(tree, filename, "exec", flags=flags, dont_inherit=True), None

    def _run_code(self, code: Any) -> Any:
        result = eval(code, self.user_ns)  # noqa: S307 - running user code is the job
        if code.co_flags & CO_COROUTINE:
            result = self._run_coroutine(result)
        return result

    async def _whole_cell(self, body: Any, last: Any) -> Any:
        """A cell with top-level ``await``, all of it inside the event loop (so that its
        plain statements see a running loop too, as in IPython)."""
        for code in (body, last):
            if code is None:
                continue
            value = eval(code, self.user_ns)  # noqa: S307 - running user code is the job
            if code.co_flags & CO_COROUTINE:
                value = await value
        return value

    def _run_coroutine(self, coroutine: Any) -> Any:
        """Run a cell that uses top-level ``await`` on the kernel's own event loop."""
        own_loop = getattr(self.on_thread, "cell_loop", None)
        if own_loop is not None:  # a subshell's thread
            return own_loop.run(coroutine)
        return self.cell_loop().run(coroutine, self.await_watch)

    def cell_loop(self) -> Any:
        """The kernel's asyncio loop keeper (``aio.CellLoop``)."""
        if self._cell_loop is None:
            from .aio import CellLoop

            self._cell_loop = CellLoop()
        return self._cell_loop

    # ----- results and errors ----------------------------------------------------------------

    def _remember_input(self, code: str, count: int) -> None:
        ns = self.user_ns
        while len(self.inputs) < count:
            self.inputs.append("")
        self.inputs.append(code)
        # as IPython: ``_i`` is the input before this one, ``_iN`` this one
        ns["_iii"], ns["_ii"], ns["_i"] = ns.get("_ii", ""), ns.get("_i", ""), self._last_input
        self._last_input = code
        ns[f"_i{count}"] = code

    def display_result(self, value: Any, count: int, store: bool = True) -> None:
        """Publish ``execute_result`` for the cell's last value and keep it in ``_``/``Out``."""
        if store:
            ns = self.user_ns
            if value is not ns.get("_"):
                ns["___"], ns["__"], ns["_"] = ns.get("__", ""), ns.get("_", ""), value
            ns[f"_{count}"] = value
            self.outputs[count] = value
            if len(self.outputs) > OUTPUT_CACHE_SIZE:
                self._flush_output_cache()
        errors: list[BaseException] = []
        data, metadata, _ = formatting.format_object(value, errors)
        for error in errors:  # a failing repr: its traceback, as IPython shows it
            self.display_error = error
            self.publish("error", {
                "ename": type(error).__name__, "evalue": str(error),
                "traceback": self._format_current(error),
            })
        if data:
            self.publish(
                "execute_result", {"execution_count": count, "data": data, "metadata": metadata}
            )

    def _flush_output_cache(self) -> None:
        """Drop the oldest fifth of ``Out`` and their ``_N`` names, as IPython does.

        Otherwise every result ever shown (a DataFrame in each of thousands of cells) would
        stay alive for the life of the kernel.
        """
        oldest = sorted(self.outputs)[: OUTPUT_CACHE_SIZE // 5]
        for count in oldest:
            del self.outputs[count]
            self.user_ns.pop(f"_{count}", None)
        self.publish("stream", {
            "name": "stderr",
            "text": f"Output cache limit ({OUTPUT_CACHE_SIZE} entries) reached: "
                    f"Out[{oldest[0]}]..Out[{oldest[-1]}] and their _N names were dropped.\n",
        })

    def display(self, value: Any, transient: dict[str, Any] | None = None, update: bool = False) -> None:
        """Publish ``display_data`` (or ``update_display_data``) for any object."""
        data, metadata, problems = formatting.format_object(value)
        self._report_problems(problems)
        if not data:  # it displayed itself (``_ipython_display_``)
            return
        self.publish(
            "update_display_data" if update else "display_data",
            {"data": data, "metadata": metadata, "transient": transient or {}},
        )

    def _report_problems(self, problems: list[str]) -> None:
        for problem in problems:
            self.publish("stream", {"name": "stderr", "text": problem + "\n"})

    def _format_current(self, exc: BaseException) -> list[str]:
        render = getattr(exc, "_render_traceback_", None)  # an exception that draws its own (IPython's protocol)
        if callable(render):
            try:
                return [str(line) for line in render()]
            except Exception:  # noqa: BLE001 - a broken renderer: the usual traceback instead
                pass
        tb = exc.__traceback__
        # the first frame is ours (the eval call in _run_code): skip it and anything above it
        while tb is not None and not tracebacks.is_cell_file(tb.tb_frame.f_code.co_filename):
            if tb.tb_next is None:
                break
            tb = tb.tb_next
        mode = str(self.extensions.get("xmode", "Context"))
        return tracebacks.format_exception(type(exc), exc, tb, self.cell_names, mode=mode)

    def _report(self, outcome: CellOutcome, etype: type[BaseException], exc: BaseException, lines: list[str]) -> None:
        outcome.status = "error"
        outcome.ename = etype.__name__
        outcome.evalue = str(exc)
        outcome.traceback = lines
        sys.last_type, sys.last_value, sys.last_traceback = etype, exc, exc.__traceback__
        if self.custom_exc is not None and isinstance(exc, self.custom_exc[0]):
            outcome.traceback = []
            self.custom_exc[1](exc)
            return
        self.publish(
            "error", {"ename": outcome.ename, "evalue": outcome.evalue, "traceback": lines}
        )

    def _report_plain_error(self, outcome: CellOutcome, ename: str, message: str) -> None:
        outcome.status = "error"
        outcome.ename = ename
        outcome.evalue = message
        outcome.traceback = [f"{tracebacks.BOLD_RED}{ename}{tracebacks.RESET}: {message}"]
        # as ipykernel shows a UsageError: one line on stderr, no traceback (the reply says error)
        self.publish("stream", {"name": "stderr", "text": f"{ename}: {message}\n"})

    # ----- user expressions ------------------------------------------------------------------

    def user_expressions(self, expressions: dict[str, Any]) -> dict[str, Any]:
        """Evaluate ``user_expressions`` after a run: a mime bundle or an error for each."""
        return evaluate_expressions(expressions, self.user_ns, self.cell_names)

    def _warn(self, text: str) -> None:
        """A line on the cell's stderr from the kernel itself."""
        self.publish("stream", {"name": "stderr", "text": text})


def delete_variable(shell: Shell, name: str) -> None:
    """Delete ``name`` from the user namespace, and its object from ``Out``, ``_N`` and ``_``,
    ``__``, ``___`` (what ``%xdel`` and ``get_ipython().del_var`` do); KeyError when unset."""
    ns = shell.user_ns
    value = ns.pop(name)
    outputs = shell.outputs
    for count in [count for count, kept in outputs.items() if kept is value]:
        del outputs[count]
        ns.pop(f"_{count}", None)
    for key in ("_", "__", "___"):
        if ns.get(key) is value:
            ns[key] = ""


def evaluate_expressions(expressions: dict[str, Any], namespace: dict[str, Any],
                         cell_names: Any) -> dict[str, Any]:
    """Each of ``expressions`` (name -> code) evaluated in ``namespace``: a mime bundle, or an
    error as execute_reply's ``user_expressions`` carry it."""
    results: dict[str, Any] = {}
    for name, expression in expressions.items():
        try:
            if not isinstance(expression, str):
                raise TypeError("a user expression must be a string")
            value = eval(expression, namespace)  # noqa: S307
            data, metadata, _ = formatting.format_object(value)
            results[name] = {"status": "ok", "data": data, "metadata": metadata}
        except BaseException as exc:  # noqa: BLE001
            results[name] = {
                "status": "error",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": tracebacks.format_exception(type(exc), exc, exc.__traceback__, cell_names),
            }
    return results


def apply_ast_transformers(transformers: list[Any], tree: ast.Module, warn: Callable[[str], None]) -> ast.Module:
    """``tree`` through each of ``transformers`` (``ast.NodeTransformer``s); one that fails is
    removed from the list and ``warn``ed about, as IPython does."""
    for transformer in list(transformers):
        try:
            tree = ast.fix_missing_locations(transformer.visit(tree))
        except Exception as exc:  # noqa: BLE001 - a broken transformer must not stop the cell
            transformers.remove(transformer)
            warn(f"AST transformer {transformer!r} failed ({type(exc).__name__}: {exc}); it is unregistered.\n")
    return tree


def take_future_imports(tree: ast.Module, filename: str) -> tuple[ast.Module, int]:
    """A cell's ``from __future__`` imports as compiler flags (for it and later cells, as IPython
    applies them), and the cell with those imports made plain.

    IPython compiles statement by statement, so a future import after other lines is accepted;
    here it becomes a compiler flag and a plain import of the feature's name.
    """
    import __future__

    flags = 0
    for index, node in enumerate(tree.body):
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            continue
        for alias in node.names:
            feature = getattr(__future__, alias.name, None)
            if feature is None:  # compiled alone, it raises Python's own error for it
                compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", dont_inherit=True)
                continue
            flags |= feature.compiler_flag
        if index:  # bind the names as the import would, without the position check
            names = [alias.asname or alias.name for alias in node.names]
            values = [f"__import__('__future__').{alias.name}" for alias in node.names]
            plain = ast.parse(f"{', '.join(names)}, = {', '.join(values)},").body[0]
            tree.body[index] = ast.copy_location(plain, node)
    return tree, flags
