"""Comms: custom two-way channels between kernel code and front ends.

A small registry: user code registers a target (``register_target("name", opened)``), front
ends open comms to it, and either side sends messages or closes. Kernel code may also open a
comm itself (``open_comm("name", data)``). No zmq here: messages leave through ``publish``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

Publish = Callable[..., None]  # (msg_type, content[, buffers])
MessageHandler = Callable[[dict[str, Any]], None]


class Comm:
    """One open comm: send data to the front end, receive its messages, close."""

    def __init__(self, manager: CommManager, comm_id: str, target_name: str) -> None:
        self.manager = manager
        self.comm_id = comm_id
        self.target_name = target_name
        self.closed = False
        self._on_msg: MessageHandler | None = None
        self._on_close: MessageHandler | None = None

    def send(self, data: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None) -> None:
        """Send ``data`` to the front end as a ``comm_msg``."""
        if self.closed:
            raise ValueError(f"comm {self.comm_id} is closed")
        self.manager.publish("comm_msg", {"comm_id": self.comm_id, "data": data or {}})

    def close(self, data: dict[str, Any] | None = None) -> None:
        """Close the comm (tells the front end once)."""
        if self.closed:
            return
        self.closed = True
        self.manager.comms.pop(self.comm_id, None)
        self.manager.publish("comm_close", {"comm_id": self.comm_id, "data": data or {}})

    def on_msg(self, callback: MessageHandler) -> None:
        """Call ``callback(message)`` for each message the front end sends."""
        self._on_msg = callback

    def on_close(self, callback: MessageHandler) -> None:
        """Call ``callback(message)`` when the front end closes the comm."""
        self._on_close = callback


OpenHandler = Callable[[Comm, dict[str, Any]], None]


class CommManager:
    """The registry of comm targets and open comms of one kernel."""

    def __init__(self, publish: Publish) -> None:
        self.publish = publish
        self.targets: dict[str, OpenHandler] = {}
        self.comms: dict[str, Comm] = {}
        self.package: Any = None  # the ``comm`` package's manager, once user code imports it
        self.package_comm_class: Any = None  # its comm class publishing through this kernel

    def register_target(self, target_name: str, opened: OpenHandler) -> None:
        """Accept comms opened by front ends for ``target_name``: ``opened(comm, message)``."""
        self.targets[target_name] = opened

    def unregister_target(self, target_name: str) -> None:
        self.targets.pop(target_name, None)

    def open(self, target_name: str, data: dict[str, Any] | None = None) -> Comm:
        """Open a comm from the kernel side."""
        comm = Comm(self, os.urandom(16).hex(), target_name)
        self.comms[comm.comm_id] = comm
        self.publish("comm_open", {"comm_id": comm.comm_id, "target_name": target_name, "data": data or {}})
        return comm

    def handle_open(self, message: dict[str, Any]) -> bool:
        """A front end opened a comm; False (and a comm_close) when no one listens."""
        content = message["content"]
        comm_id = str(content.get("comm_id", ""))
        target = str(content.get("target_name", ""))
        opened = self.targets.get(target)
        if opened is None and self.package is not None and target in self.package.targets:
            self.package.comm_open(None, None, message)
            return True
        if opened is None or not comm_id:
            self.publish("comm_close", {"comm_id": comm_id, "data": {}})
            return False
        comm = Comm(self, comm_id, target)
        self.comms[comm_id] = comm
        try:
            opened(comm, message)
        except Exception:
            self.comms.pop(comm_id, None)
            comm.closed = True
            self.publish("comm_close", {"comm_id": comm_id, "data": {}})
            raise
        return True

    def handle_msg(self, message: dict[str, Any]) -> bool:
        """Route a front end's comm_msg; False when the comm is unknown."""
        comm_id = str(message["content"].get("comm_id", ""))
        comm = self.comms.get(comm_id)
        if comm is None:
            return self._to_package("comm_msg", comm_id, message)
        if comm._on_msg is not None:
            comm._on_msg(message)
        return True

    def handle_close(self, message: dict[str, Any]) -> bool:
        """A front end closed a comm; False when it was unknown."""
        comm_id = str(message["content"].get("comm_id", ""))
        comm = self.comms.pop(comm_id, None)
        if comm is None:
            return self._to_package("comm_close", comm_id, message)
        comm.closed = True
        if comm._on_close is not None:
            comm._on_close(message)
        return True

    def _to_package(self, handler: str, comm_id: str, message: dict[str, Any]) -> bool:
        """Hand a message for a comm of the ``comm`` package to its manager."""
        if self.package is None or self.package.get_comm(comm_id) is None:
            return False
        getattr(self.package, handler)(None, None, message)
        return True

    def info(self, target_name: str | None = None) -> dict[str, dict[str, str]]:
        """``comms`` of a comm_info_reply, optionally only those of one target."""
        every: list[tuple[str, Any]] = list(self.comms.items())
        if self.package is not None:
            every += list(self.package.comms.items())
        return {
            comm_id: {"target_name": comm.target_name}
            for comm_id, comm in every
            if not target_name or comm.target_name == target_name
        }

    def adopt_comm_package(self, module: Any) -> None:
        """The ``comm`` package was imported (ipywidgets and others open comms through it):
        its ``create_comm`` now makes comms of this kernel and its manager gets the front
        end's messages for them, as in ipykernel."""
        from comm.base_comm import BaseComm
        from comm.base_comm import CommManager as PackageManager

        publish = self.publish

        class KernelComm(BaseComm):  # type: ignore[misc]
            """A ``comm`` package comm whose messages this kernel publishes."""

            def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                            buffers: Any = None, **keys: Any) -> None:
                content = {"data": {} if data is None else data, "comm_id": self.comm_id, **keys}
                if buffers:
                    publish(msg_type, content, [bytes(buffer) for buffer in buffers])
                else:
                    publish(msg_type, content)

        package = self.package = PackageManager()
        self.package_comm_class = KernelComm
        module.create_comm = KernelComm
        module.get_comm_manager = lambda: package

    def adopt_ipykernel_comm(self, module: Any) -> None:
        """``ipykernel.comm`` was imported (matplotlib's nbagg backend makes its ``Comm``
        directly): its ``Comm`` is the comm package's kernel comm, as ``create_comm`` makes."""
        if self.package is None:
            import comm

            self.adopt_comm_package(comm)
        module.Comm = self.package_comm_class


_manager: CommManager | None = None


def set_manager(manager: CommManager) -> None:
    """Make ``manager`` the one user code reaches through the functions below."""
    global _manager
    _manager = manager


def _current() -> CommManager:
    if _manager is None:
        raise RuntimeError("comms need a running mycon kernel")
    return _manager


def register_target(target_name: str, opened: OpenHandler) -> None:
    """Accept comms for ``target_name`` in the running kernel."""
    _current().register_target(target_name, opened)


def open_comm(target_name: str, data: dict[str, Any] | None = None) -> Comm:
    """Open a comm to the front ends from kernel code."""
    return _current().open(target_name, data)
