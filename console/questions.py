"""The prompt's questions to the kernel while the person types: is the cell complete (Enter),
completions (Tab) and help for the name at the cursor (the toolbar). Each is bounded in time and
asynchronous, so no key ever waits on the network; no answer means the local fallback. While the
kernel is busy (our cell or another client's) they go to this console's kernel subshell, when
the kernel has subshells (``console.subshell``), and are answered at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from console.errors import LinkError
from console.link import KernelLink, Msg
from console.prompt import Completeness, local_completeness
from console.subshell import Subshell

IS_COMPLETE_TIMEOUT = 0.5
COMPLETE_TIMEOUT = 3.0
INSPECT_TIMEOUT = 2.0


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
        if self.link.ready and not (self.subshell is not None and self._on_side()):
            try:
                msg_id = self.link.send("is_complete_request", {"code": code})
            except LinkError:
                return self._is_complete(code)
            return self._is_complete(code, msg_id, self.link.expect(msg_id, "is_complete_reply"))
        return self._is_complete(code)

    async def _is_complete(self, code: str, msg_id: str = "", sent: Awaitable[Msg] | None = None) -> Completeness:
        if sent is None and not self.link.ready:
            return local_completeness(code)
        try:
            if sent is None:
                reply = await self._ask("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
            else:
                reply = await asyncio.wait_for(sent, IS_COMPLETE_TIMEOUT)
        except (LinkError, asyncio.TimeoutError):
            return local_completeness(code)
        finally:
            if msg_id:
                self.link.forget(msg_id)
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        if status == "unknown":
            return local_completeness(code)
        return status, str(content.get("indent", ""))

    async def probe_complete(self, code: str) -> Completeness | None:
        """The kernel's answer for text being typed (None: not ready, busy or no answer)."""
        if not self.link.ready or self._waits():
            return None
        try:
            reply = await self._ask("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        except LinkError:
            return None
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        return None if status == "unknown" else (status, str(content.get("indent", "")))

    async def is_complete_after(self, code: str) -> Completeness | None:
        """The kernel's answer for ``code``, asked on the main shell behind a cell just sent (so
        it is answered right after it); None when it did not come within the usual bound."""
        if not self.link.ready:
            return None
        try:
            reply = await self.link.request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        except LinkError:
            return None
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        return None if status == "unknown" else (status, str(content.get("indent", "")))

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
