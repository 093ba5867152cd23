"""One kernel, many clients: what this console's leaving does to the others, and the commands
that act on the kernel for everyone (``%mycon interrupt``, ``%mycon shutdown``).

Leaving the console that started the kernel, with other clients attached, asks: leave the
kernel running for them (the default), shut it down for everyone, or cancel. Our kernel counts
its clients (its iopub subscribers, in ``kernel_info_reply``) and outlives the console that
started it while others are attached. With another kernel the console asks when it has seen
another client at all, since it cannot know whether they are still there; a local one that
follows its parent out (ipykernel) can only be shut down or kept with the console, and the
question says so. The last console to leave a kernel left running is asked the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum

from console import render
from console.errors import LinkError
from console.link import KernelLink
from console.others import OtherClients
from console.screen import Screen

SHARING_TIMEOUT = 1.0  # seconds to wait for the kernel to say who is attached
SHUTDOWN_TIMEOUT = 5.0  # seconds to wait for the kernel to confirm a shutdown


class Leaving(Enum):
    """What leaving the console does to the kernel."""

    SHUT_DOWN = "shut down"
    KEEP = "leave running"
    CANCEL = "cancel"
    USUAL = "usual"  # nobody else to think of: as without other clients


class KernelSharing:
    """Decides with the user what leaving does to a shared kernel; runs the commands that act
    on the kernel for every client."""

    def __init__(
        self,
        link: KernelLink,
        screen: Screen,
        others: OtherClients,
        ask_restart: Callable[[], Awaitable[None]],
    ) -> None:
        self.link = link
        self.screen = screen
        self.others = others
        self.ask_restart = ask_restart

    async def attached(self) -> tuple[int | None, bool]:
        """(other clients attached now, whether the kernel outlived the console that started
        it): our kernel knows; (None, False) when the kernel does not say or its count of
        subscribers is not one of clients."""
        if not self.link.subscribers_are_clients:
            return None, False
        try:
            reply = await self.link.request("kernel_info_request", {}, SHARING_TIMEOUT, channel="control")
        except LinkError:
            return None, False
        sharing = (reply.get("content") or {}).get("mycon_sharing")
        if not isinstance(sharing, dict) or not isinstance(sharing.get("subscribers"), int):
            return None, False
        return max(0, int(sharing["subscribers"]) - 1), bool(sharing.get("left_running"))

    async def leaving(self) -> Leaving:
        """Ctrl-D: ask when leaving concerns other clients or ends a kernel left running."""
        if not self.link.ready or not self.link.alive:
            return Leaving.USUAL
        others, left_running = await self.attached()
        if self.link.owned:
            if others == 0 or (others is None and not self.others.seen_any):
                return Leaving.USUAL
            if others is None and self.link.manager is not None:
                return await self._ask_follows_us()
            if others is None:
                who = "Other clients may be attached to this kernel (it cannot count them)."
            else:
                who = f"{others} other client{'s are' if others != 1 else ' is'} attached to this kernel."
        elif left_running and others == 0:
            who = "This is the last client of a kernel its console left running."
        else:
            return Leaving.USUAL
        choice = await self._ask(f"{who} Leave it running [Enter], shut it down for everyone (s), or cancel (c)? ")
        if choice is Leaving.SHUT_DOWN and not self.link.owned:
            await self.shut_down()
        return choice

    async def _ask_follows_us(self) -> Leaving:
        """A kernel that cannot tell who is attached and ends with the process that started it
        (ipykernel watches its parent): leaving can only shut it down, so say so first."""
        question = (
            "Other clients may be attached; the kernel stops with this console. "
            "Shut it down for everyone and leave (y/[n])? "
        )
        try:
            answer = await self.screen.ask(question)
        except (EOFError, KeyboardInterrupt):
            return Leaving.CANCEL
        return Leaving.SHUT_DOWN if answer.strip().lower() in ("y", "yes") else Leaving.CANCEL

    async def _ask(self, question: str) -> Leaving:
        try:
            answer = (await self.screen.ask(question)).strip().lower()
        except KeyboardInterrupt:
            return Leaving.CANCEL
        except EOFError:
            return Leaving.KEEP
        if answer in ("", "l", "leave"):
            return Leaving.KEEP
        if answer in ("s", "shut", "shutdown", "shut down"):
            return Leaving.SHUT_DOWN
        if answer not in ("c", "cancel", "n", "no"):
            self.screen.note(f"(not left: {answer!r} is none of Enter, s or c)")
        return Leaving.CANCEL

    async def command(self, verb: str) -> bool:
        """Run ``%mycon restart|interrupt|shutdown``; False when the console should leave."""
        if verb == "restart":
            await self.ask_restart()
        elif verb == "interrupt":
            await self.interrupt()
        elif verb == "shutdown":
            return not await self.ask_shut_down()
        return True

    async def interrupt(self) -> None:
        """Interrupt whatever cell the kernel runs, ours or another client's."""
        try:
            await self.link.interrupt()
        except LinkError as e:
            self.screen.note(f"mycon: could not interrupt the kernel: {e}", render.RED)
            return
        self.screen.note("(interrupt sent to the kernel)")

    async def ask_shut_down(self) -> bool:
        """``%mycon shutdown``: confirm, then shut the kernel down; True when it was."""
        try:
            answer = await self.screen.ask(
                "Shut the kernel down for every client? Everything defined in it is lost (y/[n]) "
            )
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            self.screen.note("(not shut down)")
            return False
        if self.link.owned:
            return True  # leaving shuts an owned kernel down (and cleans up after it)
        return await self.shut_down()

    async def shut_down(self) -> bool:
        """Ask a kernel this console did not start to shut down (control channel, bounded)."""
        try:
            await self.link.request("shutdown_request", {"restart": False}, SHUTDOWN_TIMEOUT, channel="control")
        except LinkError as e:
            self.screen.note(f"mycon: the kernel did not confirm its shutdown: {e}", render.RED)
            return False
        self.screen.note("(the kernel was shut down)")
        return True
