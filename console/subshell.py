"""Kernel subshells (protocol 5.5): this console's own subshell in the kernel.

A kernel that lists ``"kernel subshells"`` in kernel_info's ``supported_features`` runs each
subshell in a thread of its own: a shell request whose header carries ``subshell_id`` is
answered there even while the main shell (or another subshell) runs a cell. The console makes
one subshell, the first time it needs one (``create_subshell_request`` on control), and deletes
it when it leaves (``delete_subshell_request``). Every wait is bounded; what went wrong is said
in words (``SubshellUnavailable``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from console.errors import LinkError
from console.link import KernelLink, Msg

SUBSHELL_FEATURE = "kernel subshells"  # in kernel_info's supported_features
CREATE_TIMEOUT = 3.0  # seconds a create_subshell_request may go unanswered
DELETE_TIMEOUT = 1.0  # seconds given to delete_subshell_request when the console leaves
RETRY_AFTER = 30.0  # seconds after a failed create_subshell_request before another is tried
NO_INTERRUPT_NOTE = (
    "(this cell runs in a kernel subshell, which an interrupt does not reach (it would stop the "
    "main shell's cell, maybe another client's); Ctrl-C again stops waiting for it)"
)


class SubshellUnavailable(LinkError):
    """No subshell can be had: the kernel lacks them, or did not make one in time."""


def supports_subshells(kernel_info: Msg) -> bool:
    """Whether a kernel_info reply's content says the kernel runs subshells."""
    features = kernel_info.get("supported_features")
    return isinstance(features, list) and SUBSHELL_FEATURE in features


def _unknown_subshell(reply: Msg) -> bool:
    """An error reply saying the request's subshell does not exist (a restarted kernel)."""
    content = reply.get("content") or {}
    return content.get("status") == "error" and "subshell" in str(content.get("ename", "")).lower()


class Subshell:
    """This console's subshell in the kernel: made on first use, deleted on leaving."""

    def __init__(self, link: KernelLink) -> None:
        self.link = link
        self.subshell_id = ""
        self._lock = asyncio.Lock()  # one create_subshell_request at a time
        self._refused = False  # take_cells found no subshell (said once)
        self._failed: tuple[float, str] | None = None  # when and why the last creation failed
        self.running: set[str] = set()  # our requests it is busy with (busy seen, idle not yet)

    def see(self, msg: Msg) -> None:
        """An iopub message: a status of one of our requests to this subshell (its parent
        header names the subshell) tells whether the subshell is busy with it."""
        if msg["header"]["msg_type"] != "status" or not self.subshell_id:
            return
        parent = msg.get("parent_header") or {}
        if parent.get("subshell_id") != self.subshell_id or parent.get("session") != self.link.client.session.session:
            return
        state = (msg.get("content") or {}).get("execution_state")
        msg_id = str(parent.get("msg_id") or "")
        if state == "busy":
            self.running.add(msg_id)
        elif state == "idle":
            self.running.discard(msg_id)

    @property
    def supported(self) -> bool:
        """Whether the kernel (as its kernel_info said) has subshells."""
        return supports_subshells(self.link.kernel_info)

    def unsupported_reason(self) -> str:
        """Why this kernel gives no subshell, in words."""
        name = str(self.link.kernel_info.get("implementation") or self.link.kernel_name() or "this kernel")
        return f"{name} has no kernel subshells (its kernel_info lists no {SUBSHELL_FEATURE!r})"

    async def ensure(self) -> str:
        """The subshell's id, made now when there is none yet (SubshellUnavailable otherwise)."""
        async with self._lock:
            if self.subshell_id:
                return self.subshell_id
            if not self.supported:
                raise SubshellUnavailable(self.unsupported_reason())
            now = asyncio.get_running_loop().time()
            if self._failed is not None and now - self._failed[0] < RETRY_AFTER:
                raise SubshellUnavailable(self._failed[1])  # not asked again so soon: no new wait
            try:
                self.subshell_id = await self._create()
            except SubshellUnavailable as e:
                self._failed = (now, str(e))
                raise
            self._failed = None
            return self.subshell_id

    async def _create(self) -> str:
        try:
            reply = await self.link.request("create_subshell_request", {}, CREATE_TIMEOUT, channel="control")
        except LinkError as e:
            raise SubshellUnavailable(f"could not make a kernel subshell: {e}") from None
        content = reply.get("content") or {}
        subshell_id = content.get("subshell_id")
        if content.get("status", "ok") != "ok" or not isinstance(subshell_id, str) or not subshell_id:
            why = content.get("evalue") or content.get("ename") or "no subshell_id in its reply"
            raise SubshellUnavailable(f"the kernel did not make a subshell: {why}")
        return subshell_id

    async def take_cells(self, say: Callable[[str], None]) -> None:
        """``--subshell``: every shell request of the link (its cells) goes to this subshell from
        now on. A kernel without subshells keeps them on the main shell, said once by ``say``."""
        if self.link.subshell_id or self._refused:
            return
        try:
            self.link.subshell_id = await self.ensure()
        except SubshellUnavailable as e:
            self._refused = True
            say(f"(--subshell: {e}; cells run in the main shell, after other clients' cells)")

    def forget(self) -> None:
        """The kernel restarted: its subshells are gone with the old process."""
        self.running.clear()
        self._failed = None
        if self.subshell_id and self.link.subshell_id == self.subshell_id:
            self.link.subshell_id = ""
        self.subshell_id = ""

    async def request(self, msg_type: str, content: Msg, timeout: float) -> Msg:
        """A shell request answered by the subshell (made on first use), within ``timeout``.

        A kernel restarted behind our back no longer knows the subshell: it is made again once.
        """
        reply = await self.link.request(msg_type, content, timeout, subshell=await self.ensure())
        if _unknown_subshell(reply):
            self.forget()
            reply = await self.link.request(msg_type, content, timeout, subshell=await self.ensure())
        return reply

    async def close(self) -> str:
        """Delete the subshell (bounded; a kernel gone or slow is not waited for). One still
        running a cell of ours is left: a kernel deleting it (ipykernel) holds its control
        channel, everyone's interrupts included, until that cell ends. Returns a note then."""
        subshell_id, self.subshell_id = self.subshell_id, ""
        if subshell_id and self.link.subshell_id == subshell_id:
            self.link.subshell_id = ""
        if not subshell_id or not self.link.ready or not self.link.alive:
            return ""
        if self.running:
            return "(the kernel subshell still runs a cell of this console: it is left to finish it)"
        with contextlib.suppress(LinkError):
            await self.link.request(
                "delete_subshell_request", {"subshell_id": subshell_id}, DELETE_TIMEOUT, channel="control"
            )
        return ""


def watch_subshells(link: KernelLink, subshells: list[Subshell]) -> None:
    """Let each subshell see iopub (before the link's handler) to know when it is busy."""
    shown = link.on_iopub

    def on_iopub(msg: Msg) -> None:
        for subshell in subshells:
            subshell.see(msg)
        shown(msg)

    link.on_iopub = on_iopub
