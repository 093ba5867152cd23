"""Shared fixtures for interactive parallel computing (ipyparallel): a 2-engine local cluster
started once per test module and stopped reliably, and kernels (ours and ipykernel) to drive it.

Kernel side (tests/parallel/test_*.py) and console side reuse ``px_cluster``: a kernel or a
``mycon`` connects to it by running ``px_cluster.connect_code()`` (a ``Client`` on the cluster's
connection file, its magics activated), so no test waits for engines to start again. Helpers
are in px_support.py (``started_cluster`` for other launchers, ``connected_kernel``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from px_support import PxCluster, PxSession, connected_kernel, started_cluster  # noqa: E402


@pytest.fixture(scope="module")
def px_cluster() -> Iterator[PxCluster]:
    """A 2-engine local cluster, started once per module."""
    with started_cluster() as cluster:
        yield cluster



@pytest.fixture(scope="module")
def mycon_px(px_cluster: PxCluster) -> Iterator[PxSession]:
    """Our kernel, connected to the module's cluster as ``rc`` with ``%px`` activated."""
    with connected_kernel("mycon", px_cluster) as session:
        yield session


@pytest.fixture(scope="module")
def ipykernel_px(px_cluster: PxCluster) -> Iterator[PxSession]:
    """ipykernel (the reference), connected to the same cluster in the same way."""
    with connected_kernel("python3", px_cluster) as session:
        yield session
