"""The prompt's questions to the kernel while the person types: is the cell complete (Enter),
completions (Tab) and help for the name at the cursor (the toolbar). Each is bounded in time and
asynchronous, so no key ever waits on the network; no answer means the local fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.errors import LinkError
from console.link import KernelLink
from console.prompt import Completeness, local_completeness

IS_COMPLETE_TIMEOUT = 0.5
COMPLETE_TIMEOUT = 3.0
INSPECT_TIMEOUT = 2.0


class KernelQuestions:
    """Asks the kernel for the prompt; ``busy`` says a cell of ours is running."""

    def __init__(self, link: KernelLink, busy: Callable[[], bool]) -> None:
        self.link = link
        self.busy = busy

    async def is_complete(self, code: str) -> Completeness:
        if not self.link.ready:
            return local_completeness(code)
        try:
            reply = await self.link.request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        except LinkError:
            return local_completeness(code)
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        if status == "unknown":
            return local_completeness(code)
        return status, str(content.get("indent", ""))

    async def probe_complete(self, code: str) -> Completeness | None:
        """The kernel's answer for text being typed (None: not ready, busy or no answer)."""
        if not self.link.ready or self.busy():
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
            reply = await self.link.request(
                "complete_request", {"code": code, "cursor_pos": cursor}, COMPLETE_TIMEOUT
            )
        except LinkError:
            return None
        content = reply.get("content", {})
        return content if content.get("status", "ok") == "ok" else None

    async def inspect(self, code: str, cursor: int) -> dict[str, Any] | None:
        if not self.link.ready or self.busy():
            return None
        try:
            reply = await self.link.request(
                "inspect_request",
                {"code": code, "cursor_pos": cursor, "detail_level": 0},
                INSPECT_TIMEOUT,
            )
        except LinkError:
            return None
        content: dict[str, Any] = reply.get("content", {})
        return content if content.get("status") == "ok" else None
