"""One kernel's debugger: answers each DAP command of ``debug_request`` (on the control thread).

Most commands go to debugpy's adapter as they are; these are answered here, or changed first:

- ``initialize``: starts debugpy (once per kernel) and connects to its adapter;
- ``attach``: adds where to connect and which frames to hide (the kernel's own), then runs the
  adapter's start sequence (``initialized`` event, ``configurationDone``) before its answer;
- ``configurationDone`` from the front end: already done at attach, answered here;
- ``dumpCell``, ``source``, ``debugInfo``, ``modules``: from the kernel's own state;
- ``inspectVariables``, ``richInspectVariables``, ``variables``: from the user namespace while
  no thread is stopped, from debugpy (and the stopped frame) otherwise;
- ``copyToGlobals``: a ``setExpression`` on the frame's globals;
- ``disconnect``: passed on, then the connection closes and cells get their usual names again
  (debugpy keeps listening, for the next ``initialize``).
"""

from __future__ import annotations

import ast
import os
import reprlib
import sys
from collections.abc import Callable
from typing import Any

from ..log import log
from . import available, cells, launch
from .dap import AdapterConnection, DebuggerError

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0  # seconds debugpy may take to answer one command
KERNEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # kernel/: hidden frames
HIDDEN_NAMES = frozenset({
    "__name__", "__doc__", "__package__", "__loader__", "__spec__", "__annotations__",
    "__builtins__", "__builtin__", "In", "Out", "_ih", "_oh", "_dh", "_", "__", "___",
    "get_ipython", "exit", "quit",
})
# commands answered from the kernel's own state, also before initialize (a front end asks
# debugInfo first, to learn whether a session is on and how cells are named)
ANSWERED_BEFORE_START = frozenset({"debugInfo", "dumpCell", "source", "modules", "inspectVariables",
                                   "richInspectVariables", "variables", "copyToGlobals"})
NOT_INSTALLED = ("the debugger needs debugpy, which is not installed for this kernel's Python: "
                 "pip install 'mycon[debugger]' (or pip install debugpy), then restart the kernel")


def shown_variable(name: str) -> bool:
    """False for the kernel's history and module bookkeeping names (``In``, ``_i3``, ``_5``)."""
    if name in HIDDEN_NAMES:
        return False
    if name.startswith("_i") and (name[2:].isdigit() or name[2:] in ("", "i", "ii")):
        return False
    return not (name.startswith("_") and name[1:].isdigit())


def response(request: dict[str, Any], success: bool = True, body: dict[str, Any] | None = None,
             message: str | None = None) -> dict[str, Any]:
    """A DAP response to ``request`` made here."""
    reply: dict[str, Any] = {"type": "response", "seq": 0, "request_seq": request.get("seq", 0),
                             "success": success, "command": request.get("command", "")}
    if body is not None:
        reply["body"] = body
    if message is not None:
        reply["message"] = message
    return reply


class Debugger:
    """The debugger of one kernel: a DAP session with debugpy, started on ``initialize``."""

    def __init__(self, channels: Any, shell: Any, publish_event: Callable[[dict[str, Any]], None]) -> None:
        self.channels = channels
        self.shell = shell
        self.publish_event = publish_event
        self.adapter: AdapterConnection | None = None
        self.port: int | None = None  # where debugpy's adapter listens, once started
        self.breakpoints: dict[str, list[dict[str, Any]]] = {}  # source path -> breakpoints
        self.stopped_threads: set[int] = set()
        self.local = {
            "dumpCell": self.dump_cell, "source": self.source, "debugInfo": self.debug_info,
            "modules": self.modules, "inspectVariables": self.inspect_variables,
            "richInspectVariables": self.rich_inspect_variables, "copyToGlobals": self.copy_to_globals,
            "variables": self.variables, "setBreakpoints": self.set_breakpoints,
            "attach": self.attach, "configurationDone": self.configuration_done,
        }
        channels.cleanups.append(cells.remove_all)

    @property
    def started(self) -> bool:
        return self.adapter is not None and not self.adapter.closed

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The ``debug_reply`` content (a DAP response) for a ``debug_request``'s content."""
        seq = request.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            request = {**request, "seq": 0}
        command = request.get("command")
        if not isinstance(command, str) or request.get("type", "request") != "request":
            return response({**request, "command": ""}, False,
                            message="a debug_request must hold a DAP request: type 'request' and a command")
        if not isinstance(request.get("arguments", {}), dict):
            return response(request, False, message=f"{command}: arguments must be an object")
        try:
            return self._handle(command, request)
        except DebuggerError as exc:
            return response(request, False, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - a malformed request is answered, never fatal
            log(f"debugger: {command} failed: {type(exc).__name__}: {exc}", exc)
            return response(request, False, message=f"{command} failed: {type(exc).__name__}: {exc}")

    def _handle(self, command: str, request: dict[str, Any]) -> dict[str, Any]:
        if not available():
            return response(request, False, message=NOT_INSTALLED)
        if command == "initialize":
            self.start()
        handler = self.local.get(command)
        if handler is not None and (self.started or command in ANSWERED_BEFORE_START):
            return handler(request)
        if not self.started:
            return response(request, False, message=f"the debugger is not started: send 'initialize' before {command!r}")
        reply = self.forward(request)
        if command == "disconnect":
            self.stop()
        return reply

    # ----- the session -------------------------------------------------------------------------

    def start(self) -> None:
        """Start debugpy in this kernel (the first time) and connect to its adapter."""
        if self.started:
            return
        if self.port is None:
            if self.shell.interruptible:  # the main thread, which must start debugpy, is busy
                raise DebuggerError("the kernel is running a cell, and debugpy starts between cells: "
                                    "turn the debugger on again when the cell has finished")
            cells.remove_stale()
            port = launch.free_port(HOST)
            self.port = port  # even if the main thread is late: it will listen there
            launch.listen_in_main_thread(self.channels, HOST, port)
        self.adapter = AdapterConnection(HOST, self.port, self._on_event)
        self.shell.cell_filename = cells.file_for

    def stop(self) -> None:
        """End the session: close the connection, forget breakpoints, usual cell names."""
        if self.adapter is not None:
            self.adapter.close()
            self.adapter = None
        self.shell.cell_filename = None
        self.breakpoints = {}
        self.stopped_threads = set()

    def forward(self, request: dict[str, Any], command: str | None = None,
                arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Pass a request to the adapter; its response, renumbered for the front end."""
        assert self.adapter is not None
        command = command or request["command"]
        if arguments is None:
            arguments = request.get("arguments")
        reply = self.adapter.request(command, arguments, REQUEST_TIMEOUT)
        reply["request_seq"] = request.get("seq", 0)
        reply["command"] = request["command"]  # the front end's command, also when we sent another
        return reply

    def _on_event(self, event: dict[str, Any]) -> None:
        """An event from the adapter (reader thread): note stops, publish as debug_event."""
        body = event.get("body") or {}
        if event.get("event") == "stopped" and "threadId" in body:
            self.stopped_threads.add(body["threadId"])
        elif event.get("event") == "continued":
            if body.get("allThreadsContinued", True):
                self.stopped_threads = set()
            else:
                self.stopped_threads.discard(body.get("threadId"))
        self.publish_event(event)

    # ----- commands changed on the way -----------------------------------------------------------

    def attach(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.adapter is not None
        arguments = dict(request.get("arguments") or {})
        arguments["connect"] = {"host": HOST, "port": self.port}
        arguments.setdefault("justMyCode", False)  # step into libraries too, never into the kernel
        arguments.setdefault("rules", [{"path": KERNEL_DIR, "include": False}])
        self.adapter.forget_event("initialized")
        seq = self.adapter.send("attach", arguments)
        self.adapter.wait_for_event("initialized", REQUEST_TIMEOUT)
        self.adapter.request("configurationDone", None, REQUEST_TIMEOUT)
        reply = self.adapter.response(seq, "attach", REQUEST_TIMEOUT)
        reply["request_seq"] = request.get("seq", 0)
        return reply

    def configuration_done(self, request: dict[str, Any]) -> dict[str, Any]:
        return response(request)  # sent to debugpy at attach, as its start sequence needs

    def set_breakpoints(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = self.forward(request)
        path = ((request.get("arguments") or {}).get("source") or {}).get("path")
        if isinstance(path, str):
            if reply.get("success"):
                self.breakpoints[path] = [{"line": bp["line"]} for bp in reply["body"]["breakpoints"] if "line" in bp]
            else:
                self.breakpoints[path] = list((request.get("arguments") or {}).get("breakpoints") or [])
            if not self.breakpoints[path]:
                del self.breakpoints[path]
        return reply

    def variables(self, request: dict[str, Any]) -> dict[str, Any]:
        if not self.stopped_threads or not self.started:
            return self.inspect_variables(request)
        reply = self.forward(request)
        if reply.get("success"):
            found = (reply.get("body") or {}).get("variables") or []
            reply["body"]["variables"] = [var for var in found if shown_variable(var.get("name", ""))]
        return reply

    def copy_to_globals(self, request: dict[str, Any]) -> dict[str, Any]:
        arguments = request.get("arguments") or {}
        source, target = arguments.get("srcVariableName"), arguments.get("dstVariableName")
        if not (isinstance(source, str) and source.isidentifier() and isinstance(target, str) and target.isidentifier()):
            return response(request, False, message="srcVariableName and dstVariableName must be Python identifiers")
        if not self.started:
            return response(request, False, message="copyToGlobals needs a thread stopped in the debugger")
        return self.forward(request, "setExpression", {
            "expression": f"globals()[{target!r}]", "value": source, "frameId": arguments.get("srcFrameId"),
        })

    # ----- commands answered here ----------------------------------------------------------------

    def dump_cell(self, request: dict[str, Any]) -> dict[str, Any]:
        code = (request.get("arguments") or {}).get("code")
        if not isinstance(code, str):
            return response(request, False, message="dumpCell needs the cell's code (a string)")
        try:
            path = cells.write(code)
        except OSError as exc:
            return response(request, False, message=f"cannot write the cell's file: {exc}")
        return response(request, body={"sourcePath": path})

    def source(self, request: dict[str, Any]) -> dict[str, Any]:
        path = ((request.get("arguments") or {}).get("source") or {}).get("path")
        try:
            with open(str(path), encoding="utf-8") as file:
                return response(request, body={"content": file.read()})
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return response(request, False, body={}, message=f"source unavailable: {exc}")

    def debug_info(self, request: dict[str, Any]) -> dict[str, Any]:
        return response(request, body={
            "isStarted": self.started,
            "hashMethod": cells.HASH_METHOD,
            "hashSeed": cells.HASH_SEED,
            "tmpFilePrefix": cells.prefix(),
            "tmpFileSuffix": cells.SUFFIX,
            "breakpoints": [{"source": path, "breakpoints": lines} for path, lines in self.breakpoints.items()],
            "stoppedThreads": sorted(self.stopped_threads),
            "richRendering": True,
            "exceptionPaths": ["Python Exceptions"],
            "copyToGlobals": True,
        })

    def modules(self, request: dict[str, Any]) -> dict[str, Any]:
        arguments = request.get("arguments") or {}
        loaded = list(sys.modules.values())
        start = arguments.get("startModule", 0) or 0
        count = arguments.get("moduleCount", 0) or len(loaded)
        found = []
        for index, module in enumerate(loaded[start : start + count], start):
            origin = getattr(getattr(module, "__spec__", None), "origin", None)
            if isinstance(origin, str) and origin.endswith(".py"):
                found.append({"id": index, "name": module.__name__, "path": origin})
        return response(request, body={"modules": found, "totalModules": len(loaded)})

    def inspect_variables(self, request: dict[str, Any]) -> dict[str, Any]:
        """The user namespace's variables (no children: values are shown, not expanded)."""
        found = []
        for name, value in list(self.shell.user_ns.items()):
            if not isinstance(name, str) or not shown_variable(name):
                continue
            try:
                shown = reprlib.repr(value)
            except Exception as exc:  # noqa: BLE001 - a broken __repr__ in user code
                shown = f"<repr failed: {type(exc).__name__}>"
            found.append({"name": name, "value": shown, "type": type(value).__name__,
                          "evaluateName": name, "variablesReference": 0})
        return response(request, body={"variables": found})

    def rich_inspect_variables(self, request: dict[str, Any]) -> dict[str, Any]:
        """A variable's mime bundle: from the namespace, or evaluated in the stopped frame."""
        arguments = request.get("arguments") or {}
        name = arguments.get("variableName")
        if not isinstance(name, str) or not name.isidentifier():
            grouping = name in ("special variables", "function variables")
            return response(request, grouping, body={"data": {}, "metadata": {}},
                            message=None if grouping else "variableName must be a Python identifier")
        data: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        if not self.stopped_threads or not self.started:
            result = self.shell.user_expressions({name: name})[name]
            if result.get("status") == "ok":
                data, metadata = result["data"], result["metadata"]
        else:
            expression = f"__import__('kernel.display.formatting', fromlist=['_']).format_object({name})[:2]"
            reply = self.forward(request, "evaluate", {
                "expression": expression, "frameId": arguments.get("frameId"), "context": "clipboard",
            })
            if reply.get("success"):
                try:
                    data, metadata = ast.literal_eval(reply["body"]["result"])
                except (ValueError, SyntaxError, TypeError, KeyError):
                    data, metadata = {}, {}
        return response(request, body={"data": data, "metadata": {k: v for k, v in metadata.items() if k in data}})
