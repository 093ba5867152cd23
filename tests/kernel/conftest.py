"""Fixtures for tests that drive a real mycon kernel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from kernel_harness import running_kernel


@pytest.fixture(scope="module")
def kernel_client() -> Iterator[BlockingKernelClient]:
    """One mycon kernel per test module, with a connected blocking client."""
    with running_kernel("mycon") as (_, kc):
        yield kc
