"""GUI event loops run by the kernel while it waits for requests (``%gui``, ``%matplotlib tk``).

While a toolkit's loop is on, the kernel does not block on its socket between requests: it runs
the toolkit's event loop until a request arrives (the toolkit watches the socket's descriptor),
so windows that cells opened respond, and the kernel still answers at once. The same idea as
ipykernel's event loops, written for this kernel. Imported only when ``%gui`` or a GUI
``%matplotlib`` backend asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..execution.tracebacks import CellError

# names %gui accepts for each loop here; others IPython knows are refused in one line
TK_NAMES = ("tk",)
QT_NAMES = ("qt", "qt5", "qt6")
NOT_HERE = ("gtk", "gtk3", "gtk4", "wx", "osx", "glut", "pyglet")
QT_BINDINGS = ("PyQt6", "PySide6", "PyQt5", "PySide2")


class TkLoop:
    """Tk's event loop (a hidden root window of our own; Tcl serves every window of the thread)."""

    name = "tk"

    def __init__(self) -> None:
        try:
            import tkinter
        except ImportError:
            raise CellError("%gui tk: tkinter is not available (install python3-tk)") from None
        try:
            self.root = tkinter.Tk()
        except tkinter.TclError as exc:
            raise CellError(f"%gui tk: cannot open a window ({exc}); is DISPLAY set?") from None
        self.root.withdraw()
        self._readable = tkinter.READABLE

    def run_until_readable(self, fd: int, ready: Callable[[], bool], limit: float) -> None:
        """Run Tk's loop until ``ready()`` (checked when ``fd`` becomes readable) or ``limit``
        seconds pass."""
        if ready():
            return
        root = self.root

        def check(*_: Any) -> None:
            if ready():
                root.quit()

        root.tk.createfilehandler(fd, self._readable, check)
        timer = root.after(max(1, int(limit * 1000)), root.quit)
        try:
            root.after_idle(check)  # a request may have come before the handler was made
            root.mainloop()
        finally:
            root.after_cancel(timer)
            root.tk.deletefilehandler(fd)

    def close(self) -> None:
        try:
            self.root.destroy()
        except Exception:  # noqa: BLE001 - the window may be gone already
            pass


class QtLoop:
    """Qt's event loop (PyQt6, PySide6, PyQt5 or PySide2, the first installed)."""

    name = "qt"

    def __init__(self) -> None:
        for binding in QT_BINDINGS:
            try:
                core = __import__(f"{binding}.QtCore", fromlist=["QtCore"])
                widgets = __import__(f"{binding}.QtWidgets", fromlist=["QtWidgets"])
            except ImportError:
                continue
            break
        else:
            raise CellError("%gui qt: no Qt binding is installed (pip install PyQt6 or PySide6)")
        self.core = core
        self.app = widgets.QApplication.instance() or widgets.QApplication([])
        self.app.setQuitOnLastWindowClosed(False)

    def run_until_readable(self, fd: int, ready: Callable[[], bool], limit: float) -> None:
        if ready():
            return
        core = self.core
        loop = core.QEventLoop()
        read = getattr(core.QSocketNotifier, "Read", None) or core.QSocketNotifier.Type.Read
        notifier = core.QSocketNotifier(fd, read)
        notifier.activated.connect(lambda *_: loop.quit() if ready() else None)
        core.QTimer.singleShot(max(1, int(limit * 1000)), loop.quit)
        try:
            if not ready():
                run = getattr(loop, "exec", None) or loop.exec_  # exec_ in PyQt5 / PySide2
                run()
        finally:
            notifier.setEnabled(False)

    def close(self) -> None:
        pass


def enable(shell: Any, name: str) -> str:
    """Run the toolkit ``name``'s loop between requests (``""``: none); returns what is on."""
    name = name.strip().lower()
    current = getattr(shell, "gui_loop", None)
    if not name:
        if current is not None:
            current.close()
        shell.gui_loop = None
        return ""
    if name in TK_NAMES:
        kind: Any = TkLoop
    elif name in QT_NAMES:
        kind = QtLoop
    elif name in NOT_HERE:
        raise CellError(f"%gui {name}: this kernel integrates tk and qt only")
    else:
        raise CellError(f"%gui: unknown toolkit {name!r} (use tk or qt; %gui alone turns it off)")
    if current is not None and current.name == kind.name:
        return current.name
    if current is not None:
        current.close()
        shell.gui_loop = None
    shell.gui_loop = kind()
    return kind.name


# what IPython's enable_gui is given for backends that need no event loop (matplotlib passes
# these when its backend changes)
NO_LOOP = ("", "none", "inline", "agg", "nbagg", "notebook", "webagg", "widget", "ipympl")


def enable_gui(shell: Any, name: str | None = None) -> None:
    """IPython's ``shell.enable_gui(name)`` (matplotlib calls it when its backend changes, with
    ``get_ipython()``): a toolkit's loop for tk or qt, none for the others."""
    name = (name or "").strip().lower()
    enable(shell, "" if name in NO_LOOP else name)


def terminal_command(connection_file: str) -> list[str] | None:
    """The command opening ``mycon --existing FILE`` in a new terminal, if one can be opened:
    a new tmux window when the kernel runs inside tmux, else $TERMINAL or
    x-terminal-emulator (with a display)."""
    import shutil

    console = ["mycon", "--existing", connection_file]
    if os.environ.get("TMUX") and shutil.which("tmux"):
        return ["tmux", "new-window", " ".join(_quoted(part) for part in console)]
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    for terminal in (os.environ.get("TERMINAL"), "x-terminal-emulator"):
        if terminal and shutil.which(terminal):
            return [terminal, "-e", *console]
    return None


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)
