"""The console: one REPL on one kernel, and the wiring of its parts.

The prompt appears at once; the kernel is started (or attached to) in the background
(``console.lifecycle``) and a cell typed before it is ready is held, then run. While a cell runs,
keys are caught (Ctrl-C interrupts, the rest is type-ahead for the next prompt) and output is
printed as it arrives (``console.session``). Other clients' messages are shown by
``console.others``; the prompt's questions to the kernel are in ``console.questions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from console import pager, parallel_output, render
from console.console_commands import RESTART_WORD, kernel_command
from console.history import ConsoleHistory
from console.keys import KeyCatcher
from console.lifecycle import KernelLifecycle, StartFailed, warm_up
from console.link import KernelLink
from console.others import OtherClients
from console.output import Printer
from console.probe import GraphicsProbe
from console.prompt import (
    EnterState,
    HelpToolbar,
    KernelCompleter,
    PromptState,
    create_prompt_session,
)
from console.questions import KernelQuestions
from console.screen import Screen
from console.session import CellOutcome, ConsoleSession, InputCancelled, SessionHooks
from console.settings import Settings, key_sequences
from console.sharing import KernelSharing, Leaving
from console.side import SIDE_WORD, SideCells
from console.subshell import NO_INTERRUPT_NOTE, Subshell, watch_subshells

if TYPE_CHECKING:
    from console.parallel import ClusterControl
    from console.prelaunch import EarlyKernel

WATCH_REFUSAL = "(watching: this console never runs cells; Ctrl-D leaves, the kernel keeps running)"
"""The one line a typed cell gets in ``--watch`` mode."""
SLOW_SHUTDOWN_NOTE = 1.0
"""Seconds of waiting for an owned kernel to shut down, on leaving, before saying so."""


class Console:
    """One interactive console on one kernel: reads cells, runs them, acts on their replies."""

    def __init__(self, settings: Settings, input: Any = None, output: Any = None) -> None:
        self.settings = settings
        self.printer = Printer()
        self.screen = Screen(self.printer, render.RenderOptions(
            width=self._width(),
            color=settings.color and not os.environ.get("NO_COLOR"),  # no-color.org
            graphics=settings.graphics,
            mime_order=render.mime_order(settings.mime_order),
            prompts=render.Prompts(settings.in_prompt, settings.continuation_prompt, settings.out_prompt),
        ))
        self.link = _make_link(settings)
        self.link.encrypt = settings.encrypt
        self.link.on_kernel_output = self._on_kernel_output
        hooks = SessionHooks(
            write=self.printer.write,
            ask_input=self._ask_input,
            on_other=lambda msg: self.others.show(msg),
            on_kernel_status=lambda state: self.life.on_kernel_status(state),
        )
        self.session = ConsoleSession(self.link, hooks, self.screen.options)
        self.printer.watch(self.session.area.seen)  # rows others write, for in-place redraws
        self.history = ConsoleHistory(settings.history_size)
        self.state = PromptState(count=lambda: self.session.execution_count, prompts=self.screen.options.prompts)
        self.subshell = Subshell(self.link)  # side cells and questions while the kernel is busy
        self.cells_subshell = Subshell(self.link)  # --subshell: where this console's cells run
        self.side = SideCells(self.link, self.subshell, self.screen)
        watch_subshells(self.link, [self.subshell, self.cells_subshell])
        self.questions = KernelQuestions(
            self.link, busy=lambda: self._running or bool(self.others.running), subshell=self.subshell
        )
        self.toolbar = HelpToolbar(self.questions.inspect, self._width)
        self.enter_state = EnterState()
        self.prompt = create_prompt_session(
            self.state,
            ask_complete=self.questions.is_complete,
            completer=KernelCompleter(self.questions.complete),
            history=self.history,
            toolbar=self.toolbar,
            vi_mode=settings.vi_mode,
            style=settings.style,
            keys=settings.keys,
            input=input,
            output=output,
            enter_state=self.enter_state,
            probe_complete=self.questions.probe_complete,
        )
        self.screen.prompt = self.prompt
        if not self.screen.options.color:
            from prompt_toolkit.output import ColorDepth

            self.prompt.color_depth = ColorDepth.MONOCHROME

        self.printer.set_app(self.prompt.app)
        self.printer.style_note = lambda text: self.screen.style(text, render.DIM)
        self.catcher = KeyCatcher(self.prompt.input, self._on_ctrl_c, self._say_still_waiting)
        self.catcher.side_keys = key_sequences(settings.keys, "side")
        self.catcher.on_side = lambda: self.side.key(
            self._hand_terminal, lambda: self.printer.set_app(self.prompt.app), self.prompt.completer
        )
        self.life = KernelLifecycle(
            settings, self.link, self.session, self.screen, self.history, self.state, self.catcher
        )
        self.prompt.tempfile_suffix = lambda: self.life.file_extension
        self.others = OtherClients(
            settings, self.link, self.session, self.screen, self.life.restart_note, self.life.resync_later
        )
        self.life.on_restart = self._on_restart
        self.sharing = KernelSharing(self.link, self.screen, self.others, self.life.ask_restart)
        self.life.on_restarted = self._on_restarted
        self.cluster: ClusterControl | None = _make_cluster(settings, self.link, self.screen)
        if self.cluster is not None:
            self.life.before_restart = self.cluster.stop  # the kernel's exit may leave it running
            self.cluster.on_started = self._show_cluster_status
        self.printer.watch(self._follow_autopx)
        if settings.watch:
            self.state.mode = "watching"
        self._running = False
        self._interrupt_failed = False  # an interrupt went unanswered: Ctrl-C abandons the cell
        self._next_input = ""
        self._keep_kernel = False
        self._leaving = False  # shutting an owned kernel down on the way out
        self._add_restart_key()

    def add_typeahead(self, text: str) -> None:
        """Keys typed before the prompt existed go to the prompt first, as if typed there."""
        if text:
            _store_typeahead(self.prompt.input, text)

    @staticmethod
    def _width() -> int:
        return shutil.get_terminal_size((80, 24)).columns

    # -- running ----------------------------------------------------------------------------

    def _say_still_waiting(self) -> None:
        """A Ctrl-C did not end the wait within a second: say how to leave it."""
        if not self._leaving:  # leaving said so at once
            self.screen.note("(still waiting for the kernel: Ctrl-C again stops waiting)")

    def _on_ctrl_c(self) -> None:
        if self._leaving:
            self.screen.note("(the kernel is shutting down; Ctrl-C again stops waiting for it)")
            return
        if self.life.cancel_held_cell():
            return
        if self._running and self._interrupt_failed:
            self.session.abandon()  # the kernel ignored the interrupt: give the prompt back
            return
        if self._running and self.link.subshell_id:  # --subshell: an interrupt hits the main shell
            self.screen.note(NO_INTERRUPT_NOTE)
            return
        if self._running and self.link.client is not None:
            self.life.background(self._interrupt())  # kept: a collected task would never send

    async def _interrupt(self) -> None:
        try:
            await self.link.interrupt()
        except Exception as e:
            self._interrupt_failed = True
            self.printer.write(self.screen.style(
                f"could not interrupt the kernel: {e}; Ctrl-C again stops waiting for this cell\n",
                render.RED,
            ))

    def _on_sigint(self) -> None:
        """SIGINT outside prompt_toolkit's raw mode (a brief window): same as Ctrl-C."""
        self.catcher.ctrl_c()

    def _hand_terminal(self) -> None:
        """Output so far is out; what comes next prints plainly above another prompt."""
        self.printer.flush()
        self.printer.set_app(None)

    async def _ask_input(self, prompt: str, password: bool) -> str:
        """Answer input()/getpass at the terminal; Ctrl-C cancels, Ctrl-D is end of file."""
        self.catcher.hand_over()
        self._hand_terminal()
        try:
            return await self.screen.ask(prompt, password=password)
        except KeyboardInterrupt:
            self.printer.write("\n")
            self.catcher.pressed_elsewhere()  # if the interrupt does nothing, one more Ctrl-C breaks
            raise InputCancelled() from None
        finally:
            self.printer.set_app(self.prompt.app)

    def _show_cluster_status(self, control: ClusterControl) -> None:
        """The cluster is up: its engines and how many are busy go in the bottom toolbar."""
        from console.cluster_status import ClusterStatus

        status = ClusterStatus(control.cluster_id, lambda: bool(self.prompt.app.is_running), self.toolbar.refresh)
        renderer = self.prompt.app.renderer
        # Only where the terminal reports the cursor (CPR): in a terminal without it, the prompt
        # was seen not to be redrawn after the toolbar appeared under it.
        self.toolbar.status = lambda: status.line if renderer.height_is_known else ""
        control.on_stopping = status.stop
        self.life.background(status.run())

    def _on_restarted(self) -> None:
        """Our restart of the kernel is over: ``--cluster`` starts its cluster in the new one."""
        if self.cluster is not None:
            self.life.background(self.cluster.start())

    def _follow_autopx(self, text: str) -> None:
        """Output saying ``%autopx`` went on or off (this client's cell or another's): the prompt
        shows ``[px]`` while every cell runs on the engines."""
        switched = parallel_output.autopx_switch(text)
        if switched is not None and not self.settings.watch:
            self.state.mode = "px" if switched else ""
            self.screen.invalidate()

    def _on_restart(self) -> None:
        """The kernel restarted: it waits for nobody, and the notebook record marks the break."""
        if self.state.mode == "px":
            self.state.mode = ""  # a new kernel runs cells locally
        if self.cluster is not None:
            self.cluster.forget()  # it went with the old kernel
        self.others.forget_wait()
        self.session.recorder.restarted()
        self.subshell.forget()  # a new kernel process has none of the old one's subshells
        self.cells_subshell.forget()

    def _on_kernel_output(self, text: str) -> None:
        """What the kernel process itself writes to its stdout/stderr (not cell output)."""
        self.printer.write(self.screen.style(text, render.DIM))

    def _add_restart_key(self) -> None:
        """Ctrl-X Ctrl-K (the ``restart`` action) at the prompt asks to restart the kernel (the
        typed text is kept)."""
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

        kb = KeyBindings()

        def _(event: Any) -> None:
            self._next_input = event.app.current_buffer.text
            event.app.exit(result=RESTART_WORD)

        for sequence in key_sequences(self.settings.keys, "restart"):
            kb.add(*sequence)(_)

        def side(event: Any) -> None:  # the typed text runs as a side cell (console.side)
            event.app.exit(result=f"{SIDE_WORD} {event.app.current_buffer.text}")

        for sequence in key_sequences(self.settings.keys, "side"):
            kb.add(*sequence)(side)

        self.prompt.key_bindings = merge_key_bindings([self.prompt.key_bindings or KeyBindings(), kb])

    async def run_cell(self, code: str) -> CellOutcome:
        """Run one cell with keys caught (Ctrl-C interrupts, others are type-ahead)."""
        self.screen.options = replace(self.screen.options, width=self._width())
        self.session.options = self.screen.options
        if self.settings.subshell:
            await self.cells_subshell.take_cells(self.screen.note)
        if not self.link.subshell_id:
            self.others.note_queued()  # behind another client's cell or wait for input
        self._running = True
        self._interrupt_failed = False
        asyncio.get_running_loop().call_soon(self.enter_state.ask_ahead, self.questions.is_complete_after)
        try:
            with self.catcher.active(on_break=self.session.abandon):
                outcome = await self.session.run_cell(code)
                await self.side.settle()  # a side prompt still up is done before the next prompt
                await self.enter_state.ahead_answered()  # the next cell's Enter needs no round trip
                return outcome
        finally:
            self._running = False
            self.printer.flush()

    async def _handle_payloads(self, outcome: CellOutcome) -> bool:
        """Act on the reply's payloads; returns False when the console should exit."""
        for payload in outcome.payloads:
            source = payload.get("source")
            if source == "page":
                await pager.page(render.render_page(payload.get("data") or {}, self.screen.options), self.printer)
            elif source == "set_next_input":
                self._next_input = str(payload.get("text") or "")
            elif source == "ask_exit":
                self._keep_kernel = bool(payload.get("keepkernel"))
                return False
            elif source == "edit_magic":
                text = await pager.edit(
                    str(payload.get("filename", "")), payload.get("line_number"),
                    self.life.file_extension, self.printer,
                )
                if text is not None:
                    self._next_input = text
        return True

    async def _confirm_exit(self) -> bool:
        if self.settings.watch:  # watching loses nothing: no question
            return True
        choice = await self.sharing.leaving()  # other clients attached: ask what becomes of it
        if choice is not Leaving.USUAL:
            self._keep_kernel = choice is Leaving.KEEP
            return choice is not Leaving.CANCEL
        if not self.settings.confirm_exit:
            return True
        try:
            answer = await self.screen.ask("Do you really want to exit ([y]/n)? ")
        except (EOFError, KeyboardInterrupt):
            return True
        return answer.strip().lower() in ("", "y", "yes")

    # -- main loop --------------------------------------------------------------------------

    async def run(self) -> int:
        """Read and run cells until the user leaves; returns the exit status."""
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(self._on_sigint))
        self.life.begin()
        if self.cluster is not None:
            self.life.background(self.cluster.start())
        # SIGTERM or a closed terminal (SIGHUP): leave as on Ctrl-D, shutting an owned kernel
        # down and removing its connection file, instead of dying on the spot.
        main = asyncio.current_task()
        ended_by: list[int] = []

        def terminate(signum: int) -> None:
            ended_by.append(signum)
            if main is not None:
                main.cancel()

        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, terminate, signum)
        try:
            return await self._loop()
        except StartFailed as e:
            self.printer.ensure_line_start()
            sys.stderr.write(f"mycon: {e}\n")
            return e.code
        except asyncio.CancelledError:
            if not ended_by:
                raise
            return 128 + ended_by[0]
        finally:
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            try:
                await self._close()  # Ctrl-C still ours: twice kills a kernel slow to shut down
            finally:
                signal.signal(signal.SIGINT, previous)

    async def _loop(self) -> int:
        while True:
            self.printer.ensure_line_start()
            if self.life.start_error is not None:
                raise self.life.start_error
            default, self._next_input = self._next_input, ""
            try:
                code = await self.prompt.prompt_async(default=default)
            except KeyboardInterrupt:
                self.others.hint_interrupt()
                continue
            except EOFError:
                if await self._confirm_exit():
                    return 0
                continue
            if not code.strip():
                continue
            if self.settings.watch:
                self.screen.note(WATCH_REFUSAL)
                continue
            kept = await self.side.typed(code, others_busy=bool(self.others.running))
            if kept is not None:  # %mycon side CODE, or obj? while another client's cell runs
                self._next_input = kept  # what could not run comes back
                continue
            verb = kernel_command(code)  # %mycon restart, interrupt, shutdown
            if verb:
                if await self.life.wait_started() and not await self.sharing.command(verb):
                    return 0
                continue
            if not await self.life.wait_started():
                self.printer.write("(not run: the kernel is still starting)\n")
                continue
            if not await self.life.wait_restart():
                self._next_input = code  # not run: the restart is not over
                continue
            if not self.link.alive and not self.link.owned:
                self.screen.note("(not run: the kernel does not answer; the cell is kept. Ctrl-D leaves)")
                self._next_input = code
                continue
            if self.cluster is not None:
                await self.cluster.setup_sent()  # bounded
            outcome = await self.run_cell(code)
            if outcome.status == "aborted":
                # stop_on_error: an error before it (maybe another client's) made the kernel
                # skip this cell. Nothing ran; the cell comes back to be run again.
                self.screen.note(self.others.skipped_note())
                self._next_input = code
                continue
            if outcome.status == "abandoned":
                self.printer.ensure_line_start()
                self.printer.write(self.screen.style(f"mycon: {outcome.error}\n", render.RED))
                self.screen.note(_busy_hint(self.link.can_restart))
                continue
            if outcome.status == "lost":  # restarted under it by another client
                self.life.cell_lost(outcome.error)
                await self.life.wait_restart()
                continue
            if outcome.status == "dead":
                self.printer.ensure_line_start()
                if self.link.kernel_comes_back or not self.link.alive:
                    note = f"(the cell did not finish: {outcome.error})\n"
                    self.printer.write(self.screen.style(note, render.RED))
                    await self.life.wait_restart()
                    continue
                sys.stderr.write(f"mycon: {outcome.error}\n")
                return 1
            if not await self._handle_payloads(outcome):
                return 0
            self.printer.ensure_line_start()
            self.printer.write("\n")  # a blank line between cells, as in IPython

    async def _close(self) -> None:
        await self.life.stop_starting()
        if self.cluster is not None and self.link.client is not None:
            with self.catcher.active(on_break=lambda: None):  # Ctrl-C: the stop is bounded
                await self.cluster.stop()
        for subshell in (self.subshell, self.cells_subshell):
            note = await subshell.close()  # bounded; nothing to do when none was made
            if note:
                self.screen.note(note)
        if self.link.client is not None:
            shutdown = self.link.owned and not self._keep_kernel
            self._leaving = shutdown
            slow = asyncio.get_running_loop().call_later(
                SLOW_SHUTDOWN_NOTE, self.screen.note, "(waiting for the kernel to shut down; Ctrl-C twice stops waiting)"
            )
            try:
                with self.catcher.active(on_break=self.link.hurry_close):
                    await self.link.close(shutdown=shutdown)
            finally:
                slow.cancel()
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            self.printer.flush()


def _busy_hint(can_restart: bool) -> str:
    """What to do about a kernel still busy with a cell the user stopped waiting for."""
    if can_restart:
        return (f"(the kernel is still busy with it and will run the next cell only after it; "
                f"`{RESTART_WORD}` restarts the kernel)")
    return ("(the kernel is still busy with it and will run the next cell only after it; "
            "only the console that started the kernel can restart it)")


def _make_cluster(settings: Settings, link: KernelLink, screen: Screen) -> ClusterControl | None:
    """The ipyparallel cluster ``--cluster N`` asks for (None without it)."""
    if not settings.cluster:
        return None
    from console.parallel import ClusterControl

    return ClusterControl(link, screen.note, settings.cluster, settings.keep_cluster, settings.kernel_timeout + 5)


def _make_link(settings: Settings) -> KernelLink:
    """A link to a local or ssh-tunnelled kernel, or (``--server``) to one in a Jupyter server."""
    if not settings.server:
        return KernelLink()
    from console.server import ServerLink, parse_server

    return ServerLink(address=parse_server(settings.server, settings.token))


def _store_typeahead(prompt_input: Any, text: str) -> None:
    """Keys typed before the prompt existed (read by the start-up terminal query) go to the
    prompt first, as if typed there."""
    from prompt_toolkit.input.typeahead import store_typeahead
    from prompt_toolkit.input.vt100_parser import Vt100Parser
    from prompt_toolkit.key_binding import KeyPress

    keys: list[KeyPress] = []
    parser = Vt100Parser(keys.append)
    parser.feed(text)
    parser.flush()
    store_typeahead(prompt_input, keys)


def run_console(settings: Settings, probe: GraphicsProbe | None = None, early: EarlyKernel | None = None) -> int:
    """Run the console to completion; returns the process exit status.

    ``probe``: the start-up graphics query, sent before this module was imported (see
    ``console.probe``); its answer is read here, keys typed meanwhile go to the first prompt.
    ``early``: the kernel launched before this module was imported (``console.prelaunch``),
    taken over by the link when it starts the kernel.
    """
    try:
        if not sys.stdin.isatty():
            sys.stderr.write("mycon: the console needs a terminal on stdin (to run code from a pipe: mycon exec -)\n")
            return 2
        console = Console(settings)
        console.link.early = early
        warm_up(settings, early is not None)  # overlaps the wait for the terminal's answer
    finally:
        graphics, typed = probe.finish() if probe is not None else (None, "")
    render.set_probed_graphics(graphics)
    console.add_typeahead(typed)
    return asyncio.run(console.run())
