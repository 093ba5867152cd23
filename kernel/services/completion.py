"""Tab completion from the live namespace (``complete_request``).

Reads the code before the cursor, decides what is being typed (a name, an attribute, a dict
key, a module, a path, a keyword argument, a magic) and lists what fits. Objects are looked up
without running user code: names, attribute access (static lookup, no properties) and
subscripts with literal keys on dicts, lists and tuples. Nothing is ever called, except
``dir()`` on the object being completed and ``keys()`` on mappings of well-known libraries.

Also home of ``evaluate``, the same safe lookup, which the inspection service uses.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import os
import re
import sys
import threading
import types
import warnings
from collections.abc import Iterable
from typing import Any

from ..threads import start_helper
from .iscomplete import Scan, scan

MAX_SIGNATURES = 20  # compute signatures for the menu only when this few functions match
MAX_PATHS = 1000
KEYWORDS = sorted(set(keyword.kwlist) | (set(getattr(keyword, "softkwlist", [])) - {"_"}))
TRUSTED_MAPPING_MODULES = ("pandas.", "xarray.", "h5py.", "polars.", "numpy.", "os", "collections")
PATH_MAGICS = frozenset({"cd", "run", "load", "edit", "ls", "cat", "less", "more", "pycat",
                         "writefile", "bookmark", "rm", "mkdir", "cp", "mv"})
AUTOMAGIC_PATH_RE = re.compile(r"(\w+)[ \t]+(?![=(\[,:])")
IMPORT_RE = re.compile(r"\s*import\s+(?:[\w.]+(?:\s+as\s+\w+)?\s*,\s*)*([\w.]*)$")
FROM_RE = re.compile(r"\s*from\s+([\w.]*)$")
FROM_IMPORT_KEYWORD_RE = re.compile(r"\s*from\s+[\w.]+\s+(\w*)$")
FROM_IMPORT_RE = re.compile(
    r"\s*from\s+([\w.]+)\s+import\s+\(?\s*(?:\w+(?:\s+as\s+\w+)?\s*,\s*)*(\w*)$"
)


class Unresolved(Exception):
    """An expression cannot be looked up safely (unknown name, property, call...)."""


class Instance:
    """Stands for "some instance of ``cls``" (e.g. the result of ``Foo()``, never run)."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Instance) and other.cls is self.cls

    def __hash__(self) -> int:
        return hash((Instance, self.cls))

    def __repr__(self) -> str:
        return f"Instance({self.cls.__qualname__})"


class Match:
    """One completion candidate: its text, its kind and the object (for a signature)."""

    __slots__ = ("text", "type", "value")

    def __init__(self, text: str, type: str, value: Any = None) -> None:
        self.text = text
        self.type = type
        self.value = value

    def __repr__(self) -> str:
        return f"Match({self.text!r}, {self.type!r})"


# ----- safe lookup ----------------------------------------------------------------------------


def _is_data_descriptor(value: Any) -> bool:
    kind = type(value)
    return hasattr(kind, "__set__") or hasattr(kind, "__delete__")


SAFE_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)
BUILTIN_METHODS = (types.MethodDescriptorType, types.WrapperDescriptorType)


def _class_lookup(cls: type, name: str) -> tuple[bool, Any]:
    """Find ``name`` in the class dictionaries along ``cls.__mro__`` (no descriptors run)."""
    try:
        mro = type.__dict__["__mro__"].__get__(cls)
    except (TypeError, AttributeError):
        return False, None
    for klass in mro:
        namespace = type.__dict__["__dict__"].__get__(klass)
        if name in namespace:
            return True, namespace[name]
    return False, None


def _unwrap(value: Any, owner: Any = None) -> Any:
    """A class attribute as seen through ``owner``: methods bound (nothing runs), others bare."""
    if isinstance(value, staticmethod):
        return value.__func__
    if isinstance(value, classmethod):
        cls = owner if isinstance(owner, type) else getattr(owner, "cls", type(owner))
        return types.MethodType(value.__func__, cls) if owner is not None else value.__func__
    if owner is None or isinstance(owner, type):
        return value
    if isinstance(value, types.FunctionType):
        return types.MethodType(value, owner)
    if isinstance(value, BUILTIN_METHODS) and not isinstance(owner, Instance):
        try:
            return value.__get__(owner, type(owner))  # C methods of built-in types: no user code
        except Exception:
            return value
    return value


def static_attribute(obj: Any, name: str) -> Any:
    """``getattr(obj, name)`` without running properties, ``__getattr__`` or other user code."""
    if isinstance(obj, Instance):
        found, value = _class_lookup(obj.cls, name)
        if not found or isinstance(value, property) or (
            _is_data_descriptor(value) and not isinstance(value, SAFE_DESCRIPTORS)
        ):
            raise Unresolved(name)
        if isinstance(value, SAFE_DESCRIPTORS):
            raise Unresolved(name)  # a slot of an instance that does not exist yet
        return _unwrap(value, obj)
    if isinstance(obj, types.ModuleType):
        module_dict = vars(obj)
        if name in module_dict:
            return module_dict[name]
        raise Unresolved(name)
    if isinstance(obj, type):
        found, value = _class_lookup(obj, name)
        if not found:
            found, value = _class_lookup(type(obj), name)
            if found and _is_data_descriptor(value) and isinstance(value, SAFE_DESCRIPTORS):
                return getattr(obj, name)
        if not found or isinstance(value, property):
            raise Unresolved(name)
        return _unwrap(value, obj)
    found, class_value = _class_lookup(type(obj), name)
    if found and _is_data_descriptor(class_value):
        if isinstance(class_value, SAFE_DESCRIPTORS):
            try:
                return class_value.__get__(obj, type(obj))
            except Exception as exc:
                raise Unresolved(name) from exc
        raise Unresolved(name)  # a property or another descriptor that would run code
    try:
        instance_dict = object.__getattribute__(obj, "__dict__")
    except Exception:
        instance_dict = None
    if isinstance(instance_dict, dict) and name in instance_dict:
        return instance_dict[name]
    if found:
        return _unwrap(class_value, obj)
    raise Unresolved(name)


def _lookup_name(name: str, namespace: dict[str, Any]) -> Any:
    if name in namespace:
        return namespace[name]
    builtin_namespace = vars(builtins)
    if name in builtin_namespace:
        return builtin_namespace[name]
    raise Unresolved(name)


def _subscript(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        if not dict.__contains__(container, key):
            raise Unresolved(repr(key))
        return dict.__getitem__(container, key)
    kinds: tuple[Any, ...] = (list, tuple, str)
    for kind in kinds:
        if isinstance(container, kind):
            try:
                return kind.__getitem__(container, key)
            except (IndexError, TypeError) as exc:
                raise Unresolved(repr(key)) from exc
    raise Unresolved("subscript of " + type(container).__name__)


LITERAL_TYPES: dict[type[ast.AST], type] = {
    ast.List: list, ast.ListComp: list, ast.Tuple: tuple, ast.Dict: dict, ast.DictComp: dict,
    ast.Set: set, ast.SetComp: set, ast.JoinedStr: str,
}


def _evaluate_node(node: ast.AST, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return _lookup_name(node.id, namespace)
    if isinstance(node, ast.Attribute):
        return static_attribute(_evaluate_node(node.value, namespace), node.attr)
    if isinstance(node, ast.Subscript):
        container = _evaluate_node(node.value, namespace)
        try:
            key = ast.literal_eval(node.slice)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise Unresolved("subscript key") from exc
        return _subscript(container, key)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call):
        function = _evaluate_node(node.func, namespace)
        if isinstance(function, type):
            return Instance(function)  # calling a class gives one of its instances
        if isinstance(function, types.MethodType):
            function = function.__func__
        annotation = None
        if isinstance(function, types.FunctionType):
            annotation = function.__annotations__.get("return")
        if isinstance(annotation, type):
            return Instance(annotation)
        raise Unresolved("call")
    kind = LITERAL_TYPES.get(type(node))
    if kind is not None:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return Instance(kind)
    raise Unresolved(type(node).__name__)


def evaluate(expression: str, namespace: dict[str, Any]) -> Any:
    """Look up a simple expression (``a.b[0].c``) in the namespace, never running user code.

    Raises ``Unresolved`` when that cannot be done safely; may return an ``Instance``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ``"\%".up``: no invalid-escape warning on a Tab
            tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise Unresolved(expression) from exc
    try:
        return _evaluate_node(tree.body, namespace)
    except RecursionError as exc:
        raise Unresolved(expression) from exc


# ----- kinds and names ------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """The completion type shown in menus: module, class, function, instance..."""
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, type):
        return "class"
    if isinstance(value, Instance):
        return "instance"
    if isinstance(value, property) or (
        _is_data_descriptor(value) and not isinstance(value, SAFE_DESCRIPTORS)
    ):
        return "property"
    if isinstance(value, (staticmethod, classmethod)) or callable(value):
        return "function"
    return "instance"


def _attribute_names(obj: Any) -> list[str]:
    """``dir()`` of the object (of the class, for an ``Instance``: its ``__init__`` never ran)."""
    target = obj.cls if isinstance(obj, Instance) else obj
    try:
        names = dir(target)
    except Exception:
        names = []
    return [name for name in names if isinstance(name, str)]


def _attribute_kind(obj: Any, name: str) -> tuple[str, Any]:
    try:
        value = static_attribute(obj, name)
    except Unresolved:
        target = obj.cls if isinstance(obj, Instance) else obj
        found, raw = _class_lookup(target if isinstance(target, type) else type(target), name)
        if found and kind_of(raw) == "property":
            return "property", None
        return "instance", None
    except Exception:
        return "instance", None
    return kind_of(value), value


def _visible(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and (prefix.startswith("_") or not name.startswith("_"))


# ----- modules --------------------------------------------------------------------------------


class ModuleNames:
    """Importable top-level module names, listed once per ``sys.path`` (in a thread)."""

    def __init__(self) -> None:
        self._names: list[str] | None = None
        self._path_key: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def warm(self, delay: float = 0.5) -> None:
        """List in the background after ``delay`` s (the current reply goes out first)."""
        if self._thread is None and self._names is None:
            self._thread = start_helper(self._list_later, delay, name="module-names")

    def _list_later(self, delay: float) -> None:
        threading.Event().wait(delay)
        self.top_level()

    def top_level(self) -> list[str]:
        with self._lock:
            key = tuple(sys.path)
            if self._names is None or key != self._path_key:
                import pkgutil

                names = set(sys.builtin_module_names)
                try:
                    names.update(info.name for info in pkgutil.iter_modules())
                except Exception:
                    pass
                self._names = sorted(name for name in names if name.isidentifier())
                self._path_key = key
            return self._names


MODULES = ModuleNames()


def _submodules(package: str) -> list[str]:
    """Names of the modules inside a package (imports the package itself, as import would)."""
    import importlib.util
    import pkgutil

    try:
        spec = importlib.util.find_spec(package)
    except BaseException:  # noqa: BLE001 - importing a parent package may fail in any way
        return []
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        return []
    try:
        return sorted(info.name for info in pkgutil.iter_modules(list(locations)))
    except Exception:
        return []


def _module_matches(dotted: str) -> list[Match]:
    if dotted.startswith("."):
        return []  # relative imports: the kernel's namespace has no package
    package, _, prefix = dotted.rpartition(".")
    names = _submodules(package) if package else MODULES.top_level()
    if package:  # modules already imported under the package (``os.path``) count too
        lead_text = package + "."
        loaded = [name[len(lead_text):] for name in list(sys.modules) if name.startswith(lead_text)]
        names = sorted(set(names) | {name for name in loaded if "." not in name})
    lead = package + "." if package else ""
    return [Match(lead + name, "module") for name in names if _visible(name, prefix)]


def _import_module(name: str) -> Any:
    module = sys.modules.get(name)
    if module is not None:
        return module
    import importlib

    try:
        return importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - the user's module may raise anything on import
        return None


# ----- contexts -------------------------------------------------------------------------------


def _is_name_char(char: str) -> bool:
    return char == "_" or char.isalnum()


def _name_before(text: str, end: int) -> int:
    """Start of the identifier that ends at ``end``."""
    start = end
    while start > 0 and _is_name_char(text[start - 1]):
        start -= 1
    return start


def _match_backward(text: str, close_at: int) -> int | None:
    """Offset of the bracket that opens the one at ``close_at``, skipping strings naively."""
    pairs = {")": "(", "]": "[", "}": "{"}
    depth = 0
    i = close_at
    while i >= 0:
        char = text[i]
        if char in "'\"":
            start = text.rfind(char, 0, i)
            if start < 0:
                return None
            i = start - 1
            continue
        if char in pairs:
            depth += 1
        elif char in "([{":
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return None


def expression_before(text: str, end: int) -> str:
    """The chain of names, dots, brackets and literals that ends at ``end`` (``a.b[0].c``)."""
    i = end
    while i > 0:
        char = text[i - 1]
        if _is_name_char(char) or char == ".":
            i -= 1
        elif char in ")]}":
            opened = _match_backward(text, i - 1)
            if opened is None:
                break
            i = opened
        elif char in "'\"":
            quote = char * 3 if text[:i].endswith(char * 3) else char
            start = text.rfind(quote, 0, i - len(quote))
            if start < 0:
                break
            i = start
            while i > 0 and text[i - 1] in "rRbBfFuU":
                i -= 1
        else:
            break
    return text[i:end].lstrip(".")


def _keys_of(obj: Any) -> list[Any]:
    """The keys of a mapping (dicts, and ``keys()`` of well-known libraries' tables)."""
    if isinstance(obj, dict):
        return list(dict.keys(obj))
    if isinstance(obj, types.MappingProxyType):
        return list(obj.keys())
    module = getattr(type(obj), "__module__", "") or ""
    if module.startswith(TRUSTED_MAPPING_MODULES) and callable(getattr(type(obj), "keys", None)):
        try:
            return list(obj.keys())[:10000]
        except Exception:
            return []
    return []


def _quote_key(key: str, quote: str, raw: bool) -> str:
    if raw:
        return key
    return key.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])


def _string_key_matches(obj: Any, typed: str, quote: str, prefix: str, after: str) -> list[Match]:
    want_bytes = "b" in prefix.lower()
    raw = "r" in prefix.lower()
    closing = quote + "]" if not after.strip() else ""  # close only at the end of the code
    matches = []
    for key in _keys_of(obj):
        if want_bytes and isinstance(key, bytes):
            text = key.decode("latin-1")
        elif not want_bytes and isinstance(key, str):
            text = key
        else:
            continue
        text = _quote_key(text, quote, raw)
        if text.startswith(typed):
            matches.append(Match(text + closing, "dict key"))
    return matches


def _literal_key_matches(obj: Any, typed: str, after: str) -> list[Match]:
    closing = "]" if not after.strip() else ""
    matches = []
    for key in _keys_of(obj):
        if isinstance(key, (str, bytes, int, float, bool, tuple)) or key is None:
            text = repr(key)
            if text.startswith(typed):
                matches.append(Match(text + closing, "dict key"))
    return matches


def _path_matches(typed: str) -> tuple[list[Match], int]:
    """Entries of the directory named by ``typed``; returns matches and the length replaced."""
    directory, _, base = typed.rpartition("/") if "/" in typed else ("", "", typed)
    if "/" in typed:
        directory = directory + "/" if directory else "/"
    listing_dir = os.path.expanduser(os.path.expandvars(directory)) if directory else "."
    matches: list[Match] = []
    try:
        with os.scandir(listing_dir) as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(base) or (name.startswith(".") and not base.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                matches.append(Match(name + ("/" if is_dir else ""), "path"))
                if len(matches) >= MAX_PATHS:
                    break
    except OSError:
        return [], len(base)
    matches.sort(key=lambda match: match.text)
    return matches, len(base)


def _magic_names() -> list[str]:
    from ..magics import registry

    try:
        return registry.magic_names()
    except Exception:  # a built-in magics module that fails to import: complete without them
        return []


def _magic_matches(typed: str) -> list[Match]:
    """``%ti`` -> ``%time``, ``%timeit``; ``%%ba`` -> ``%%bash``."""
    cell_only = typed.startswith("%%")
    matches = []
    for name in _magic_names():
        text = name if name.startswith("%") else "%" + name
        if cell_only and not text.startswith("%%"):
            continue
        if text.lstrip("%").startswith(typed.lstrip("%")):
            matches.append(Match(text, "magic"))
    return sorted(matches, key=lambda match: (match.text.startswith("%%"), match.text))


def _parameters(function: Any) -> list[str]:
    """Names that can be passed by keyword to ``function``."""
    if isinstance(function, BUILTIN_CALLABLES):
        text = signature_text(function)
        if text is None:
            return []
        params = [part.strip() for part in text[1:-1].split(",") if part.strip()]
        if "/" in params:
            params = params[params.index("/") + 1 :]
        names = [param.split("=")[0].split(":")[0].strip() for param in params]
        return [name for name in names if name.isidentifier()]
    import inspect

    try:
        signature = inspect.signature(function.cls if isinstance(function, Instance) else function)
    except (TypeError, ValueError, RecursionError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


BUILTIN_CALLABLES = (
    types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType,
    types.MethodWrapperType, types.ClassMethodDescriptorType,
)


def _text_signature(value: Any) -> str | None:
    """A built-in's signature from ``__text_signature__`` (no tokenizer, so no cold start)."""
    text = getattr(value, "__text_signature__", None)
    if not isinstance(text, str) or not text.startswith("(") or not text.endswith(")"):
        return None
    params = [part.strip() for part in text[1:-1].split(",")] if text != "()" else []
    if params and params[0].startswith("$"):
        owner = getattr(value, "__self__", None)
        bound = owner is not None and not isinstance(owner, types.ModuleType)
        if params[0] == "$module" or bound or isinstance(value, type):
            params.pop(0)
            if params and params[0] == "/":
                params.pop(0)
        else:
            params[0] = params[0][1:]
    return "(" + ", ".join(params) + ")"


def signature_text(value: Any) -> str | None:
    """``str(inspect.signature(value))``, or None; cheap for built-ins."""
    if isinstance(value, BUILTIN_CALLABLES) or (
        isinstance(value, type) and value.__module__ == "builtins"
    ):
        return _text_signature(value)
    import inspect

    try:
        return str(inspect.signature(value))
    except (TypeError, ValueError, RecursionError):
        return None
    except Exception:
        return None


# ----- the completer --------------------------------------------------------------------------


class Completion:
    """The matches for one request and the span of code (start, end) they replace."""

    __slots__ = ("matches", "start", "end")

    def __init__(self, matches: list[Match], start: int, end: int) -> None:
        self.matches = matches
        self.start = start
        self.end = end


class Completer:
    """Completes code at a cursor against one namespace."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def complete(self, code: str, cursor: int) -> Completion:
        text = code[:cursor]
        after = code[cursor:]
        state = scan(text)
        if state.in_comment:
            return Completion([], cursor, cursor)
        line_offset, statement_start = state.line_starts[-1]
        line = text[line_offset:]
        if state.string is not None:
            return self._in_string(text, after, state, cursor)
        stripped = line.lstrip()
        if statement_start and stripped[:1] in ("%", "!"):
            special = self._magic_line(stripped, cursor)
            if special is not None:
                return special
        elif statement_start and self._automagic_path_line(stripped):
            return self._magic_line("%" + stripped, cursor) or Completion([], cursor, cursor)
        if statement_start or self._statement_text(text, state).lstrip().startswith(("import", "from")):
            imports = self._imports(self._statement_text(text, state), cursor)
            if imports is not None:
                return imports
        return self._python(text, after, state, cursor)

    @staticmethod
    def _statement_text(text: str, state: Scan) -> str:
        """The text of the current statement (from the last line that starts one)."""
        for offset, starts in reversed(state.line_starts):
            if starts:
                return text[offset:]
        return text

    # -- strings, magics, imports --

    def _in_string(self, text: str, after: str, state: Scan, cursor: int) -> Completion:
        string = state.string
        assert string is not None
        typed = text[string.content_start:]
        if "f" in string.prefix.lower():
            brace = typed.rfind("{")
            if brace >= 0 and "}" not in typed[brace:]:
                return self._python(text, after, Scan(), cursor, floor=string.content_start + brace + 1)
        before = text[: string.start].rstrip()
        if before.endswith("[") and "\n" not in typed:
            container_text = expression_before(before, len(before) - 1)
            if container_text:  # a key of some container: no file names here
                keys: list[Match] = []
                try:
                    container = evaluate(container_text, self.namespace)
                except Unresolved:
                    container = None
                if container is not None:
                    keys = _string_key_matches(
                        container, typed, string.quote, string.prefix, after
                    )
                return Completion(keys, cursor - len(typed), cursor)
        if "\n" in typed:
            return Completion([], cursor, cursor)
        matches, replaced = _path_matches(typed)
        return Completion(matches, cursor - replaced, cursor)

    def _automagic_path_line(self, stripped: str) -> bool:
        """``cd /tm``: a path-taking magic typed without % (no variable has its name)."""
        found = AUTOMAGIC_PATH_RE.match(stripped)
        if found is None:
            return False
        name = found.group(1)
        return name in PATH_MAGICS and name not in self.namespace and not hasattr(builtins, name)

    def _magic_line(self, stripped: str, cursor: int) -> Completion | None:
        if stripped.startswith("%") and re.fullmatch(r"%%?\w*", stripped):
            return Completion(_magic_matches(stripped), cursor - len(stripped), cursor)
        word = re.search(r"\S*$", stripped)
        typed = word.group(0) if word else ""
        magic = re.match(r"%%?(\w+)", stripped)
        if stripped.startswith("!") or (magic and magic.group(1) in PATH_MAGICS):
            if stripped.startswith("!") and typed == stripped:
                return Completion([], cursor, cursor)  # the command name itself
            matches, replaced = _path_matches(typed)
            return Completion(matches, cursor - replaced, cursor)
        return None  # the rest of e.g. `%time x.` is Python

    def _imports(self, statement: str, cursor: int) -> Completion | None:
        statement = statement.rpartition(";")[2]  # `x = 1; import o`
        found = IMPORT_RE.fullmatch(statement)
        if found:
            dotted = found.group(1)
            return Completion(_module_matches(dotted), cursor - len(dotted), cursor)
        found = FROM_RE.fullmatch(statement)
        if found:
            dotted = found.group(1)
            return Completion(_module_matches(dotted), cursor - len(dotted), cursor)
        found = FROM_IMPORT_RE.fullmatch(statement)
        if found:
            module_name, prefix = found.group(1), found.group(2)
            matches: list[Match] = []
            module = _import_module(module_name)
            if module is not None:
                for name in sorted(_attribute_names(module)):
                    if _visible(name, prefix):
                        kind, value = _attribute_kind(module, name)
                        matches.append(Match(name, kind, value))
            known = {match.text for match in matches}
            for name in _submodules(module_name):
                if _visible(name, prefix) and name not in known:
                    matches.append(Match(name, "module"))
            return Completion(matches, cursor - len(prefix), cursor)
        found = FROM_IMPORT_KEYWORD_RE.fullmatch(statement)
        if found and "import".startswith(found.group(1)):
            prefix = found.group(1)
            return Completion([Match("import", "keyword")], cursor - len(prefix), cursor)
        return None

    # -- Python expressions --

    def _python(self, text: str, after: str, state: Scan, cursor: int, floor: int = 0) -> Completion:
        start = max(_name_before(text, cursor), floor)
        prefix = text[start:cursor]
        matches: list[Match] = []
        if state.brackets and state.brackets[-1][0] == "[":
            where = state.brackets[-1][1]
            typed = text[where + 1 : cursor]
            if re.fullmatch(r"\s*-?[\w.]*", typed):
                matches.extend(self._literal_keys(text, where, typed, after))
                if matches and (not prefix or not prefix.isidentifier()):
                    return Completion(matches, cursor - len(typed.lstrip()), cursor)
                if matches:
                    start = cursor - len(typed.lstrip())
        if prefix[:1].isdigit():
            return Completion(matches, start, cursor)
        if start > floor and text[start - 1] == ".":
            chain = expression_before(text[floor:], start - 1 - floor)
            if not chain or chain[0].isdigit():
                return Completion([], cursor, cursor)
            try:
                obj = evaluate(chain, self.namespace)
            except Exception:
                return Completion([], cursor, cursor)
            for name in sorted(_attribute_names(obj)):
                if _visible(name, prefix):
                    kind, value = _attribute_kind(obj, name)
                    matches.append(Match(name, kind, value))
            return Completion(matches, start, cursor)
        if state.brackets:
            opener, where = state.brackets[-1]
            between = text[where + 1 : start]
            if opener == "(" and (not between.strip() or between.rstrip().endswith(",")):
                matches.extend(self._keyword_arguments(text, where, prefix))
        matches.extend(self._names(prefix, text[:start] + " " + after))
        return Completion(matches, start, cursor)

    def _keyword_arguments(self, text: str, paren: int, prefix: str) -> list[Match]:
        callee = expression_before(text, paren)
        if not callee or callee[0].isdigit():
            return []
        try:
            function = evaluate(callee, self.namespace)
        except Exception:
            return []
        if not callable(function) and not isinstance(function, Instance):
            return []
        return [Match(name + "=", "param") for name in _parameters(function) if _visible(name, prefix)]

    def _literal_keys(self, text: str, bracket: int, typed: str, after: str) -> list[Match]:
        container_text = expression_before(text, bracket)
        if not container_text:
            return []
        try:
            container = evaluate(container_text, self.namespace)
        except Exception:
            return []
        return _literal_key_matches(container, typed.strip(), after)

    def _names(self, prefix: str, cell: str = "") -> list[Match]:
        found: dict[str, Match] = {}
        for source in (self.namespace, vars(builtins)):
            for name, value in source.items():
                if isinstance(name, str) and name not in found and _visible(name, prefix):
                    found[name] = Match(name, kind_of(value), value)
        for name in cell_names(cell):
            if name not in found and name != prefix and _visible(name, prefix):
                found[name] = Match(name, "statement")
        for word in KEYWORDS:
            if word.startswith(prefix) and word not in found:
                found[word] = Match(word, "keyword")
        return sorted(found.values(), key=lambda match: match.text)


CELL_NAME_PATTERNS = (
    re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.M),
    re.compile(r"^[ \t]*(\w+(?:[ \t]*,[ \t]*\w+)*)[ \t]*(?::[^=\n]*)?=(?!=)", re.M),
    re.compile(r"\bfor[ \t]+\(?([\w \t,]+?)\)?[ \t]+in\b"),
    re.compile(r"\bas[ \t]+(\w+)"),
    re.compile(r"^[ \t]*import[ \t]+(\w+)", re.M),
    re.compile(r"\bimport[ \t]+\(?((?:\w+[ \t]*,[ \t]*)*\w+)", re.M),
)
DEF_PARAMS = re.compile(r"\bdef[ \t]+\w+[ \t]*\(([^)]*)\)?")


def cell_names(cell: str) -> set[str]:
    """Names the cell itself binds (assignments, defs, loops, imports), not run yet."""
    if not cell.strip():
        return set()
    names: set[str] = set()
    for pattern in CELL_NAME_PATTERNS:
        for found in pattern.finditer(cell):
            names.update(part.strip() for part in found.group(1).split(","))
    for found in DEF_PARAMS.finditer(cell):
        for param in found.group(1).split(","):
            name = param.split("=")[0].split(":")[0].strip().lstrip("*")
            names.add(name)
    return {name for name in names if name.isidentifier() and not keyword.iskeyword(name)}


def _dedupe(matches: Iterable[Match]) -> list[Match]:
    seen: set[str] = set()
    unique = []
    for match in matches:
        if match.text not in seen:
            seen.add(match.text)
            unique.append(match)
    return unique


def complete(code: str, cursor_pos: int, namespace: dict[str, Any]) -> dict[str, Any]:
    """The ``complete_reply`` content for ``code`` with the cursor at ``cursor_pos``.

    ``cursor_pos`` counts unicode code points (Python string indices), as the protocol says.
    """
    MODULES.warm()
    cursor = max(0, min(cursor_pos, len(code)))
    try:
        result = Completer(namespace).complete(code, cursor)
    except Exception:  # noqa: BLE001 - completing must never break typing: offer nothing
        result = Completion([], cursor, cursor)
    matches = _dedupe(result.matches)
    functions = [match for match in matches if match.type == "function"]
    with_signatures = len(functions) <= MAX_SIGNATURES
    types_list = []
    for match in matches:
        entry: dict[str, Any] = {
            "start": result.start,
            "end": result.end,
            "text": match.text,
            "type": match.type,
        }
        if with_signatures and match.type == "function" and match.value is not None:
            signature = signature_text(match.value)
            if signature is not None:
                entry["signature"] = signature
        types_list.append(entry)
    return {
        "status": "ok",
        "matches": [match.text for match in matches],
        "cursor_start": result.start,
        "cursor_end": result.end,
        "metadata": {"_jupyter_types_experimental": types_list},
    }


def warm() -> None:
    """Do the one-time work of completion ahead of the first request.

    Meant for a background thread in the kernel's first idle moment: lists importable modules
    and compiles the tokenizer's patterns (used by ``inspect.getsource``), so that the first Tab
    or ``?`` is as quick as later ones.
    """
    import io
    import tokenize

    MODULES.top_level()
    try:
        for _ in tokenize.generate_tokens(io.StringIO("x = 1\n").readline):
            pass
    except Exception:
        pass
