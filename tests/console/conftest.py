"""Fixtures for the console's terminal tests: one mycon per kernel per module."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from term import Term, need_kernel  # noqa: E402

KERNELS = ["python3", "mycon"]


@pytest.fixture(scope="module", params=KERNELS)
def kernel_name(request: pytest.FixtureRequest) -> str:
    """Each terminal test module runs against ipykernel and against our kernel."""
    name = str(request.param)
    if name == "mycon":
        need_kernel(name)
    return name


@pytest.fixture(scope="module")
def term(kernel_name: str) -> Iterator[Term]:
    """One mycon console on a fresh kernel, shared by the tests of a module."""
    editor = "sed -i s/zzfoo/6*7/"  # a scripted $EDITOR for the F2 test
    t = Term("--kernel", kernel_name, env={"EDITOR": editor, "VISUAL": editor})
    t.expect("To attach another terminal")  # the banner may come before or after the prompt
    t.prompt()
    try:
        yield t
    finally:
        t.close()
