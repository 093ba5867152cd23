"""The matplotlib backend of the kernel: figures are drawn with Agg and shown as PNG output.

matplotlib loads it as ``module://kernel.mpl_backend`` (chosen by ``kernel.display`` when user
code imports matplotlib). ``plt.show()`` displays every open figure and closes it; at the end of
a cell, figures the cell left open are displayed the same way (``flush_figures``).
"""

from __future__ import annotations

from typing import Any

import matplotlib
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import api as _display

_display.ensure_figure_repr(Figure)


def _show_figure(figure: Any) -> None:
    if _display.figure_has_content(figure):
        _display.display(figure)


class FigureManager(FigureManagerBase):
    """A figure manager whose ``show()`` (``fig.show()``) displays the figure in the output."""

    def show(self) -> None:
        _show_figure(self.canvas.figure)


class FigureCanvas(FigureCanvasAgg):
    """The Agg canvas, managed by :class:`FigureManager`."""

    manager_class = FigureManager  # type: ignore[assignment]


def show(*args: Any, block: bool | None = None, close: bool = True, **kwargs: Any) -> None:
    """``plt.show()``: display all open figures (in creation order), then close them."""
    managers = Gcf.get_all_fig_managers()
    try:
        for manager in managers:
            _show_figure(manager.canvas.figure)
    finally:
        if close:
            for manager in managers:
                Gcf.destroy(manager)


def _is_current_backend() -> bool:
    try:
        return str(matplotlib.get_backend()) == _display.MPL_BACKEND
    except Exception:  # noqa: BLE001
        return False


def flush_figures() -> None:
    """After a cell: display the figures it left open and not shown yet, then close them all."""
    if not _is_current_backend():
        return
    managers = Gcf.get_all_fig_managers()
    try:
        for manager in managers:
            figure = manager.canvas.figure
            if _display.figure_needs_showing(figure):
                _show_figure(figure)
    finally:
        for manager in managers:
            Gcf.destroy(manager)
