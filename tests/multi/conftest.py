"""Fixtures for the multi-client tests (helpers live in multi_support.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from multi_support import Headless, headless_kernel, pid_gone, run_mycon  # noqa: E402


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runtime directory of this test's own (inherited by every subprocess)."""
    directory = tmp_path / "runtime"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(directory))
    return directory


@pytest.fixture
def mycon() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``mycon`` with arguments, to its end (bounded)."""
    return run_mycon


@pytest.fixture
def headless(runtime: Path) -> Iterator[Callable[..., Headless]]:
    """Start ``mycon kernel`` processes in this test's runtime directory; all stopped after."""
    with ExitStack() as stack:
        yield lambda kernel_name="mycon", *options: stack.enter_context(headless_kernel(kernel_name, *options))


@pytest.fixture
def gone() -> Callable[[int], bool]:
    """Whether a process id no longer runs anything."""
    return pid_gone
