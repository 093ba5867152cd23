"""The console's own cells and their outputs, kept so the session can be saved as a notebook.

``NotebookRecorder`` turns the iopub messages of each cell this console ran into nbformat 4
outputs, as a notebook front end would show them: streams merged and kept as finally shown
(``console.notebook_text``), displays updated by id, ``clear_output`` honoured, ``obj?`` help
(a ``page`` payload of the reply) kept as an output, and a restart of the kernel marked.
``notebook_json`` writes the whole as an ``.ipynb`` document. Pure data in, data out: the file is
written by ``save_notebook``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.notebook_text import NotebookStreamText

RESTART_MARK = "*Kernel restarted*"  # the markdown cell between the cells of two kernel runs

Output = dict[str, Any]


@dataclass
class RecordedCell:
    """One cell of this console: its code, its count and its outputs, as nbformat has them."""

    code: str
    execution_count: int | None = None
    outputs: list[Output] = field(default_factory=list)
    clear_pending: bool = False  # clear_output(wait=True): clear at the next output
    after_restart: bool = False  # the first cell run after a kernel restart


def _lines(text: str) -> list[str]:
    """Text as nbformat's list of lines (each keeps its newline)."""
    return text.splitlines(keepends=True)


def _bundle(data: Any) -> dict[str, Any]:
    """A mime bundle as nbformat keeps it: text types as lists of lines, JSON types as is."""
    if not isinstance(data, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for mime, value in data.items():
        if isinstance(value, str) and not mime.endswith("json"):
            kept[str(mime)] = _lines(value)
        else:
            kept[str(mime)] = value
    return kept


class NotebookRecorder:
    """Collects this console's cells while they run (other clients' cells are not kept)."""

    def __init__(self) -> None:
        self._cells: list[RecordedCell] = []
        self._current: RecordedCell | None = None
        self._displays: dict[str, list[Output]] = {}  # display_id -> outputs showing it
        self._stream: tuple[Output, NotebookStreamText] | None = None  # the last stream output
        self._restarted = False  # the kernel restarted after the last cell kept

    @property
    def cells(self) -> list[RecordedCell]:
        """The cells so far, the text of their streams up to date."""
        self._sync_stream()
        return self._cells

    def _sync_stream(self) -> None:
        """Put the last stream's shown text into its output (rendered when asked, not at every
        message: a cell printing dot after dot stays cheap)."""
        if self._stream is not None:
            output, shown = self._stream
            output["text"] = shown.shown_lines()

    def begin(self, code: str) -> None:
        """A cell of ours was sent to the kernel."""
        self._current = RecordedCell(code, after_restart=self._restarted)
        self._restarted = False
        self._cells.append(self._current)

    def restarted(self) -> None:
        """The kernel restarted (ours or another client's restart, or a revival): the next cell
        starts a new run. Several signs of one restart, or one before any cell, mark nothing more."""
        self._restarted = bool(self._cells)

    def end(self, status: str, execution_count: int | None, payloads: object = ()) -> None:
        """The cell finished; one the kernel skipped (``aborted``) never ran and is dropped.

        ``payloads`` are the reply's: the first ``page`` one (``obj?``, ``obj??``, ``%pdoc``...)
        becomes a display output, as JupyterLab adds it to the cell (nbclient keeps no payload;
        a terminal shows it in its pager, but saved, help would otherwise be lost).
        """
        cell, self._current = self._current, None
        if cell is None:
            return
        if status == "aborted" and not cell.outputs:
            self._cells.remove(cell)
            self._restarted = self._restarted or cell.after_restart
            return
        cell.execution_count = execution_count
        if status != "ok" or not isinstance(payloads, (list, tuple)):
            return
        pages = [p for p in payloads if isinstance(p, Mapping) and p.get("source") == "page"]
        if pages:
            cell.outputs.append({"output_type": "display_data", "data": _bundle(pages[0].get("data")), "metadata": {}})

    def output(self, msg: Mapping[str, Any]) -> None:
        """One iopub message of the running cell."""
        cell = self._current
        if cell is None:
            return
        msg_type = (msg.get("header") or {}).get("msg_type")
        content = msg.get("content") or {}
        if not isinstance(content, Mapping):
            return
        if msg_type == "execute_input":
            count = content.get("execution_count")
            if isinstance(count, int):
                cell.execution_count = count
            return
        if msg_type == "clear_output":
            if content.get("wait"):
                cell.clear_pending = True
            else:
                cell.outputs.clear()
            return
        if msg_type == "update_display_data":
            self._update_display(content)
            return
        output = self._convert(str(msg_type), content)
        if output is None:
            return
        if cell.clear_pending:
            cell.outputs.clear()
            cell.clear_pending = False
        if output["output_type"] == "stream":
            text = str(content.get("text", ""))
            last = self._stream
            if last is not None and cell.outputs and cell.outputs[-1] is last[0] and last[0]["name"] == output["name"]:
                last[1].feed(text)
                return
            self._sync_stream()  # the stream before this one is final
            shown = NotebookStreamText()
            shown.feed(text)
            self._stream = (output, shown)
        cell.outputs.append(output)
        transient = content.get("transient")
        display_id = transient.get("display_id") if isinstance(transient, Mapping) else None
        if isinstance(display_id, str):
            self._displays.setdefault(display_id, []).append(output)

    def _update_display(self, content: Mapping[str, Any]) -> None:
        transient = content.get("transient")
        display_id = transient.get("display_id") if isinstance(transient, Mapping) else None
        for output in self._displays.get(str(display_id), []):
            output["data"] = _bundle(content.get("data"))
            metadata = content.get("metadata")
            output["metadata"] = dict(metadata) if isinstance(metadata, Mapping) else {}

    @staticmethod
    def _convert(msg_type: str, content: Mapping[str, Any]) -> Output | None:
        metadata = content.get("metadata")
        meta = dict(metadata) if isinstance(metadata, Mapping) else {}
        if msg_type == "stream":
            name = content.get("name")
            return {"output_type": "stream", "name": name if name in ("stdout", "stderr") else "stdout", "text": []}
        if msg_type == "display_data":
            return {"output_type": "display_data", "data": _bundle(content.get("data")), "metadata": meta}
        if msg_type == "execute_result":
            count = content.get("execution_count")
            return {"output_type": "execute_result", "execution_count": count if isinstance(count, int) else None,
                    "data": _bundle(content.get("data")), "metadata": meta}
        if msg_type == "error":
            traceback = content.get("traceback")
            return {"output_type": "error", "ename": str(content.get("ename", "")),
                    "evalue": str(content.get("evalue", "")),
                    "traceback": [str(line) for line in traceback] if isinstance(traceback, list) else []}
        return None


def notebook_json(cells: list[RecordedCell], kernel_name: str, kernel_info: Mapping[str, Any]) -> dict[str, Any]:
    """An nbformat 4.5 document of ``cells``, with the kernel's name and language."""
    language_info = kernel_info.get("language_info")
    language_info = dict(language_info) if isinstance(language_info, Mapping) else {}
    language = str(language_info.get("name") or "")
    metadata: dict[str, Any] = {"language_info": language_info} if language_info else {}
    if kernel_name:
        metadata["kernelspec"] = {"name": kernel_name, "display_name": kernel_name, "language": language}
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": metadata,
        "cells": [document_cell for cell in cells for document_cell in _document_cells(cell)],
    }


def _document_cells(cell: RecordedCell) -> list[dict[str, Any]]:
    """The notebook cells of one recorded cell: its code cell, after a restart mark if it has one."""
    code: dict[str, Any] = {
        "cell_type": "code",
        "id": uuid.uuid4().hex[:8],
        "execution_count": cell.execution_count,
        "metadata": {},
        "source": _lines(cell.code),
        # a stream of nothing but screen control shows nothing, and is not kept
        "outputs": [output for output in cell.outputs if output["output_type"] != "stream" or output["text"]],
    }
    if not cell.after_restart:
        return [code]
    mark = {"cell_type": "markdown", "id": uuid.uuid4().hex[:8], "metadata": {}, "source": [RESTART_MARK]}
    return [mark, code]


def save_notebook(path: str, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` (through a temporary file: never half a notebook)."""
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:6]}.tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(temporary, path)
