"""Side cells: code run in this console's kernel subshell while the kernel is busy with a cell
(ours or another client's), answered at once (``%mycon side CODE``, the ``side`` key, and
``obj?`` typed while another client's cell runs).

A side cell is an execute_request whose header names our subshell (``console.subshell``); it
stores no history. Its output comes on iopub under its own msg_id in our session, so the
session shows it as ours; here its reply and its ``idle`` are awaited (bounded), and a ``page``
payload (``obj?``) is printed. With a kernel that lacks subshells the console says so once and
runs nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from console import render
from console.errors import LinkError
from console.link import KernelLink, Msg
from console.screen import Screen
from console.subshell import Subshell, SubshellUnavailable

SIDE_WORD = "%mycon side"
SIDE_TIMEOUT = 30.0  # seconds a side cell is waited for (its later output still shows)
SIDE_PROMPT = "side> "

_HELP_QUERY = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+(\[[^\n\]]*\])?\?{1,2})\s*$")


def side_code(code: str) -> str | None:
    """The code of a ``%mycon side CODE`` line (``""`` when CODE is missing), else None."""
    stripped = code.strip()
    words = stripped.split(None, 2)
    if words[:2] != SIDE_WORD.split():
        return None
    return words[2] if len(words) > 2 else ""


def is_help_query(code: str) -> bool:
    """``obj?``, ``obj??`` or ``?obj``: a question about the kernel's state, safe on a side."""
    return bool(_HELP_QUERY.match(code))


class SideCells:
    """Runs side cells in the subshell and shows what they print."""

    def __init__(self, link: KernelLink, subshell: Subshell, screen: Screen) -> None:
        self.link = link
        self.subshell = subshell
        self.screen = screen
        self._idle: dict[str, asyncio.Event] = {}
        self._told_unsupported = False
        self._asking: asyncio.Task[None] | None = None  # the side prompt of the key, while up
        shown = link.on_iopub  # the session's router (it shows our side cells' output)

        def on_iopub(msg: Msg) -> None:
            self._see(msg)
            shown(msg)

        link.on_iopub = on_iopub

    @property
    def available(self) -> bool:
        """Whether the kernel has subshells (so a side cell can run while it is busy)."""
        return self.subshell.supported

    def _see(self, msg: Msg) -> None:
        if msg["header"]["msg_type"] != "status" or msg["content"].get("execution_state") != "idle":
            return
        event = self._idle.get(str(msg.get("parent_header", {}).get("msg_id") or ""))
        if event is not None:
            event.set()

    def _say(self, text: str, color: str = "") -> None:
        self.screen.note(text, color)

    def say_unsupported_once(self) -> None:
        """A side cell asked of a kernel without subshells: said once per console."""
        if not self._told_unsupported:
            self._told_unsupported = True
            self._say(f"(no side cells: {self.subshell.unsupported_reason()}; cells wait for the running one)")

    async def run(self, code: str) -> bool:
        """Run ``code`` in the subshell and show its output, bounded by SIDE_TIMEOUT; False
        when it could not be sent (said why)."""
        if not code.strip():
            self._say(f"usage: {SIDE_WORD} CODE  (runs CODE in a kernel subshell, also while a cell runs)")
            return True
        if not self.link.ready:
            self._say("(side cell not run: the kernel is not ready yet)")
            return False
        try:
            subshell_id = await self.subshell.ensure()
        except SubshellUnavailable as e:
            if not self.subshell.supported:
                self.say_unsupported_once()
            else:
                self._say(f"(side cell not run: {e})", render.RED)
            return False
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": False}
        try:
            msg_id = self.link.send("execute_request", content, subshell=subshell_id)
        except LinkError as e:
            self._say(f"(side cell not run: {e})", render.RED)
            return False
        reply_fut = self.link.expect(msg_id, "execute_reply")
        idle = self._idle[msg_id] = asyncio.Event()
        both = asyncio.ensure_future(asyncio.gather(reply_fut, idle.wait()))
        try:
            await asyncio.wait_for(asyncio.shield(both), SIDE_TIMEOUT)
        except asyncio.TimeoutError:
            self._say(f"(the side cell did not finish within {SIDE_TIMEOUT:g} s; what it prints later still shows)")
            return True
        except LinkError as e:
            self._say(f"(side cell: {e})", render.RED)
            return True
        finally:
            self.link.forget(msg_id)
            self._idle.pop(msg_id, None)
            if not both.done():
                both.cancel()
        self._show_pages(reply_fut.result())
        return True

    def _show_pages(self, reply: Msg) -> None:
        """``obj?`` answers with a page payload: printed here (a pager would take the terminal)."""
        payloads = (reply.get("content") or {}).get("payload")
        for payload in payloads if isinstance(payloads, list) else []:
            if isinstance(payload, dict) and payload.get("source") == "page":
                text = render.render_page(payload.get("data") or {}, self.screen.options)
                self.screen.printer.ensure_line_start()
                self.screen.printer.write(text if text.endswith("\n") else text + "\n")
                self.screen.invalidate()

    async def typed(self, code: str, others_busy: bool) -> str | None:
        """A cell typed at the prompt that runs on the side: ``%mycon side CODE``, or ``obj?``
        while another client's cell keeps the kernel busy. None when it is not one; else what
        goes back to the prompt (the code, when it could not run)."""
        side = side_code(code)
        if side is not None:
            return "" if await self.run(side) else side
        if others_busy and is_help_query(code) and self.available:
            return "" if await self.run(code) else code
        return None

    def key(self, prepare: Callable[[], None], restore: Callable[[], None], completer: object) -> None:
        """The side key pressed while our cell runs: a side prompt, unless one is up already."""
        if self._asking is None or self._asking.done():
            self._asking = asyncio.ensure_future(self.ask_and_run(prepare, restore, completer))

    async def settle(self) -> None:
        """Our cell ended: a side prompt still up is finished before the next In prompt."""
        if self._asking is not None:
            try:
                await self._asking
            except Exception as e:  # a bug must not end the console
                self._say(f"(side cell: {type(e).__name__}: {e})", render.RED)
            self._asking = None

    async def ask_and_run(self, prepare: Callable[[], None], restore: Callable[[], None], completer: object) -> None:
        """The ``side`` key while our cell runs: read one side cell at a ``side>`` prompt (Tab
        completes in the subshell), run it. Ctrl-C or Ctrl-D at that prompt runs nothing."""
        if not self.available:
            self.say_unsupported_once()
            return
        from prompt_toolkit import PromptSession

        prepare()
        try:
            prompt = self.screen.prompt
            session: PromptSession[str] = PromptSession(
                input=prompt.input, output=prompt.output, completer=completer  # type: ignore[arg-type]
            )
            try:
                code = await session.prompt_async(SIDE_PROMPT)
            except (KeyboardInterrupt, EOFError):
                return
        finally:
            restore()
        if not await self.run(code):
            self._say(f"(not run: {code})")
