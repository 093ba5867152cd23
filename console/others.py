"""Other clients of our kernel, as this console shows them: their inputs and outputs live above
the prompt (labelled ``client N``), the input the kernel awaits from one of them, and the signs
that one of them restarted or shut the kernel down."""

from __future__ import annotations

from collections.abc import Callable

from console import render
from console.console_commands import INTERRUPT_WORD
from console.link import KernelLink, Msg
from console.screen import Screen
from console.session import ConsoleSession
from console.settings import Settings


class OtherClients:
    """Shows other clients' messages; knows whose input the kernel awaits."""

    def __init__(
        self,
        settings: Settings,
        link: KernelLink,
        session: ConsoleSession,
        screen: Screen,
        restart_note: Callable[[str], None],
        resync: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.link = link
        self.session = session
        self.screen = screen
        self.restart_note = restart_note  # says (once) that the kernel restarted
        self.resync = resync  # learns the kernel's execution count again
        self.waiting: tuple[str, str] | None = None  # (cell msg_id, client) whose input the kernel awaits
        self.running: dict[str, str] = {}  # other clients' cells the kernel runs: msg_id -> client
        self.last_error = ""  # the ename of the last error in another client's cell
        self._clients: dict[str, int] = {}  # other clients' session ids -> their number

    @property
    def seen_any(self) -> bool:
        """Whether another client was ever seen at work (a cell, an input, a shutdown)."""
        return bool(self._clients)

    def forget_wait(self) -> None:
        """The kernel restarted: it waits for nobody and runs nothing."""
        self.waiting = None
        self.running.clear()

    def note_queued(self) -> None:
        """Our cell is about to be sent while the kernel is busy for another client: say why
        it will wait, and how to stop what it waits for."""
        if self.waiting is not None:
            self.screen.note(f"(the kernel waits for input from {self.waiting[1]}: this cell runs once it is answered)")
        elif self.running:
            who = next(iter(self.running.values()))
            self.screen.note(f"(the kernel runs {who}'s cell: this one runs after it; Ctrl-C interrupts that cell)")

    def hint_interrupt(self) -> None:
        """Ctrl-C at the prompt cleared the input only: say how to stop another's running cell."""
        if self.running:
            who = next(iter(self.running.values()))
            self.screen.note(f"({who}'s cell is running in the kernel: `{INTERRUPT_WORD}` interrupts it)")

    def skipped_note(self) -> str:
        """Why the kernel skipped (aborted) our queued cell, as far as we can tell."""
        if self.last_error == "KeyboardInterrupt":
            return "(not run: the kernel was interrupted before it reached this cell; it is back at the prompt)"
        return "(not run: the kernel skipped this cell after an earlier error; it is back at the prompt)"

    def show(self, msg: Msg) -> None:
        """Another client's input and output, shown live above the prompt."""
        msg_type = msg["header"]["msg_type"]
        self._track(msg, msg_type)
        if msg_type == render.INPUT_WAIT:
            self._on_input_wait(msg)
            return
        if msg_type == "status" and self.waiting is not None:
            if msg.get("parent_header", {}).get("msg_id") == self.waiting[0]:
                if (msg.get("content") or {}).get("execution_state") == "idle":
                    self.waiting = None  # that cell is over, whatever became of its input
        if not self.settings.include_other_output:
            return
        if msg_type == "shutdown_reply":
            who = self.label(msg)
            if (msg.get("content") or {}).get("restart"):
                if self.link.restart_is_ours():  # ours, asked through a server: said already
                    return
                self.restart_note(f"({who} is restarting the kernel: its variables are lost)")
            else:
                self.screen.note(f"({who} shut the kernel down: its variables are gone)", render.RED)
            return
        if msg_type == "iopub_welcome":
            sender = str(msg["header"].get("session") or "")
            if self.link.ready and not self.link.owned and sender != self.link.kernel_session:
                # Every subscriber sees every welcome: one from the kernel process we know only
                # means that another client subscribed. One from a new process: the kernel
                # came back on its ports.
                self.link.kernel_session = sender
                self.restart_note("(the kernel's output channel reconnected: it was probably restarted; its variables are lost)")
                self.resync()
            return
        if msg_type == "execute_input":
            text = render.render_input(msg.get("content", {}), self.screen.options, who=self.label(msg))
            self.screen.printer.write(text)
            return
        self.session.area.show(msg, live=False)  # an update of their display comes with a note

    def _track(self, msg: Msg, msg_type: str) -> None:
        """Which of the others' cells run now, and the last error among them."""
        parent = msg.get("parent_header") or {}
        cell = str(parent.get("msg_id") or "")
        if msg_type == "execute_input" and cell:
            self.running[cell] = self.label(msg)
        elif msg_type == "status" and (msg.get("content") or {}).get("execution_state") == "idle":
            self.running.pop(cell, None)
        elif msg_type == "error":
            self.last_error = str((msg.get("content") or {}).get("ename") or "")

    def _on_input_wait(self, msg: Msg) -> None:
        """Our kernel waits for another client's input, or no longer does: said once each."""
        content = msg.get("content") or {}
        cell = str(msg.get("parent_header", {}).get("msg_id") or "")
        who = self.label(msg)
        if content.get("state") == "waiting":
            if self.waiting is not None and self.waiting[0] == cell:
                return  # the same wait, announced again for a client that just subscribed
            self.waiting = (cell, who)
        elif self.waiting is not None and self.waiting[0] == cell:
            self.waiting = None
        else:
            return  # the end of a wait we never saw begin
        if self.settings.include_other_output:
            self.screen.printer.ensure_line_start()
            self.screen.printer.write(render.render_input_wait(content, self.screen.options, who=who))
            self.screen.invalidate()

    def label(self, msg: Msg) -> str:
        """``client N``: N numbers other clients' session ids in order of first sight."""
        sid = str(msg.get("parent_header", {}).get("session") or "")
        if sid not in self._clients:
            self._clients[sid] = len(self._clients) + 1
        return f"client {self._clients[sid]}"
