"""Other clients of our kernel, as this console shows them: their inputs and outputs live above
the prompt (labelled ``client N``), the input the kernel awaits from one of them, and the signs
that one of them restarted or shut the kernel down."""

from __future__ import annotations

from collections.abc import Callable

from console import render
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
        self._clients: dict[str, int] = {}  # other clients' session ids -> their number

    def forget_wait(self) -> None:
        """The kernel restarted: it waits for nobody."""
        self.waiting = None

    def show(self, msg: Msg) -> None:
        """Another client's input and output, shown live above the prompt."""
        msg_type = msg["header"]["msg_type"]
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
            if (msg.get("content") or {}).get("restart"):
                if self.link.restart_is_ours():  # ours, asked through a server: said already
                    return
                self.restart_note("(another client is restarting the kernel: its variables are lost)")
            else:
                self.screen.note("(another client shut the kernel down)", render.RED)
            return
        if msg_type == "iopub_welcome":
            sender = str(msg["header"].get("session") or "")
            if self.link.ready and not self.link.owned and sender != self.link.kernel_session:
                # Every subscriber sees every welcome: one from the kernel process we know only
                # means that another client subscribed. One from a new process: the kernel
                # came back on its ports.
                self.link.kernel_session = sender
                self.restart_note("(the kernel's output channel reconnected: it was probably restarted)")
                self.resync()
            return
        if msg_type == "execute_input":
            text = render.render_input(msg.get("content", {}), self.screen.options, who=self.label(msg))
            self.screen.printer.write(text)
            return
        self.session.area.show(msg, live=False)  # an update of their display comes with a note

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
