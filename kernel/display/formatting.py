"""Mime bundles for Python objects: ``_repr_*_`` methods, then a plain-text repr.

``format_object`` never raises: a failing repr method is reported in the bundle's text and
skipped.
"""

from __future__ import annotations

import base64
import reprlib
from collections.abc import Callable
from typing import Any

# method name -> mime type, richest first (text/plain is always added)
REPR_METHODS: tuple[tuple[str, str], ...] = (
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_pdf_", "application/pdf"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
    ("_repr_javascript_", "application/javascript"),
)  # IPython's order, which is also the order failing methods report in
BINARY_TYPES = {"image/png", "image/jpeg", "application/pdf"}

# mime -> a callable giving that mime's value for an object, or None when it has no printer for
# it: filled by ``get_ipython().display_formatter`` when user code registers a printer for a type
# (``formatters['text/html'].for_type(cls, fn)``); empty otherwise, and then it costs nothing.
TYPE_FORMATTERS: dict[str, Callable[[Any], Any]] = {}

_pretty: Callable[[Any], str] | None = None  # kernel.display.pretty.pretty, imported on first use


def _pretty_function() -> Callable[[Any], str]:
    global _pretty
    if _pretty is None:
        from .pretty import pretty

        _pretty = pretty
    return _pretty


def plain_text(obj: Any) -> str:
    """``text/plain`` for ``obj``, as IPython's pretty printer writes it (never raises)."""
    try:
        return _pretty_function()(obj)
    except Exception as exc:  # a broken __repr__ must not break the kernel
        try:
            return repr(obj)
        except Exception:
            return f"<{type(obj).__name__} object: repr failed with {type(exc).__name__}: {exc}>"


def _encode(mime: str, value: Any) -> Any:
    if mime in BINARY_TYPES and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _safe_repr(obj: Any) -> str:
    try:
        return reprlib.repr(obj)
    except Exception:
        return f"<{type(obj).__name__} object>"


def format_object(
    obj: Any, errors: list[BaseException] | None = None
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(data, metadata, problems)`` for ``obj``; problems name repr methods that failed.

    With ``errors``, a failing repr method is not a problem line: its exception goes to
    ``errors`` (to be shown as IPython shows it, with its traceback), and a failing plain-text
    repr leaves ``text/plain`` out. An object with ``_ipython_display_`` displays itself: the
    bundle is empty.
    """
    data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    problems: list[str] = []
    if not isinstance(obj, type):
        display_itself = getattr(obj, "_ipython_display_", None)
        if callable(display_itself):
            try:
                display_itself()
            except Exception as exc:
                if errors is None:
                    problems.append(f"_ipython_display_ of {_safe_repr(obj)} failed: {type(exc).__name__}: {exc}")
                else:
                    errors.append(exc)
            return data, metadata, problems
        bundle_method = getattr(obj, "_repr_mimebundle_", None)
        if callable(bundle_method):
            try:
                result = bundle_method(include=None, exclude=None)
                if isinstance(result, tuple) and len(result) == 2:
                    bundle, meta = result
                else:
                    bundle, meta = result, {}
                if isinstance(bundle, dict):
                    for mime, value in bundle.items():
                        data[str(mime)] = _encode(str(mime), value)
                if isinstance(meta, dict):
                    metadata.update(meta)
            except Exception as exc:
                if errors is not None:
                    errors.append(exc)
                else:
                    problems.append(f"_repr_mimebundle_ of {_safe_repr(obj)} failed: {type(exc).__name__}: {exc}")
    if TYPE_FORMATTERS:
        _apply_type_formatters(obj, data, problems)
    _add_plain_text(obj, data, errors)
    if not isinstance(obj, type):
        for method_name, mime in REPR_METHODS:
            if mime in data:
                continue
            method = getattr(obj, method_name, None)
            if not callable(method):
                continue
            try:
                value = method()
            except NotImplementedError:
                continue
            except Exception as exc:
                if errors is not None:
                    errors.append(exc)
                else:
                    problems.append(f"{method_name} of {_safe_repr(obj)} failed: {type(exc).__name__}: {exc}")
                continue
            if value is None:
                continue
            if isinstance(value, tuple) and len(value) == 2:
                value, meta = value
                if isinstance(meta, dict):
                    metadata[mime] = meta
            data[mime] = _encode(mime, value)
    return data, metadata, problems


def _apply_type_formatters(obj: Any, data: dict[str, Any], problems: list[str]) -> None:
    """Printers registered for the object's type come before its ``_repr_*_`` methods."""
    for mime, formatter in list(TYPE_FORMATTERS.items()):
        if mime in data:
            continue
        try:
            value = formatter(obj)
        except Exception as exc:
            problems.append(f"the {mime} printer of {_safe_repr(obj)} failed: {type(exc).__name__}: {exc}")
            continue
        if value is not None:
            data[mime] = _encode(mime, value)


def _add_plain_text(obj: Any, data: dict[str, Any], errors: list[BaseException] | None) -> None:
    """``text/plain`` unless the bundle has it; with ``errors``, a failing repr goes there."""
    if "text/plain" in data:
        return
    if errors is None:
        data["text/plain"] = plain_text(obj)
        return
    try:
        data["text/plain"] = _pretty_function()(obj)
    except Exception as exc:
        errors.append(exc)
