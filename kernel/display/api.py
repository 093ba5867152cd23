"""Rich display for user code: ``display()``, ``update_display()``, ``clear_output()`` and
wrappers (HTML, Markdown, Latex, JSON, Image, SVG, Pretty, Javascript) that carry their own
mime types.

``install(shell)`` makes the three functions builtins that publish through that shell, and
prepares, without importing anything, matplotlib support (our backend
``kernel.display.mpl_backend``, a ``_repr_png_`` for figures, ``%matplotlib``) and
``IPython.display`` support. Importing this module is cheap: the wrappers load files and
encode data only when used. Outside a kernel, ``display`` prints the plain-text form instead.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from . import formatting

_shell: Any = None  # the kernel's Shell once install() ran


def install(shell: Any) -> None:
    """Make ``display``/``update_display``/``clear_output`` builtins bound to ``shell``.

    Also arranges for matplotlib, when user code imports it, to use the kernel's backend (figures
    shown as PNG), and for ``IPython.display.display`` to publish through us, without importing
    either now.
    """
    global _shell
    _shell = shell
    builtins.display = display  # type: ignore[attr-defined]
    builtins.update_display = update_display  # type: ignore[attr-defined]
    builtins.clear_output = clear_output  # type: ignore[attr-defined]
    _install_matplotlib(shell)
    from ..magics.registry import register_line_magic

    register_line_magic("matplotlib")(matplotlib_magic)


# ----- publishing ---------------------------------------------------------------------------------


def _new_display_id() -> str:
    return os.urandom(16).hex()


def publish_display_data(
    data: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    transient: dict[str, Any] | None = None,
    update: bool = False,
) -> None:
    """Publish a ready mime bundle as ``display_data`` (or ``update_display_data``)."""
    shell = _shell
    if shell is None:
        text = data.get("text/plain")
        if text is None:
            text = f"<{', '.join(sorted(data))}>"
        print(text)
        return
    content: dict[str, Any] = {
        "data": data,
        "metadata": metadata or {},
        "transient": transient or {},
    }
    shell.publish("update_display_data" if update else "display_data", content)


def _report(problems: Iterable[str]) -> None:
    for problem in problems:
        if _shell is None:
            sys.stderr.write(problem + "\n")
        else:
            _shell.publish("stream", {"name": "stderr", "text": problem + "\n"})


def _bundle(
    obj: Any,
    raw: bool,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (data, metadata) to publish for one object."""
    if raw:
        if not isinstance(obj, dict):
            raise TypeError(f"display(raw=True) needs mime bundles (dicts), not {type(obj).__name__}")
        data, metadata = dict(obj), dict[str, Any]()
    else:
        data, metadata, problems = formatting.format_object(obj)
        _report(problems)
    if include is not None:
        wanted = set(include)
        data = {mime: value for mime, value in data.items() if mime in wanted}
    if exclude is not None:
        unwanted = set(exclude)
        data = {mime: value for mime, value in data.items() if mime not in unwanted}
    metadata = {mime: value for mime, value in metadata.items() if mime in data or "/" not in mime}
    return data, metadata


def display(
    *objs: Any,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    metadata: dict[str, Any] | None = None,
    transient: dict[str, Any] | None = None,
    display_id: str | bool | None = None,
    raw: bool = False,
    clear: bool = False,
    update: bool = False,
) -> DisplayHandle | None:
    """Show each object with its richest representations (``display_data``).

    ``display_id=True`` makes a new id; with any id the result is a :class:`DisplayHandle`
    whose ``update()`` replaces that output in place. ``raw=True`` takes ready mime bundles.
    ``clear=True`` clears the cell's output first (waiting for the new output).
    ``metadata`` is merged into each object's metadata; ``include``/``exclude`` pick mime types.
    """
    if transient is not None and not isinstance(transient, dict):
        raise TypeError("display(transient=...) must be a dict")
    transient = dict(transient or {})
    if display_id is True:
        display_id = _new_display_id()
    if display_id:
        transient["display_id"] = str(display_id)
    elif "display_id" in transient:
        display_id = str(transient["display_id"])
    if update and not transient.get("display_id"):
        raise TypeError("update_display needs a display_id")
    if clear:
        clear_output(wait=True)
    for obj in objs:
        data, bundle_metadata = _bundle(obj, raw, include, exclude)
        if not data and not raw:  # it displayed itself (``_ipython_display_``)
            continue
        if metadata:
            bundle_metadata.update(metadata)
        publish_display_data(data, bundle_metadata, transient, update=update)
    if display_id:
        return DisplayHandle(str(display_id))
    return None


def update_display(obj: Any, *, display_id: str, **kwargs: Any) -> None:
    """Replace the output shown earlier with ``display_id`` by ``obj``."""
    if not display_id or not isinstance(display_id, str):
        raise TypeError("update_display needs display_id='...' (a string)")
    display(obj, display_id=display_id, update=True, **kwargs)


def clear_output(wait: bool = False) -> None:
    """Clear the current cell's output; with ``wait=True``, only once new output arrives."""
    if _shell is None:
        return
    _shell.publish("clear_output", {"wait": bool(wait)})


class DisplayHandle:
    """An output that can be shown again or replaced later, by its display id."""

    def __init__(self, display_id: str | None = None) -> None:
        self.display_id = display_id or _new_display_id()

    def __repr__(self) -> str:
        return f"<DisplayHandle display_id={self.display_id}>"

    def display(self, obj: Any, **kwargs: Any) -> None:
        """Show ``obj`` as a new output carrying this handle's id."""
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj: Any, **kwargs: Any) -> None:
        """Replace every output carrying this id by ``obj``."""
        update_display(obj, display_id=self.display_id, **kwargs)

    def clear(self, wait: bool = False) -> None:
        """Clear the cell's output (the protocol has no per-display clear)."""
        clear_output(wait=wait)


# ----- wrappers -------------------------------------------------------------------------------------


def _read(filename: str | os.PathLike[str], binary: bool) -> Any:
    path = os.fspath(filename)
    try:
        if binary:
            with open(path, "rb") as handle:
                return handle.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ValueError(f"cannot read {path!r}: {exc.strerror or exc}") from None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "data:", "ftp://"))


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DisplayObject:
    """A value with a mime type: from ``data``, a ``filename`` to read, or a ``url`` (a link).

    A positional string that names an existing file is read; one that looks like a URL is kept
    as a link (never fetched: the kernel does not block on the network).
    """

    binary = False  # read files as bytes
    mime = "text/plain"

    def __init__(
        self,
        data: Any = None,
        url: str | None = None,
        filename: str | os.PathLike[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(data, os.PathLike):
            data, filename = None, data
        elif isinstance(data, str) and url is None and filename is None:
            if _is_url(data) and "\n" not in data:
                data, url = None, data
            elif len(data) < 4096 and "\n" not in data and os.path.isfile(data) and self._looks_like_path(data):
                data, filename = None, data
        self.url = url
        self.filename = os.fspath(filename) if filename is not None else None
        self.metadata = dict(metadata or {})
        if data is None and self.filename is not None:
            data = _read(self.filename, self.binary)
        self.data = self._check(data)

    @staticmethod
    def _looks_like_path(text: str) -> bool:
        return not text.lstrip().startswith(("<", "{", "[", "$", "#"))

    def _check(self, data: Any) -> Any:
        """Validate and normalise ``data``; subclasses say what they accept."""
        if isinstance(data, bytes) and not self.binary:
            return data.decode("utf-8", errors="replace")
        return data

    def _data_and_metadata(self) -> Any:
        if self.metadata:
            return self.data, dict(self.metadata)
        return self.data

    def __repr__(self) -> str:
        source = self.url or self.filename
        if source:
            return f"<{type(self).__name__}: {source}>"
        return f"<{type(self).__name__} object>"


class TextDisplayObject(DisplayObject):
    """A wrapper whose data is text."""

    def _check(self, data: Any) -> Any:
        data = super()._check(data)
        if data is None and self.url is None:
            raise ValueError(f"{type(self).__name__} needs data, a filename or a url")
        if data is not None and not isinstance(data, str):
            raise TypeError(f"{type(self).__name__} data must be str, not {type(data).__name__}")
        return data


class HTML(TextDisplayObject):
    """HTML text (``text/html``); its plain form is the text with the tags removed."""

    def _repr_html_(self) -> Any:
        if self.data is None:
            return f'<a href="{_escape(self.url or "")}">{_escape(self.url or "")}</a>'
        return self._data_and_metadata()

    def __repr__(self) -> str:
        if self.data is None:
            return super().__repr__()
        return _html_to_text(self.data)


class Markdown(TextDisplayObject):
    """Markdown text (``text/markdown``); its plain form is the source itself."""

    def _repr_markdown_(self) -> Any:
        if self.data is None:
            return f"<{self.url}>"
        return self._data_and_metadata()

    def __repr__(self) -> str:
        return self.data if self.data is not None else super().__repr__()


class Latex(TextDisplayObject):
    """LaTeX (``text/latex``), e.g. ``Latex(r"$\\alpha^2$")``; its plain form is the source."""

    def _repr_latex_(self) -> Any:
        return self._data_and_metadata() if self.data is not None else None

    def __repr__(self) -> str:
        return self.data if self.data is not None else super().__repr__()


class Pretty(TextDisplayObject):
    """Text shown as is (``text/plain`` only)."""

    def __repr__(self) -> str:
        return self.data if self.data is not None else super().__repr__()


class Javascript(TextDisplayObject):
    """JavaScript for front ends that run it (``application/javascript``)."""

    def _repr_javascript_(self) -> Any:
        if self.data is None:
            return f'var s = document.createElement("script"); s.src = "{self.url}"; document.head.appendChild(s);'
        return self._data_and_metadata()

    def __repr__(self) -> str:
        if self.data is None:
            return super().__repr__()
        return f"<Javascript: {_short(self.data)}>"


class SVG(TextDisplayObject):
    """An SVG image (``image/svg+xml``) from text, bytes or a file."""

    def _check(self, data: Any) -> Any:
        data = super()._check(data)
        if isinstance(data, str):
            start = data.find("<svg")
            if start < 0:
                raise ValueError("SVG data must contain an <svg> element")
            data = data[start:]
        return data

    def _repr_svg_(self) -> Any:
        return self._data_and_metadata() if self.data is not None else None

    def __repr__(self) -> str:
        if self.data is None:
            return super().__repr__()
        return f"<SVG image, {len(self.data):,} characters>"


class JSON(DisplayObject):
    """JSON data (``application/json``) from a dict, a list or a JSON string."""

    def __init__(
        self,
        data: Any = None,
        url: str | None = None,
        filename: str | os.PathLike[str] | None = None,
        metadata: dict[str, Any] | None = None,
        expanded: bool = False,
        root: str = "root",
    ) -> None:
        super().__init__(data, url, filename, metadata)
        self.metadata.setdefault("expanded", expanded)
        self.metadata.setdefault("root", root)

    def _check(self, data: Any) -> Any:
        import json

        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise ValueError(f"JSON: the text is not valid JSON: {exc}") from None
        if data is None and self.url is None:
            raise ValueError("JSON needs data, a filename or a url")
        if data is not None:
            try:
                json.dumps(data, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"JSON: the data cannot be sent as JSON: {exc}") from None
        return data

    def _repr_json_(self) -> Any:
        if self.data is None:
            return None
        return self.data, dict(self.metadata)

    def __repr__(self) -> str:
        if self.data is None:
            return super().__repr__()
        import json

        return json.dumps(self.data, indent=2, ensure_ascii=False)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8"
_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg"}


class Image(DisplayObject):
    """A PNG or JPEG image from bytes, a file, or a URL (kept as a link, never fetched).

    ``width``/``height`` become display metadata (pixels); ``format`` is detected from the
    data or the file name when not given; ``retina=True`` shows the image at half its pixel
    size (for high-density screens). ``embed=True`` with a URL is refused rather than fetched.
    """

    binary = True

    def __init__(
        self,
        data: Any = None,
        url: str | None = None,
        filename: str | os.PathLike[str] | None = None,
        format: str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        metadata: dict[str, Any] | None = None,
        alt: str | None = None,
        embed: bool | None = None,
        retina: bool = False,
    ) -> None:
        self.format = _FORMATS.get(format.lower().lstrip(".")) if format else None
        if format and self.format is None:
            raise ValueError(f"Image: unsupported format {format!r} (use 'png' or 'jpeg')")
        super().__init__(data, url, filename, metadata)
        if width is not None:
            self.metadata["width"] = width
        if height is not None:
            self.metadata["height"] = height
        if alt is not None:
            self.metadata["alt"] = alt
        if self.data is not None:
            detected = _image_format(self.data)
            if self.format is None:
                self.format = detected or self._format_from_name()
            if self.format is None:
                raise ValueError("Image: the data is neither PNG nor JPEG")
        elif self.format is None:
            self.format = self._format_from_name()
        if embed and self.data is None:
            raise ValueError(
                "Image(embed=True) with a URL: the kernel does not download images; "
                "read the bytes yourself and pass them, or drop embed to keep the link"
            )
        if retina and self.data is not None and width is None and height is None:
            size = _image_size(self.data, self.format or "")
            if size:
                self.metadata["width"], self.metadata["height"] = size[0] // 2, size[1] // 2

    def _format_from_name(self) -> str | None:
        name = self.filename or self.url or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        return _FORMATS.get(extension)

    def _check(self, data: Any) -> Any:
        if data is None:
            if self.url is None:
                raise ValueError("Image needs data (bytes), a filename or a url")
            return None
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if isinstance(data, str):
            raise ValueError(
                f"Image: {_short(data)!r} is neither an existing file nor a URL; "
                "pass bytes, filename=... or url=..."
            )
        if not isinstance(data, bytes):
            raise TypeError(f"Image data must be bytes, not {type(data).__name__}")
        return data

    def _image(self, fmt: str) -> Any:
        if self.data is None or self.format != fmt:
            return None
        return self.data, dict(self.metadata)

    def _repr_png_(self) -> Any:
        return self._image("png")

    def _repr_jpeg_(self) -> Any:
        return self._image("jpeg")

    def _repr_html_(self) -> Any:
        if self.data is not None or not self.url:
            return None
        attributes = "".join(
            f' {key}="{_escape(str(self.metadata[key]))}"'
            for key in ("width", "height", "alt")
            if key in self.metadata
        )
        return f'<img src="{_escape(self.url)}"{attributes}/>'

    def __repr__(self) -> str:
        if self.data is None:
            return f"<Image: {self.url}>"
        size = _image_size(self.data, self.format or "")
        dimensions = f" {size[0]}x{size[1]}" if size else ""
        return f"<Image: {self.format}{dimensions}, {len(self.data):,} bytes>"


def _image_format(data: bytes) -> str | None:
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(_JPEG_SIGNATURE):
        return "jpeg"
    return None


def _image_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header, or None."""
    if fmt == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if fmt == "jpeg":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(data[index + 5 : index + 7], "big")
                width = int.from_bytes(data[index + 7 : index + 9], "big")
                return width, height
            index += 2 + length
    return None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _html_to_text(markup: str) -> str:
    """The readable text of an HTML fragment, for ``text/plain``."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in ("script", "style"):
                self.hidden += 1
            elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6"):
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style"):
                self.hidden = max(0, self.hidden - 1)
            elif tag in ("td", "th"):
                self.parts.append("\t")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data)

    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed markup: show it as it is
        return markup
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or "<HTML>"


# ----- matplotlib ---------------------------------------------------------------------------------

MPL_BACKEND = f"module://{__package__}.mpl_backend"
_SHOWN = "_mycon_shown"  # set on a Figure once it was rendered for display


def _install_matplotlib(shell: Any) -> None:
    """Prepare matplotlib (and IPython.display) support without importing them.

    When user code imports matplotlib, its backend becomes ours (unless ``MPLBACKEND`` says
    otherwise) and ``Figure`` gets a ``_repr_png_``. We hook the import rather than set
    ``MPLBACKEND`` in our environment, so that Python subprocesses started from the kernel do not
    inherit a backend they cannot load. At the end of each cell, pyplot figures not shown yet are
    displayed and closed.
    """
    if _post_run_figures not in shell.post_run_hooks:
        shell.post_run_hooks.append(_post_run_figures)
    choose_backend = "MPLBACKEND" not in os.environ
    callbacks: dict[str, Callable[[ModuleType], None]] = {
        "matplotlib.figure": _on_figure_module,
        "IPython.core.display_functions": _adopt_ipython_display,
    }
    if choose_backend:
        callbacks["matplotlib"] = _on_matplotlib
    for name in list(callbacks):
        module = sys.modules.get(name)
        if module is not None:
            callbacks.pop(name)(module)
    if callbacks and not any(isinstance(finder, _PostImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PostImportHook(callbacks))


def after_import(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once the module ``name`` is imported (now, if it already is)."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    for finder in sys.meta_path:
        if isinstance(finder, _PostImportHook):
            finder.callbacks[name] = callback
            return
    sys.meta_path.insert(0, _PostImportHook({name: callback}))


INLINE_NAMES = ("", "inline")


def matplotlib_magic(line: str) -> None:
    """``%matplotlib [inline|NAME|--list]``: choose how figures are shown.

    ``inline`` (the default) shows figures as PNG output; another name is handed to
    ``matplotlib.use`` (a GUI backend opens windows; with no GUI event loop running between
    cells, ``plt.show()`` blocks until they are closed).
    """
    from ..execution.tracebacks import CellError

    name = line.strip()
    try:
        import matplotlib
    except ImportError:
        raise CellError("%matplotlib: matplotlib is not installed (try %pip install matplotlib)") from None
    if name in ("-l", "--list"):
        print("Available matplotlib backends: inline, agg, svg, pdf, tk, qt, gtk3, gtk4, wx, macosx")
        return
    if name.startswith("-"):
        raise CellError(f"%matplotlib: unknown option {name!r} (use --list)")
    backend = MPL_BACKEND if name in INLINE_NAMES else GUI_BACKENDS.get(name.lower(), name)
    try:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].switch_backend(backend)
        else:
            matplotlib.use(backend)
    except (ImportError, ValueError) as exc:
        raise CellError(f"%matplotlib: cannot use backend {name!r}: {exc}") from None
    figure_module = sys.modules.get("matplotlib.figure")
    if figure_module is not None:
        _on_figure_module(figure_module)
    toolkit = BACKEND_TOOLKITS.get(name.lower())
    if toolkit is not None and _shell is not None:
        # windows: their toolkit's loop runs between requests, and drawing does not block
        from . import gui

        gui.enable(_shell, toolkit)
        matplotlib.interactive(True)


# %matplotlib names of window and notebook backends -> matplotlib's backend, and the toolkit
# whose event loop windows need (as in IPython)
GUI_BACKENDS = {"tk": "TkAgg", "qt": "QtAgg", "qt5": "Qt5Agg", "qt6": "QtAgg",
                "notebook": "nbAgg", "nbagg": "nbAgg", "widget": "module://ipympl.backend_nbagg",
                "ipympl": "module://ipympl.backend_nbagg"}
BACKEND_TOOLKITS = {"tk": "tk", "tkagg": "tk", "qt": "qt", "qt5": "qt", "qt6": "qt",
                    "qtagg": "qt", "qt5agg": "qt"}


def _adopt_ipython_display(module: ModuleType) -> None:
    """Code written for Jupyter calls ``IPython.display.display``; without an IPython shell
    that only prints reprs, so route it (and its friends) to ours."""
    for name in ("display", "update_display", "clear_output", "publish_display_data", "DisplayHandle"):
        if hasattr(module, name):
            setattr(module, name, globals()[name])


def _on_matplotlib(module: ModuleType) -> None:
    """matplotlib was just imported: make our backend the default, as MPLBACKEND would."""
    if "MPLBACKEND" in os.environ:  # set by the user after start-up
        return
    use = getattr(module, "use", None)
    if callable(use):
        use(MPL_BACKEND)


def _on_figure_module(module: ModuleType) -> None:
    figure_class = getattr(module, "Figure", None)
    if isinstance(figure_class, type):
        ensure_figure_repr(figure_class)


FIGURE_FORMATS = ("png", "retina", "svg")  # what ``figure_formats`` may hold
_figure_formats: frozenset[str] = frozenset({"png"})  # %config InlineBackend.figure_format(s)


def set_figure_formats(formats: Iterable[str]) -> None:
    """Choose how figures are shown: ``png``, ``retina`` (PNG at twice the dpi, shown at
    half size) and/or ``svg``. Unknown names raise ValueError."""
    global _figure_formats
    chosen = frozenset(formats)
    unknown = sorted(chosen - set(FIGURE_FORMATS))
    if unknown or not chosen:
        raise ValueError(f"figure formats must be some of {', '.join(FIGURE_FORMATS)}, not {unknown or 'none'}")
    _figure_formats = chosen


def figure_formats() -> frozenset[str]:
    """The formats figures are shown in (see ``set_figure_formats``)."""
    return _figure_formats


def ensure_figure_repr(figure_class: type) -> None:
    """Give matplotlib's ``Figure`` a ``_repr_png_`` and ``_repr_svg_`` (if it has none), so
    figures display in the chosen formats."""
    if not hasattr(figure_class, "_repr_png_"):
        figure_class._repr_png_ = _figure_png_repr  # type: ignore[attr-defined]
    if not hasattr(figure_class, "_repr_svg_"):
        figure_class._repr_svg_ = _figure_svg_repr  # type: ignore[attr-defined]


def _figure_png_repr(figure: Any) -> Any:
    """``Figure._repr_png_``: PNG bytes, or (bytes, size metadata) for ``retina``."""
    if "retina" in _figure_formats:
        data = figure_png(figure, scale=2)
        size = _image_size(data, "png") if data else None
        if data is None or size is None:
            return data
        return data, {"width": size[0] // 2, "height": size[1] // 2}
    return figure_png(figure) if "png" in _figure_formats else None


def _figure_svg_repr(figure: Any) -> str | None:
    """``Figure._repr_svg_``: the figure as SVG text when ``svg`` is chosen."""
    if "svg" not in _figure_formats or not figure_has_content(figure):
        return None
    return _print_figure(figure, "svg").decode("utf-8")


def figure_png(figure: Any, scale: int = 1) -> bytes | None:
    """A figure rendered as PNG at ``scale`` times its dpi (None when it has nothing in it)."""
    if not figure_has_content(figure):
        return None
    if scale == 1:
        return _print_figure(figure, "png")
    import matplotlib

    dpi = matplotlib.rcParams.get("savefig.dpi", "figure")  # what a plain PNG is drawn at
    base = figure.dpi if dpi == "figure" else float(dpi)
    return _print_figure(figure, "png", dpi=base * scale)


def _print_figure(figure: Any, fmt: str, dpi: float | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    extra = {"dpi": dpi} if dpi is not None else {}
    figure.canvas.print_figure(buffer, format=fmt, bbox_inches="tight", **extra)
    setattr(figure, _SHOWN, True)
    figure.stale = False  # printing resets sizes and colours; only later changes count
    return buffer.getvalue()


def figure_has_content(figure: Any) -> bool:
    """False for an empty figure (``plt.figure()`` with nothing drawn), which is not shown."""
    return bool(figure.axes or figure.lines or figure.images or figure.texts or figure.patches)


def figure_needs_showing(figure: Any) -> bool:
    """True for a figure never rendered for display, or changed since it was."""
    return not getattr(figure, _SHOWN, False) or bool(getattr(figure, "stale", False))


def _post_run_figures(code: str, outcome: Any) -> None:
    """After a cell: show the pyplot figures it left open, if our backend is in use."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    backend = sys.modules.get(f"{__package__}.mpl_backend")
    if backend is not None:
        backend.flush_figures()


class _PostImportHook:
    """A meta path finder that runs a callback right after a watched module is executed.

    It removes itself once every watched module has been imported.
    """

    def __init__(self, callbacks: dict[str, Callable[[ModuleType], None]]) -> None:
        self.callbacks = callbacks

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        callback = self.callbacks.get(fullname)
        if callback is None:
            return None
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        if self.callbacks.pop(fullname, None) is None:  # another thread got there first
            return spec
        if not self.callbacks:
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass
        spec.loader = _CallbackLoader(spec.loader, callback)
        return spec


class _CallbackLoader:
    """Wraps a module's loader: runs the real loader, then the callback."""

    def __init__(self, loader: Any, callback: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.callback = callback

    def __getattr__(self, name: str) -> Any:
        if name in ("loader", "callback"):  # not set yet (e.g. during copy): no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        create: Any = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # from here on the module shows its real loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        try:
            self.callback(module)
        except Exception as exc:  # noqa: BLE001 - never break the user's import
            sys.stderr.write(f"mycon: set-up after importing {module.__name__} failed: {type(exc).__name__}: {exc}\n")
