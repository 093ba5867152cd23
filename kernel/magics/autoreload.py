"""``%load_ext autoreload``, ``%autoreload`` and ``%aimport``: reload edited modules before a cell.

IPython's autoreload extension needs IPython's shell, so the kernel has its own, with the same
magics and modes. Three layers:

- updating in place (``update_object``): after a reload, the function and class objects the
  user still holds (``from mod import f``, instances of ``mod.C``) take the new code, so old
  references behave as the edited source;
- ``ModuleWatcher``: which modules' source files changed since they were (re)loaded, by
  ``os.stat`` alone (nothing is imported, modules without a ``.py`` file are ignored);
- ``Autoreloader``: the modes, the run hooks on the shell, reloading and reporting.

The magics at the end drive the ``Autoreloader`` kept in ``shell.extensions["autoreload"]``.
"""

from __future__ import annotations

import os
import re
import sys
import types
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..execution.tracebacks import CellError
from .registry import _builtin
from .runtime import MagicRuntime

if TYPE_CHECKING:
    from ..execution.shell import CellOutcome, Shell

EXTENSION = "autoreload"
_MISSING = object()

# ----- updating old objects in place ------------------------------------------------------------

_FUNCTION_ATTRS = ("__defaults__", "__kwdefaults__", "__doc__", "__annotations__")
# class attributes that belong to the class object itself, not to what the source defines
_CLASS_SKIP = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__mro__"})


def update_function(old: types.FunctionType, new: types.FunctionType, seen: set[int]) -> bool:
    """Give ``old`` the code, defaults, attributes and docstring of ``new``.

    The code is only swapped when both read the same free variables (a closure cannot be
    replaced, and cells matched by position to other names would be wrong); functions held in
    matching closure cells (what a decorator wraps) are updated the same way.
    """
    if id(old) in seen:
        return True
    seen.add(id(old))
    if old.__code__.co_freevars != new.__code__.co_freevars:
        return False
    try:
        old.__code__ = new.__code__
    except (TypeError, ValueError):
        return False
    for old_cell, new_cell in zip(old.__closure__ or (), new.__closure__ or (), strict=False):
        try:
            old_value, new_value = old_cell.cell_contents, new_cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(old_value, types.FunctionType) and isinstance(new_value, types.FunctionType):
            update_function(old_value, new_value, seen)
    for attr in _FUNCTION_ATTRS:
        try:
            setattr(old, attr, getattr(new, attr))
        except Exception:  # noqa: BLE001 - e.g. annotations that name what does not exist (3.14)
            pass
    old_wrapped = old.__dict__.get("__wrapped__")
    new_wrapped = new.__dict__.get("__wrapped__")
    if old_wrapped is not None and new_wrapped is not None and old_wrapped is not new_wrapped:
        update_object(old_wrapped, new_wrapped, seen)
    try:
        old.__dict__ = new.__dict__
    except (AttributeError, TypeError):
        pass
    return True


def _is_enum(cls: type) -> bool:
    enum = sys.modules.get("enum")
    return enum is not None and isinstance(cls, enum.EnumMeta)


def _is_slot(value: Any) -> bool:
    """A ``__slots__`` member or built-in descriptor: it only works on its own class."""
    return isinstance(value, (types.MemberDescriptorType, types.GetSetDescriptorType))


def update_class(old: type, new: type, seen: set[int]) -> bool:
    """Make ``old`` define what ``new`` defines: methods updated in place, the rest copied.

    Names the new source no longer defines are removed. An Enum keeps its members (they are
    instances that cannot be swapped); only its methods are updated.
    """
    if id(old) in seen:
        return True
    seen.add(id(old))
    old_dict, new_dict = old.__dict__, new.__dict__
    if _is_enum(old):
        for key, new_value in new_dict.items():
            old_value = old_dict.get(key, _MISSING)
            if isinstance(old_value, types.FunctionType) and isinstance(new_value, types.FunctionType):
                update_function(old_value, new_value, seen)
        return True
    for key in [k for k in old_dict if k not in new_dict]:
        if key not in _CLASS_SKIP and not _is_slot(old_dict[key]):
            try:
                delattr(old, key)
            except Exception:  # noqa: BLE001 - a metaclass may refuse in any way
                pass
    for key, new_value in list(new_dict.items()):
        if key in _CLASS_SKIP or _is_slot(new_value):
            continue
        old_value = old_dict.get(key, _MISSING)
        if old_value is not _MISSING and update_object(old_value, new_value, seen):
            continue
        try:
            setattr(old, key, new_value)
        except Exception:  # noqa: BLE001 - a metaclass may refuse in any way
            pass
    return True


def update_object(old: Any, new: Any, seen: set[int]) -> bool:
    """Update ``old`` in place to behave as ``new``; False when its kind cannot be."""
    if old is new:
        return True
    if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        return update_function(old, new, seen)
    if isinstance(old, type) and isinstance(new, type):
        return update_class(old, new, seen)
    if isinstance(old, property) and isinstance(new, property):
        return all(
            _update_pair(getattr(old, part), getattr(new, part), seen)
            for part in ("fget", "fset", "fdel")
        )
    if isinstance(old, (staticmethod, classmethod, types.MethodType)) and type(old) is type(new):
        return update_object(old.__func__, new.__func__, seen)
    old_wrapped = getattr(old, "__wrapped__", None)  # functools.lru_cache and the like
    new_wrapped = getattr(new, "__wrapped__", None)
    if isinstance(old_wrapped, types.FunctionType) and isinstance(new_wrapped, types.FunctionType):
        if not update_function(old_wrapped, new_wrapped, seen):
            return False
        clear = getattr(old, "cache_clear", None)
        if callable(clear):
            try:
                clear()  # results of the old code must not be served again
            except Exception:  # noqa: BLE001 - someone else's object
                pass
        return True
    return False


def _update_pair(old: Any, new: Any, seen: set[int]) -> bool:
    if old is None and new is None:
        return True
    if old is None or new is None:
        return False
    return update_object(old, new, seen)


def move_instances(classes: dict[type, type]) -> None:
    """Instances of the old classes become instances of the new ones (``isinstance`` holds
    for the reloaded module's own checks); one scan of the collector's objects for all."""
    import gc

    for obj in gc.get_referrers(*classes):
        new = classes.get(type(obj))
        if new is not None and not isinstance(obj, type):
            try:
                object.__setattr__(obj, "__class__", new)  # past a frozen class's __setattr__
            except Exception:  # noqa: BLE001 - another layout (__slots__), frozen, ...
                pass


# ----- which modules changed ------------------------------------------------------------------


def source_path(module: Any) -> str | None:
    """The ``.py`` file a module was loaded from, or None (built-in, extension, no file).

    Read from the module's namespace directly: a lazily loaded module (``importlib.util.
    LazyLoader``) would otherwise be imported by the attribute access.
    """
    try:
        namespace = object.__getattribute__(module, "__dict__")
    except (AttributeError, TypeError):
        return None
    path = namespace.get("__file__") if isinstance(namespace, dict) else None
    if not isinstance(path, str):
        return None
    if path.endswith(".py"):
        return path
    if path.endswith(".pyc"):
        try:
            from importlib.util import source_from_cache

            source = source_from_cache(path)
        except (ValueError, NotImplementedError):
            return None
        return source if os.path.isfile(source) else None
    return None


def _module_name(module: Any) -> Any:
    """``__name__`` from the namespace, without running any attribute hook."""
    try:
        return object.__getattribute__(module, "__dict__").get("__name__")
    except (AttributeError, TypeError):
        return None


class ModuleWatcher:
    """The modification time of each loaded module's source, to tell which ones changed."""

    def __init__(self) -> None:
        # module name -> (module object, source path or None, mtime in ns when (re)loaded)
        self._known: dict[str, tuple[Any, str | None, int]] = {}

    def _record(self, name: str, module: Any) -> None:
        path = source_path(module) if _module_name(module) == name else None  # not aliases
        mtime = 0
        if path is not None:
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                path = None
        self._known[name] = (module, path, mtime)

    def record_new(self) -> None:
        """Note the modules loaded since the last call (their files as they are now)."""
        known = self._known
        for name, module in list(sys.modules.items()):
            entry = known.get(name)
            if entry is None or entry[0] is not module:
                self._record(name, module)

    def changed(self, wanted: Callable[[str], bool]) -> list[str]:
        """Names of wanted modules whose file changed since last seen, in import order.

        Each is marked as seen at its new time, so a module whose reload fails is not tried
        again before its file changes again.
        """
        known = self._known
        found = []
        for name, module in list(sys.modules.items()):
            entry = known.get(name)
            if entry is None or entry[0] is not module:
                self._record(name, module)
                continue
            path = entry[1]
            if path is None or not wanted(name):
                continue
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                continue
            if mtime != entry[2]:
                known[name] = (module, path, mtime)
                found.append(name)
        return found


# ----- reloading -------------------------------------------------------------------------------

# module attributes the import system sets; kept while the rest of the namespace is rebuilt
_MODULE_KEEP = ("__name__", "__loader__", "__spec__", "__file__", "__path__", "__package__", "__cached__")


def _defined_in(value: Any, module_name: str) -> bool:
    """A function, a class, or a wrapper of a function (``functools.lru_cache``) that the
    module defines (not one it imported)."""
    if isinstance(value, types.ModuleType):
        return False
    try:
        if getattr(value, "__module__", None) != module_name:
            return False
        if isinstance(value, (types.FunctionType, type)):
            return True
        return isinstance(getattr(value, "__wrapped__", None), types.FunctionType)
    except Exception:  # noqa: BLE001 - a strange object's __getattr__
        return False


_OWN_PACKAGE = __name__.partition(".")[0]
_NEVER = frozenset({"__main__", "__mp_main__"})


def _drop_bytecode(path: str) -> None:
    """Remove the source's cached bytecode before a reload.

    A ``.pyc`` is trusted when its recorded source time (whole seconds) and size match: an
    edit within the same second that keeps the size would otherwise reload the old code.
    """
    try:
        from importlib.util import cache_from_source

        os.remove(cache_from_source(path))
    except (OSError, ValueError, NotImplementedError):
        pass


class ReloadFailed(Exception):
    """A module could not be reloaded; the message is one line."""


def _failure_line(path: str | None, exc: BaseException) -> str:
    """``SyntaxError: invalid syntax (mod.py, line 3)`` and the like, on one line."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc}"
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if path is not None and f.filename == path] or frames[-1:]
    if own:
        return f"{text} ({os.path.basename(own[-1].filename)}, line {own[-1].lineno})"
    return text


class Autoreloader:
    """Reloads changed modules before each cell, per mode, and updates old objects in place."""

    MODES = {"0": 0, "off": 0, "1": 1, "explicit": 1, "2": 2, "all": 2, "3": 3, "complete": 3}

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.mode = 0
        self.marked: dict[str, None] = {}  # %aimport mod (ordered, for listing)
        self.excluded: dict[str, None] = {}  # %aimport -mod
        self.print_reloads = False  # %autoreload -p
        self.log_reloads = False  # %autoreload -l
        self.watcher = ModuleWatcher()
        # (module name, attribute) -> weak references to every version of that object, so a
        # function imported two reloads ago is updated too
        self._versions: dict[tuple[str, str], list[weakref.ref[Any]]] = {}
        # module name -> [(name in the module, name in the user's namespace)] from
        # ``from mod import name as alias`` cells, re-imported after a reload in mode 3
        self.from_imports: dict[str, dict[tuple[str, str], None]] = {}

    # ----- hooks ---------------------------------------------------------------------------

    def install(self) -> None:
        """Attach the run hooks (once) and note the modules loaded so far."""
        if self.before_cell not in self.shell.pre_run_hooks:
            self.shell.pre_run_hooks.append(self.before_cell)
        if self.after_cell not in self.shell.post_run_hooks:
            self.shell.post_run_hooks.append(self.after_cell)
        self.watcher.record_new()

    def uninstall(self) -> None:
        """Detach the run hooks."""
        while self.before_cell in self.shell.pre_run_hooks:
            self.shell.pre_run_hooks.remove(self.before_cell)
        while self.after_cell in self.shell.post_run_hooks:
            self.shell.post_run_hooks.remove(self.after_cell)

    def before_cell(self, code: str) -> None:
        """Pre-run hook: reload what changed. Never raises: the cell runs anyway."""
        if self.mode == 0:
            return
        try:
            self.reload_changed(explicit_only=self.mode == 1)
        except BaseException as exc:  # noqa: BLE001 - a cell must not fail for our sake
            self._warn(f"[autoreload failed: {type(exc).__name__}: {exc}]")

    def after_cell(self, code: str, outcome: CellOutcome) -> None:
        """Post-run hook: modules the cell imported are seen as they are now; its
        ``from mod import name`` lines are noted for mode 3 (even if set later)."""
        self.watcher.record_new()
        if "import" in code:
            self.track_from_imports(code)

    # ----- what to reload ------------------------------------------------------------------

    def wanted(self, name: str) -> bool:
        if name in _NEVER or name in self.excluded:
            return False
        # the kernel itself is never reloaded under its own feet
        return name != _OWN_PACKAGE and not name.startswith(_OWN_PACKAGE + ".")

    def reload_changed(self, explicit_only: bool = False) -> list[str]:
        """Reload every changed module wanted (only ``%aimport``-ed ones if ``explicit_only``)."""
        if explicit_only:
            def wanted(name: str) -> bool:
                return name in self.marked and self.wanted(name)
        else:
            wanted = self.wanted
        names = self.watcher.changed(wanted)
        done = []
        for name in names:
            module = sys.modules.get(name)
            if module is None:
                continue
            self._announce(f"Reloading '{name}'.")
            try:
                self.reload(module)
            except ReloadFailed as exc:
                self._warn(f"[autoreload of {name} failed: {exc}]")
                continue
            done.append(name)
            if self.mode == 3:
                self.reimport_names(name, module)
        return done

    # ----- reloading one module ------------------------------------------------------------

    def _remember(self, module: Any) -> None:
        """Keep weak references to the functions and classes the module defines now."""
        name = module.__name__
        for attr, value in list(vars(module).items()):
            if not _defined_in(value, name):
                continue
            refs = [r for r in self._versions.get((name, attr), []) if r() is not None]
            if not any(r() is value for r in refs):
                try:
                    refs.append(weakref.ref(value))
                except TypeError:
                    continue
            self._versions[(name, attr)] = refs

    def reload(self, module: Any) -> None:
        """Reload ``module`` and update its earlier objects in place; ``ReloadFailed`` if the
        new source cannot run (the module is then left as it was)."""
        import importlib

        name = module.__name__
        path = source_path(module)
        if path is not None:
            import linecache

            linecache.checkcache(path)  # tracebacks and inspect show the new source
            _drop_bytecode(path)
        self._remember(module)
        namespace = module.__dict__
        old = dict(namespace)
        # start from an empty namespace, so names removed from the source go away
        namespace.clear()
        namespace.update({key: old[key] for key in _MODULE_KEEP if key in old})
        try:
            importlib.reload(module)
        except BaseException as exc:  # noqa: BLE001 - whatever the module's code raises
            namespace.clear()
            namespace.update(old)
            raise ReloadFailed(_failure_line(path, exc)) from None
        for key, value in old.items():  # submodules stay attributes of their package
            if (key not in namespace and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{name}.{key}" and sys.modules.get(value.__name__) is value):
                namespace[key] = value
        self._update_versions(module)
        self._remember(module)

    def _update_versions(self, module: Any) -> None:
        """Update every earlier version of each object in place (one failure spoils no other)."""
        name = module.__name__
        seen: set[int] = set()
        moved: dict[type, type] = {}
        for attr, new in list(vars(module).items()):
            for ref in self._versions.get((name, attr), []):
                old = ref()
                if old is None or old is new:
                    continue
                try:
                    update_object(old, new, seen)
                except Exception as exc:  # noqa: BLE001 - someone else's objects
                    self._warn(f"[autoreload of {name}: {attr} not updated: {type(exc).__name__}: {exc}]")
                    continue
                if isinstance(old, type) and isinstance(new, type) and not _is_enum(old):
                    moved[old] = new
        if moved:
            try:
                move_instances(moved)
            except Exception as exc:  # noqa: BLE001
                self._warn(f"[autoreload of {name}: instances not moved: {type(exc).__name__}: {exc}]")

    # ----- mode 3: names imported with ``from mod import name`` ----------------------------

    _FROM_IMPORT = re.compile(
        r"^[ \t]*from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n#;\\]|\\\n)+)",
        re.MULTILINE,
    )

    def track_from_imports(self, code: str) -> None:
        """Note the ``from mod import a, b as c`` lines of a cell (by their text)."""
        for match in self._FROM_IMPORT.finditer(code):
            names = self.from_imports.setdefault(match.group(1), {})
            names_text = re.sub(r"#[^\n]*|\\\n", " ", match.group(2)).strip().strip("()")
            for part in names_text.split(","):
                words = part.split()
                if len(words) == 1:
                    names[(words[0], words[0])] = None
                elif len(words) == 3 and words[1] == "as":
                    names[(words[0], words[2])] = None

    def reimport_names(self, name: str, module: Any) -> None:
        """Bind again the names the user imported from ``module`` (new ones with ``*``)."""
        ns = self.shell.user_ns
        for attr, alias in self.from_imports.get(name, {}):
            if attr == "*":
                public = getattr(module, "__all__", None)
                if public is None:
                    public = [key for key in vars(module) if not key.startswith("_")]
                for key in public:
                    if isinstance(key, str) and hasattr(module, key):
                        ns[key] = getattr(module, key)
            elif hasattr(module, attr):
                ns[alias] = getattr(module, attr)

    # ----- marking -------------------------------------------------------------------------

    def mark(self, name: str) -> None:
        self.excluded.pop(name, None)
        self.marked[name] = None

    def exclude(self, name: str) -> None:
        self.marked.pop(name, None)
        self.excluded[name] = None

    # ----- reporting -----------------------------------------------------------------------

    def _announce(self, text: str) -> None:
        if self.print_reloads:
            print(text)
        if self.log_reloads:
            from ..log import log

            log(f"autoreload: {text}")

    @staticmethod
    def _warn(text: str) -> None:
        try:
            sys.stderr.write(text + "\n")
        except Exception:  # noqa: BLE001 - a closed stream must not fail the cell
            pass


# ----- the magics -------------------------------------------------------------------------------

_IPYTHON_NAMES = {EXTENSION, "IPython.extensions.autoreload"}


def _reloader(rt: MagicRuntime, create: bool = True) -> Autoreloader | None:
    """The shell's autoreloader, made and installed on first need when ``create``."""
    found: Autoreloader | None = rt.shell.extensions.get(EXTENSION)
    if found is None and create:
        found = Autoreloader(rt.shell)
        rt.shell.extensions[EXTENSION] = found
        found.install()
    return found


def _extension_name(args: str, magic: str) -> str:
    words = args.split()
    if len(words) != 1:
        raise CellError(f"%{magic} needs one module name, e.g. %{magic} autoreload")
    return words[0]


def _other_extension(rt: MagicRuntime, name: str, magic: str) -> None:
    """``%load_ext``/``%unload_ext``/``%reload_ext`` of any extension but autoreload: through
    the IPython shell object's extension manager (``load_ipython_extension(ip)``)."""
    from ..ipython.shell import shell_for

    manager = shell_for(rt.shell).extension_manager
    try:
        if magic == "reload_ext":
            manager.reload_extension(name)
            return
        if magic == "load_ext":
            status = manager.load_extension(name)
        else:
            status = manager.unload_extension(name)
    except CellError as exc:
        raise CellError(f"%{magic} {exc}") from None
    if status == "already loaded":
        print(f"The {name} extension is already loaded. To reload it, use:\n  %reload_ext {name}")
    elif status == "not loaded":
        print(f"The {name} extension is not loaded.")
    elif status == "no load function":
        raise CellError(f"%{magic} {name}: the module {name} is not an IPython extension (it has no load_ipython_extension)")
    elif status == "no unload function":
        raise CellError(f"%{magic} {name}: the extension {name} cannot be unloaded (it has no unload_ipython_extension)")


@_builtin("load_ext")
def _load_ext(rt: MagicRuntime, args: str) -> None:
    """Load an extension: ``%load_ext autoreload`` (built in) or any module with
    ``load_ipython_extension(ip)``, which gets the shell ``get_ipython()`` returns."""
    name = _extension_name(args, "load_ext")
    if name not in _IPYTHON_NAMES:
        _other_extension(rt, name, "load_ext")
        return
    _reloader(rt)


@_builtin("unload_ext")
def _unload_ext(rt: MagicRuntime, args: str) -> None:
    """Unload an extension: ``%unload_ext autoreload`` stops reloading modules; another calls
    its ``unload_ipython_extension(ip)``."""
    name = _extension_name(args, "unload_ext")
    if name not in _IPYTHON_NAMES:
        _other_extension(rt, name, "unload_ext")
        return
    found = _reloader(rt, create=False)
    if found is None:
        print(f"The {name} extension is not loaded.")
        return
    found.uninstall()
    del rt.shell.extensions[EXTENSION]


@_builtin("reload_ext")
def _reload_ext(rt: MagicRuntime, args: str) -> None:
    """Reload an extension: ``%reload_ext autoreload`` loads it if needed, keeping its mode
    and marks (as in IPython, where the earlier hook stays on)."""
    name = _extension_name(args, "reload_ext")
    if name not in _IPYTHON_NAMES:
        _other_extension(rt, name, "reload_ext")
        return
    _reloader(rt)


_AUTORELOAD_USAGE = (
    "use %autoreload [now|0|off|1|explicit|2|all|3|complete] [-p|--print] [-l|--log]"
)


@_builtin("autoreload")
def _autoreload(rt: MagicRuntime, args: str) -> None:
    """Reload edited modules before each cell: ``%autoreload 2`` (all), ``1`` (only %aimport-ed).

    ``0``/``off`` stops; ``1``/``explicit`` reloads the modules marked with %aimport;
    ``2``/``all`` every module but those excluded with ``%aimport -mod``; ``3``/``complete``
    as 2, and also binds again the names you imported with ``from mod import ...``.
    Without a mode (or ``now``): reload the changed modules now. ``-p`` prints each reload,
    ``-l`` writes it to the kernel's log.
    """
    mode: int | None = None
    print_reloads = log_reloads = False
    for word in args.split():
        if word in ("-p", "--print"):
            print_reloads = True
        elif word in ("-l", "--log"):
            log_reloads = True
        elif word in Autoreloader.MODES and mode is None:
            mode = Autoreloader.MODES[word]
        elif word == "now" and mode is None:
            mode = -1
        else:
            raise CellError(f"%autoreload: unknown argument {word!r}; {_AUTORELOAD_USAGE}")
    reloader = _reloader(rt)
    assert reloader is not None
    reloader.print_reloads, reloader.log_reloads = print_reloads, log_reloads
    if mode is None or mode == -1:
        reloader.reload_changed()
    else:
        reloader.mode = mode


@_builtin("aimport")
def _aimport(rt: MagicRuntime, args: str) -> None:
    """Mark modules for ``%autoreload 1``: ``%aimport mod[, mod2]`` imports and marks them,
    ``%aimport -mod`` excludes one from reloading, ``%aimport`` alone lists both."""
    reloader = _reloader(rt)
    assert reloader is not None
    text = args.strip()
    if not text:
        if reloader.mode >= 2:
            print("Modules to reload:\nall-except-skipped")
        else:
            print("Modules to reload:\n" + " ".join(reloader.marked))
        print("\nModules to skip:\n" + " ".join(reloader.excluded))
        return
    if text.startswith("-"):
        for name in _module_names(text[1:]):
            reloader.exclude(name)
        return
    import importlib

    for name in _module_names(text):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise CellError(f"%aimport {name}: ModuleNotFoundError: {exc}") from None
        except BaseException as exc:  # noqa: BLE001 - the module's own import failed
            raise CellError(f"%aimport {name}: importing it failed: {type(exc).__name__}: {exc}") from None
        reloader.mark(name)
        top = name.partition(".")[0]
        rt.shell.user_ns[top] = sys.modules[top]
    reloader.watcher.record_new()


def _module_names(text: str) -> Iterable[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if not all(piece.isidentifier() for piece in name.split(".")):
            raise CellError(f"%aimport: not a module name: {name!r}")
    return names
