"""The prompt: prompt_toolkit session factory, key bindings, completer, lexer and help toolbar.

The prompt never waits on the network inside a key handler: Enter asks ``is_complete`` in a
background task (keys typed meanwhile are held and replayed in order), completion and the
signature toolbar are asynchronous, and every kernel question has a short bound with a local
answer when the kernel is slow or not ready.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application.current import get_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.filters import Condition, has_completions, has_focus, is_searching
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
from prompt_toolkit.key_binding.key_processor import KeyPress
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout.processors import HighlightMatchingBracketProcessor
from prompt_toolkit.lexers import DynamicLexer, Lexer, PygmentsLexer
from prompt_toolkit.renderer import CPR_Support
from prompt_toolkit.styles import Style

from console import render
from console.settings import key_sequences

# (status, indent) as answered by the kernel or guessed locally.
Completeness = tuple[str, str]
AskComplete = Callable[[str], Awaitable[Completeness]]

DEFAULT_STYLE = {
    "in": "ansigreen",
    "in-number": "ansibrightgreen bold",
    "continuation": "ansigreen",
    "mode": "ansiyellow bold",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "completion-menu.meta.completion": "italic",
}

AHEAD_WAIT = 0.05
"""Longest the next prompt waits for the kernel's answer about a cell typed ahead (seconds)."""

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}


def local_completeness(text: str) -> Completeness:
    """A language-neutral guess: open brackets or strings, a trailing ``\\`` or ``:``, or an
    indented last line of a multi-line cell (a block still open) mean more input is coming.
    Used when the kernel does not answer in time (or has not started yet)."""
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            continue
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif c in _OPEN:
            stack.append(c)
        elif c in _CLOSE and stack and stack[-1] == _CLOSE[c]:
            stack.pop()
        elif c == "\n" and quote and len(quote) == 1:
            quote = ""
        i += 1
    stripped = text.rstrip()
    last_line = stripped.split("\n")[-1] if stripped else ""
    indent = re.match(r"\s*", last_line)
    base = indent.group(0) if indent else ""
    if stack or (quote and len(quote) == 3):
        return "incomplete", base
    if stripped.endswith("\\"):
        return "incomplete", base
    if stripped.endswith(":"):
        return "incomplete", base + "    "
    if "\n" in stripped and base:
        return "incomplete", base  # an empty line ends the block and runs the cell
    return "complete", ""


# -- Enter ------------------------------------------------------------------------------------


@dataclass
class EnterState:
    """Keys held while an Enter waits for the kernel's is_complete answer, and the kernel's
    answer for the text as typed so far (asked in the background, so Enter usually needs no
    round trip at all)."""

    pending: bool = False
    held: list[KeyPress] = field(default_factory=list)
    known_text: str | None = None
    known: Completeness = ("unknown", "")
    ahead: str = ""  # the next cell, typed (or pasted) before the Enter that ran this one
    running: bool = False  # the prompt closes to run the cell (set by Enter, taken at the close)
    _probe: asyncio.Task[None] | None = None
    _ahead: asyncio.Task[None] | None = None
    _dirty: bool = False

    def take_running(self) -> bool:
        """Whether the prompt now closing runs its cell (once per Enter)."""
        running, self.running = self.running, False
        return running

    def ask_ahead(self, ask: Callable[[str], Awaitable[Completeness | None]]) -> None:
        """Ask the kernel about the cell typed ahead, whose keys wait for the next prompt (called
        once this cell's execute_request is sent: the kernel answers right after the cell), so
        that its Enter there needs no round trip. Pasted cells then run one after the other."""
        text, self.ahead = self.ahead, ""
        if not text.strip():
            return

        async def run() -> None:
            answer = await ask(text)
            if answer is not None:
                self.known_text, self.known = text, answer

        self._ahead = asyncio.ensure_future(run())  # kept: the loop holds tasks weakly

    async def ahead_answered(self, bound: float = AHEAD_WAIT) -> None:
        """Wait (at most ``bound`` seconds) for the answer about the cell typed ahead: its
        keys are processed as the next prompt opens, in one go, with no chance to read it."""
        if self._ahead is not None and not self._ahead.done():
            await asyncio.wait({self._ahead}, timeout=bound)

    def speculate(self, buffer: Any, probe: Callable[[str], Awaitable[Completeness | None]]) -> None:
        """Ask about the buffer's text in the background (one request in flight at most)."""
        if self._probe is not None and not self._probe.done():
            self._dirty = True
            return
        self._dirty = False

        async def run() -> None:
            if self.pending:
                return  # an Enter read in the same batch as the text asks itself
            text = buffer.text
            answer = await probe(text) if text.strip() else None
            if answer is not None:
                self.known_text, self.known = text, answer
            if self._dirty and not self.pending:
                self._dirty = False
                self._probe = asyncio.ensure_future(run())

        self._probe = asyncio.ensure_future(run())


def load_enter_bindings(
    ask: AskComplete, state: EnterState | None = None, keys: dict[str, Any] | None = None
) -> KeyBindings:
    """Enter runs a complete cell or inserts a newline with the kernel's indent.

    Meta-Enter (Esc Enter) runs the cell whatever the kernel thinks; Ctrl-O inserts a newline
    (the ``run`` and ``newline`` actions of the ``[keys]`` setting).
    """
    keys = keys or {}
    kb = KeyBindings()
    st = state or EnterState()
    waiting = Condition(lambda: st.pending)
    default = has_focus("DEFAULT_BUFFER") & ~is_searching

    def finish(event: KeyPressEvent, run: bool, indent: str) -> None:
        buf = event.current_buffer
        st.known_text = None
        held, st.held = st.held, []
        st.pending = False
        if run:
            st.running = True
            if st._probe is not None:
                st._probe.cancel()  # a question about the text not sent yet: not needed now
            buf.validate_and_handle()
            # Keys typed after Enter belong to the next prompt: stored as type-ahead at once,
            # not queued here, where a late cursor-position report read while this prompt
            # closes would make the closing prompt process them.
            if held:
                st.ahead = typed_line(held)
                store_typeahead(event.app.input, held)
        else:
            buf.insert_text("\n" + indent)
            if held:
                event.app.key_processor.feed_multiple(held)
                event.app.key_processor.process_keys()

    @kb.add("enter", filter=default & ~waiting & ~has_completions)
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        doc = buf.document
        text = buf.text
        if not text.strip():
            buf.validate_and_handle()
            return
        if "\n" in text and doc.is_cursor_at_the_end and not doc.current_line.strip():
            buf.text = text.rstrip()
            buf.validate_and_handle()
            return
        if doc.cursor_position_row < doc.line_count - 1:
            lead = re.match(r"\s*", doc.current_line)
            buf.insert_text("\n" + (lead.group(0) if lead else ""))
            return
        if st.known_text == text:  # answered while the user typed: no waiting
            finish(event, st.known[0] != "incomplete", st.known[1])
            return
        # From here until the answer, keys are held (set synchronously: keys already read in
        # the same batch must not slip past the Enter).
        st.pending = True
        st.held = []
        answer = asyncio.ensure_future(ask(text))  # a question that can go out now does (before the redraw)

        async def decide() -> None:
            finished = False
            try:
                try:
                    status, indent = await answer
                except Exception:
                    status, indent = local_completeness(text)
                finish(event, status != "incomplete", indent)
                finished = True
            finally:
                # finish() cleared ``pending`` before replaying the held keys, and an Enter
                # among them may have set it again for its own question: leave that one be
                if not finished:
                    st.pending = False  # the prompt went away meanwhile

        event.app.create_background_task(decide())

    @kb.add(Keys.Any, filter=waiting, eager=True)
    @kb.add("enter", filter=waiting, eager=True)
    def _hold(event: KeyPressEvent) -> None:
        for key in event.key_sequence:
            if key.key == Keys.CPRResponse:
                report_cursor_row(event.app, key.data)  # the terminal's answer is not a key
            else:
                st.held.append(key)

    def _force_run(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    def _force_newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    for sequence in key_sequences(keys, "run"):
        kb.add(*sequence, filter=default & ~waiting)(_force_run)
    for sequence in key_sequences(keys, "newline"):
        kb.add(*sequence, filter=default & ~waiting)(_force_newline)

    @kb.add("enter", filter=default & has_completions & ~waiting)
    def _pick(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is None and state.completions:
            buf.apply_completion(state.completions[0])
        else:
            buf.complete_state = None

    return kb


def typed_line(keys: list[KeyPress]) -> str:
    """The text of ``keys`` up to their first Enter when they are plain characters ("" when
    there is no Enter or another key comes first: no guess about what the next cell is)."""
    chars: list[str] = []
    for key in keys:
        if key.key == Keys.ControlM:
            return "".join(chars)
        if isinstance(key.key, Keys) or len(key.key) != 1 or not key.key.isprintable():
            return ""
        chars.append(key.key)
    return ""


def report_cursor_row(app: Any, data: str) -> None:
    """Give the renderer a cursor-position report (``ESC [ row ; col R``) the terminal sent.

    Held with the typed keys while an Enter waited, it would leave the closing prompt waiting
    a second for an answer that already came.
    """
    try:
        row = int(data[2:-1].split(";")[0])
    except ValueError:
        return
    app.renderer.report_absolute_cursor_row(row)


def never_wait_for_a_silent_terminal(renderer: Any, running: Callable[[], bool] = lambda: False) -> None:
    """A prompt that closes before the terminal ever answered a cursor-position request does
    not wait for the answer, nor one that closes to run a cell (``running()``).

    prompt_toolkit waits up to a second at the end of each prompt for the answers it asked
    for, and decides the terminal does not answer only once a single prompt has lived two
    seconds: a program driving the console through a pty (which answers nothing) would see
    each cell stall a second. A terminal that answered once is waited for as before, except
    when the prompt closes to run a cell: the keys are read while it runs (``console.keys``,
    which drops a late answer) and by the next prompt (whose renderer takes it), so nothing
    leaks, and a cell pasted with the next one does not wait for the terminal's round trip
    (the prompt asked as it opened, an instant before).
    """
    wait = renderer.wait_for_cpr_responses

    async def bounded(timeout: int = 1) -> None:
        if renderer.cpr_support == CPR_Support.UNKNOWN or running():
            pending = getattr(renderer, "_waiting_for_cpr_futures", None)  # prompt_toolkit's own
            if pending is not None:
                pending.clear()  # the next prompt asks again
            return
        await wait(timeout)

    renderer.wait_for_cpr_responses = bounded


def load_paste_bindings() -> KeyBindings:
    """Bracketed paste inserts the whole block as one cell (line endings normalised)."""
    kb = KeyBindings()

    @kb.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        event.current_buffer.insert_text(data)

    return kb


def load_editor_bindings(keys: dict[str, Any] | None = None) -> KeyBindings:
    """F2 (the ``editor`` action) edits the input in $EDITOR (Ctrl-X Ctrl-E comes from
    prompt_toolkit)."""
    kb = KeyBindings()

    def _edit(event: KeyPressEvent) -> None:
        event.current_buffer.open_in_editor(validate_and_handle=False)

    for sequence in key_sequences(keys or {}, "editor"):
        kb.add(*sequence)(_edit)
    return kb


def load_suggestion_bindings(keys: dict[str, Any] | None = None) -> KeyBindings:
    """Right or Ctrl-E (the ``accept_suggestion`` action) at the end of the line accepts the
    history suggestion."""
    kb = KeyBindings()
    has_suggestion = Condition(
        lambda: get_app().current_buffer.suggestion is not None
        and get_app().current_buffer.document.is_cursor_at_the_end
    )

    def _accept(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        if buf.suggestion is not None:
            buf.insert_text(buf.suggestion.text)

    for sequence in key_sequences(keys or {}, "accept_suggestion"):
        kb.add(*sequence, filter=has_suggestion)(_accept)
    return kb


# -- completion -------------------------------------------------------------------------------

Complete = Callable[[str, int], Awaitable[dict[str, Any] | None]]


def completions_from_reply(content: dict[str, Any], cursor: int) -> list[Completion]:
    """Completions from a complete_reply, each with its kind (when the kernel says it)."""
    matches = [str(m) for m in content.get("matches") or []]
    start = int(content.get("cursor_start", cursor))
    kinds: dict[str, str] = {}
    typed = (content.get("metadata") or {}).get("_jupyter_types_experimental") or []
    for item in typed:
        if isinstance(item, dict) and "text" in item:
            kinds[str(item["text"])] = str(item.get("type") or "")
    out = []
    for m in matches:
        out.append(Completion(m, start_position=start - cursor, display_meta=kinds.get(m, "")))
    return out


class KernelCompleter(Completer):
    """Asks the kernel (complete_request) on Tab; stale replies are dropped by msg_id."""

    def __init__(self, complete: Complete) -> None:
        self.complete = complete

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        return []

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent):  # type: ignore[no-untyped-def,override]
        cursor = len(document.text_before_cursor)
        reply = await self.complete(document.text, cursor)
        if not reply:
            return
        for c in completions_from_reply(reply, cursor):
            yield c


# -- help while typing ------------------------------------------------------------------------

_CALL_RE = re.compile(r"([A-Za-z_][\w.]*)\s*$")


def call_context(text_before_cursor: str) -> tuple[str, int] | None:
    """The callee name and its end offset when the cursor sits inside ``name(...``."""
    depth = 0
    # Look back at most a few thousand characters: typing in a huge cell stays cheap.
    for i in range(len(text_before_cursor) - 1, max(-1, len(text_before_cursor) - 4001), -1):
        c = text_before_cursor[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                if c != "(":
                    return None
                m = _CALL_RE.search(text_before_cursor[:i])
                if not m:
                    return None
                return m.group(1), m.end(1)
            depth -= 1
    return None


Inspect = Callable[[str, int], Awaitable[dict[str, Any] | None]]


class HelpToolbar:
    """Shows the signature of the function being called, fetched with inspect_request."""

    def __init__(self, inspect: Inspect, width: Callable[[], int]) -> None:
        self.inspect = inspect
        self.width = width
        self.name = ""
        self.text = ""
        self._task: asyncio.Task[None] | None = None
        self.session: PromptSession[str] | None = None
        self.status: Callable[[], str] = lambda: ""  # a standing line (e.g. the --cluster engines)

    def on_text_changed(self, buffer: Any) -> None:
        """Schedule a lookup when the call context changed (never blocks typing)."""
        ctx = call_context(buffer.document.text_before_cursor)
        name = ctx[0] if ctx else ""
        if name == self.name:
            return
        self.name = name
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if not ctx:
            self._show("")
            return
        code = buffer.document.text_before_cursor[: ctx[1]]
        self._task = asyncio.ensure_future(self._lookup(name, code, ctx[1]))

    async def _lookup(self, name: str, code: str, pos: int) -> None:
        reply = await self.inspect(code, pos)
        if name != self.name:
            return
        if not reply or not reply.get("found"):
            self._show("")
            return
        self._show(render.signature_help(reply.get("data") or {}, 3, self.width()))

    def refresh(self) -> None:
        """The standing line changed: redraw (called from any task, so the session's own app)."""
        self._show(self.text)
        if self.session is not None and self.session.app.is_running:
            self.session.app.invalidate()

    def _show(self, text: str) -> None:
        self.text = text
        if self.session is not None:
            self.session.bottom_toolbar = self.formatted if text or self.status() else None
            try:
                get_app().invalidate()
            except Exception:
                pass

    def formatted(self) -> StyleAndTextTuples:
        lines = [line for line in (self.status(), self.text) if line]
        return [("class:bottom-toolbar.text", "\n".join(lines))]


# -- the session ------------------------------------------------------------------------------


@dataclass
class PromptState:
    """What the prompt shows that changes over time."""

    count: Callable[[], int]
    lexer: Lexer | None = None
    prompts: render.Prompts = render.Prompts()
    mode: str = ""  # a mode the prompt shows before ``In [n]:``, e.g. "px" (%autopx) or "watching"


def lexer_for(name: str) -> Lexer | None:
    """A prompt_toolkit lexer from a pygments lexer name (None when unknown)."""
    if not name:
        return None
    try:
        from pygments.lexers import get_lexer_by_name

        return PygmentsLexer(type(get_lexer_by_name(name)))
    except Exception:
        return None


def prompt_message(state: PromptState) -> Callable[[], StyleAndTextTuples]:
    """The coloured input prompt (``In [n]: ``), following the kernel's counter."""

    def message() -> StyleAndTextTuples:
        before, number, after = state.prompts.input_parts(state.count())
        mode = [("class:mode", f"[{state.mode}] ")] if state.mode else []
        return [*mode, ("class:in", before), ("class:in-number", number), ("class:in", after)]

    return message


def prompt_continuation(state: PromptState) -> Callable[[int, int, int], StyleAndTextTuples]:
    """The ``   ...: `` continuation prompt aligned with ``In [n]: ``."""

    def cont(width: int, line_number: int, wrap_count: int) -> StyleAndTextTuples:
        indent = " " * (len(state.mode) + 3) if state.mode else ""
        return [("class:continuation", indent + render.continuation_text(state.count(), state.prompts))]

    return cont


def create_prompt_session(
    state: PromptState,
    *,
    ask_complete: AskComplete,
    completer: Completer | None,
    history: Any,
    toolbar: HelpToolbar | None,
    vi_mode: bool = False,
    extra_bindings: list[KeyBindings] | None = None,
    keys: dict[str, Any] | None = None,
    style: dict[str, str] | None = None,
    input: Any = None,
    output: Any = None,
    enter_state: EnterState | None = None,
    probe_complete: Callable[[str], Awaitable[Completeness | None]] | None = None,
) -> PromptSession[str]:
    """Build the PromptSession the console reads cells with."""
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory

    bindings = merge_key_bindings(
        [
            load_enter_bindings(ask_complete, enter_state, keys),
            load_paste_bindings(),
            load_editor_bindings(keys),
            load_suggestion_bindings(keys),
            *(extra_bindings or []),
        ]
    )
    session: PromptSession[str] = PromptSession(
        message=prompt_message(state),
        prompt_continuation=prompt_continuation(state),
        multiline=True,
        lexer=DynamicLexer(lambda: state.lexer),
        completer=completer,
        complete_while_typing=False,
        complete_in_thread=False,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        enable_history_search=True,
        enable_open_in_editor=True,
        editing_mode=EditingMode.VI if vi_mode else EditingMode.EMACS,
        key_bindings=bindings,
        style=Style.from_dict({**DEFAULT_STYLE, **(style or {})}),
        include_default_pygments_style=True,
        input_processors=[HighlightMatchingBracketProcessor()],
        tempfile_suffix=".py",
        input=input,
        output=output,
        mouse_support=False,
    )
    never_wait_for_a_silent_terminal(session.app.renderer, enter_state.take_running if enter_state else lambda: False)
    if probe_complete is not None and enter_state is not None:
        st, probe = enter_state, probe_complete
        session.default_buffer.on_text_changed += lambda buf: st.speculate(buf, probe)
    if toolbar is not None:
        toolbar.session = session
        session.default_buffer.on_text_changed += toolbar.on_text_changed
    return session
