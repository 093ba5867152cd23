"""``get_ipython().extension_manager`` and what ``%load_ext``/``%unload_ext``/``%reload_ext`` do
for a module other than autoreload: call its ``load_ipython_extension(ip)`` with our shell.

An extension that reaches for a part of IPython's shell this kernel does not have fails with one
line that names it, rather than a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ..execution.tracebacks import CellError

BUILT_IN = {"autoreload": "autoreload", "IPython.extensions.autoreload": "autoreload"}


class ExtensionManager:
    """Loads, unloads and reloads IPython extensions (modules with ``load_ipython_extension``)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell  # the ZMQInteractiveShell handed to the extensions
        self.loaded: set[str] = set()

    def load_extension(self, module_str: str) -> str | None:
        """Load ``module_str``: None when done, ``"already loaded"`` or ``"no load function"``."""
        if module_str in BUILT_IN:
            self.shell.run_line_magic("load_ext", BUILT_IN[module_str])
            return None
        if module_str in self.loaded:
            return "already loaded"
        module = self._import(module_str)
        load = getattr(module, "load_ipython_extension", None)
        if not callable(load):
            return "no load function"
        self._call(module_str, load)
        self.loaded.add(module_str)
        return None

    def unload_extension(self, module_str: str) -> str | None:
        """Unload: None when done, ``"not loaded"`` or ``"no unload function"``."""
        if module_str in BUILT_IN:
            self.shell.run_line_magic("unload_ext", BUILT_IN[module_str])
            return None
        if module_str not in self.loaded:
            return "not loaded"
        unload = getattr(sys.modules.get(module_str), "unload_ipython_extension", None)
        if not callable(unload):
            return "no unload function"
        self._call(module_str, unload)
        self.loaded.discard(module_str)
        return None

    def reload_extension(self, module_str: str) -> None:
        """Unload (if it can be), re-import and load again; or just load if it was not loaded."""
        if module_str in BUILT_IN:
            self.shell.run_line_magic("reload_ext", BUILT_IN[module_str])
            return
        if module_str in self.loaded and module_str in sys.modules:
            self.unload_extension(module_str)
            try:
                importlib.reload(sys.modules[module_str])
            except Exception as exc:  # noqa: BLE001 - the module's own code failed
                raise CellError(f"{module_str}: reloading it failed: {type(exc).__name__}: {exc}") from None
            self.loaded.discard(module_str)
        self.load_extension(module_str)

    def _import(self, module_str: str) -> Any:
        try:
            return importlib.import_module(module_str)
        except ModuleNotFoundError as exc:
            raise CellError(f"{module_str}: ModuleNotFoundError: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the module's own import failed
            raise CellError(f"{module_str}: importing it failed: {type(exc).__name__}: {exc}") from None

    def _call(self, module_str: str, function: Any) -> None:
        try:
            function(self.shell)
        except AttributeError as exc:
            if getattr(exc, "obj", None) is self.shell:
                raise CellError(
                    f"The extension {module_str} needs get_ipython().{exc.name}, which this kernel "
                    "does not provide.") from None
            raise
        except ImportError as exc:  # a package it needs is missing: say which
            raise CellError(f"{module_str}: it needs what is not installed: {type(exc).__name__}: {exc}") from None
