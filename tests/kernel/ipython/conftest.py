"""Fixtures for the IPython shell API tests: a mycon kernel and, as the reference, ipykernel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import execute, running_kernel, stdout_of


@pytest.fixture(scope="module")
def ipykernel_client() -> Iterator[BlockingKernelClient]:
    """One ipykernel (the ``python3`` kernelspec) per test module."""
    with running_kernel("python3") as (_, kc):
        # start-up may leave extra kernel_info_replies on the shell channel (jupyter_client asks
        # until the kernel answers): read up to the reply to a request of our own
        msg_id = kc.kernel_info()
        while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != msg_id:
            pass
        yield kc


class Session:
    """Runs cells on one kernel and returns what the user sees."""

    def __init__(self, kc: BlockingKernelClient) -> None:
        self.kc = kc

    def run(self, code: str, timeout: float = 60, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        reply, outputs = execute(self.kc, code, timeout=timeout, **kwargs)
        return reply["content"], [m for m in outputs if m["msg_type"] != "execute_input"]

    def ok(self, code: str, timeout: float = 60) -> list[dict[str, Any]]:
        content, outputs = self.run(code, timeout)
        assert content["status"] == "ok", (content, outputs)
        return outputs

    def printed(self, code: str, timeout: float = 60) -> str:
        return stdout_of(self.ok(code, timeout))

    def result(self, code: str, timeout: float = 60) -> dict[str, Any]:
        """The data of the cell's execute_result."""
        results = [m["content"]["data"] for m in self.ok(code, timeout) if m["msg_type"] == "execute_result"]
        assert len(results) == 1, results
        data: dict[str, Any] = results[0]
        return data

    def error(self, code: str) -> dict[str, Any]:
        content, _ = self.run(code)
        assert content["status"] == "error", content
        return content


@pytest.fixture(scope="module")
def mycon(kernel_client: BlockingKernelClient) -> Session:
    return Session(kernel_client)


@pytest.fixture(scope="module")
def ipykernel(ipykernel_client: BlockingKernelClient) -> Session:
    return Session(ipykernel_client)
