"""The prompt's questions to the kernel while the person types: is the cell complete (Enter),
completions (Tab) and help for the name at the cursor (the toolbar). Each is bounded in time and
asynchronous, so no key ever waits on the network; no answer means the local fallback. While the
kernel is busy (our cell or another client's) they go to this console's kernel subshell, when
the kernel has subshells (``console.subshell``), and are answered at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from console.errors import LinkError
from console.link import KernelLink, Msg
from console.prompt import Completeness, local_completeness
from console.subshell import Subshell

IS_COMPLETE_TIMEOUT = 0.5
COMPLETE_TIMEOUT = 3.0
INSPECT_TIMEOUT = 2.0


def completeness(reply: Msg) -> Completeness | None:
    """(status, indent) of an is_complete_reply; None when the kernel does not know."""
    content = reply.get("content", {})
    status = str(content.get("status", "unknown"))
    return None if status == "unknown" else (status, str(content.get("indent", "")))


class KernelQuestions:
    """Asks the kernel for the prompt; ``busy`` says a cell runs (ours or another client's)."""

    def __init__(self, link: KernelLink, busy: Callable[[], bool], subshell: Subshell | None = None) -> None:
        self.link = link
        self.busy = busy
        self.subshell = subshell

    def _on_side(self) -> bool:
        """Whether questions go to the subshell now (the kernel is busy and has subshells)."""
        return self.subshell is not None and self.busy() and self.subshell.supported

    def _waits(self) -> bool:
        """Whether a question now would wait behind a running cell (so it is not asked)."""
        return self.busy() and not self._on_side()

    async def _ask(self, msg_type: str, content: Msg, timeout: float) -> Msg:
        if self.subshell is not None and self._on_side():
            return await self.subshell.request(msg_type, content, timeout)
        return await self.link.request(msg_type, content, timeout)

    def is_complete(self, code: str) -> Awaitable[Completeness]:
        """The kernel's answer for ``code`` (Enter): the request goes out at once, before the
        prompt redraws and other keys are handled; await the answer (the local guess when it
        does not come in time)."""
        reply: Awaitable[Msg] | None = None
        if self.link.ready and self._on_side():
            reply = self._ask("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        elif self.link.ready:
            try:
                reply = self.link.start_request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
            except LinkError:
                pass
        return self._answer_or_guess(code, reply)

    async def _answer_or_guess(self, code: str, reply: Awaitable[Msg] | None) -> Completeness:
        answer = None
        if reply is not None:
            try:
                answer = completeness(await reply)
            except LinkError:
                pass
        return answer or local_completeness(code)

    async def probe_complete(self, code: str) -> Completeness | None:
        """The kernel's answer for text being typed (None: not ready, busy or no answer)."""
        if not self.link.ready or self._waits():
            return None
        try:
            return completeness(await self._ask("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT))
        except LinkError:
            return None

    async def is_complete_after(self, code: str) -> Completeness | None:
        """The kernel's answer for ``code``, asked on the main shell behind a cell just sent (so
        it is answered right after it); None when it did not come within the usual bound."""
        if not self.link.ready:
            return None
        try:
            return completeness(await self.link.request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT))
        except LinkError:
            return None

    async def complete(self, code: str, cursor: int) -> dict[str, Any] | None:
        if not self.link.ready:
            return None
        try:
            reply = await self._ask(
                "complete_request", {"code": code, "cursor_pos": cursor}, COMPLETE_TIMEOUT
            )
        except LinkError:
            return None
        content = reply.get("content", {})
        return content if content.get("status", "ok") == "ok" else None

    async def inspect(self, code: str, cursor: int) -> dict[str, Any] | None:
        if not self.link.ready or self._waits():
            return None
        try:
            reply = await self._ask(
                "inspect_request",
                {"code": code, "cursor_pos": cursor, "detail_level": 0},
                INSPECT_TIMEOUT,
            )
        except LinkError:
            return None
        content: dict[str, Any] = reply.get("content", {})
        return content if content.get("status") == "ok" else None
