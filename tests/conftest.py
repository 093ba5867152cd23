"""Suite-wide set-up: every test runs with its own runtime, data and config directories."""

from __future__ import annotations

import os
import tempfile

import pytest

_ISOLATED = tempfile.mkdtemp(prefix="mycon-tests-")


def pytest_configure(config: pytest.Config) -> None:
    """Point Jupyter, IPython and mycon at throwaway directories (inherited by subprocesses)."""
    for name, sub in (
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("MYCON_DATA_DIR", "mycon-data"),
        ("MYCON_CONFIG_DIR", "mycon-config"),
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = os.path.join(_ISOLATED, sub)
        os.makedirs(path, exist_ok=True)
        os.environ[name] = path
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.pop("MPLBACKEND", None)
