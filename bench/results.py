"""The rows of the report: what each figure means, its target, and the table that shows them.

A benchmark run produces, per row and per role (ours, reference, xeus, floor), either samples or
the reason it could not measure. "xeus" is xeus-python, the C++ kernel, when it is installed: a
second reference for the kernel rows, with targets of its own (``Row.xeus_target``). This module turns them into statistics, ratios and a verdict; it
does no measuring itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ROLES = ("ours", "reference", "xeus", "floor")
COLUMN_NAMES = {"ours": "ours", "reference": "reference", "xeus": "xeus-python", "floor": "floor"}


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0..100) by linear interpolation between closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Target:
    """A goal for one row: a ratio ours/reference, or an absolute bound on ours."""

    kind: str  # "ratio": ours/reference <= bound; "below": ours < bound; "atleast": ours >= bound
    bound: float
    text: str

    def met(self, ours: float | None, ratio: float | None) -> bool | None:
        if self.kind == "ratio":
            return None if ratio is None else ratio <= self.bound
        if ours is None:
            return None
        return ours < self.bound if self.kind == "below" else ours >= self.bound


def ratio_at_most(bound: float) -> Target:
    return Target("ratio", bound, f"<= {bound:g}")


def times_faster(factor: float) -> Target:
    return Target("ratio", 1.0 / factor, f">= {factor:g}x faster")


def below(bound: float, text: str) -> Target:
    return Target("below", bound, text)


def every_time() -> Target:
    return Target("atleast", 1.0, "all")


@dataclass(frozen=True)
class Row:
    """One line of the table: which samples it reads and how it sums them up."""

    key: str
    label: str
    unit: str  # "s", "bytes", "count" (of successes) or "share" (a fraction shown in %)
    stat: str  # "median", "p90", "p99", "first" (median of first calls) or "share"
    target: Target | None = None
    xeus_target: Target | None = None  # ours against xeus-python, where it ran

    def summarize(self, samples: Sequence[float]) -> float:
        if self.stat == "p99":
            return percentile(samples, 99)
        if self.stat == "p90":
            return percentile(samples, 90)
        if self.stat == "share":
            return sum(samples) / len(samples)
        return percentile(samples, 50)


@dataclass
class Cell:
    """What one role got for one row: samples, or the reason there are none."""

    samples: list[float] = field(default_factory=list)
    failure: str = ""

    def value(self, row: Row) -> float | None:
        if self.failure or not self.samples:
            return None
        return row.summarize(self.samples)


class Results:
    """Samples and failures collected during a run, keyed by (row key, role)."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = list(rows)
        self.cells: dict[tuple[str, str], Cell] = {}
        self.notes: list[str] = []

    def cell(self, key: str, role: str) -> Cell:
        return self.cells.setdefault((key, role), Cell())

    def add(self, key: str, role: str, values: Sequence[float]) -> None:
        cell = self.cell(key, role)
        if not cell.failure:
            cell.samples.extend(values)

    def fail(self, keys: Sequence[str], role: str, reason: str) -> None:
        for key in keys:
            cell = self.cell(key, role)
            cell.failure = cell.failure or reason

    def measured_rows(self) -> list[Row]:
        return [row for row in self.rows if any((row.key, role) in self.cells for role in ROLES)]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": [], "notes": self.notes}
        for row in self.measured_rows():
            entry: dict[str, Any] = {"key": row.key, "label": row.label, "unit": row.unit,
                                     "stat": row.stat}
            for role in ROLES:
                cell = self.cells.get((row.key, role))
                if cell is None:
                    continue
                entry[role] = {"value": cell.value(row), "n": len(cell.samples),
                               "failure": cell.failure or None}
            entry["ratio"], entry["met"] = self.verdict(row)
            entry["target"] = row.target.text if row.target else None
            if (row.key, "xeus") in self.cells:
                entry["ratio_xeus"], entry["met_xeus"] = self.verdict(row, "xeus")
                entry["target_xeus"] = row.xeus_target.text if row.xeus_target else None
            out["rows"].append(entry)
        return out

    def verdict(self, row: Row, against: str = "reference") -> tuple[float | None, bool | None]:
        """ours/``against`` and whether the row's target for that side is met.

        Against xeus-python, a side whose output was wrong (it lost printed lines) loses the
        row: there is no ratio, and the target counts as met when ours was right.
        """
        target = row.target if against == "reference" else row.xeus_target
        ours = self._value(row, "ours")
        other = self._value(row, against)
        ratio = ours / other if ours is not None and other else None
        if target is None:
            return ratio, None
        cell = self.cells.get((row.key, against))
        if against != "reference" and ours is not None and cell is not None and "OUTPUT WRONG" in cell.failure:
            return None, True
        return ratio, target.met(ours, ratio)

    def _value(self, row: Row, role: str) -> float | None:
        cell = self.cells.get((row.key, role))
        return cell.value(row) if cell else None

    def table(self) -> str:
        """The report as a Markdown table (readable in a terminal, pasteable in an issue).

        The xeus-python columns (its figure, ours/xeus, its target, met?) appear only when
        xeus-python was measured.
        """
        rows = self.measured_rows()
        with_xeus = any((row.key, "xeus") in self.cells for row in rows)
        roles = [role for role in ROLES if role != "xeus" or with_xeus]
        header = ["metric", *(COLUMN_NAMES[role] for role in roles), "ours/ref", "target", "met?"]
        if with_xeus:
            header += ["ours/xeus", "target vs xeus", "met?"]
        lines = [header]
        for row in rows:
            line = [row.label]
            for role in roles:
                line.append(_show_cell(row, self.cells.get((row.key, role))))
            line += _verdict_cells(row.target, *self.verdict(row))
            if with_xeus and (row.key, "xeus") in self.cells:
                line += _verdict_cells(row.xeus_target, *self.verdict(row, "xeus"))
            elif with_xeus:
                line += ["", "", ""]  # a console row: xeus-python has no console
            lines.append(line)
        failures: list[str] = []
        for line in lines[1:]:
            for i in range(1, len(roles) + 1):
                if line[i].startswith("failed: "):
                    reason = line[i][len("failed: "):]
                    if reason not in failures:
                        failures.append(reason)
                    line[i] = f"failed [{failures.index(reason) + 1}]"
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = []
        for n, line in enumerate(lines):
            text.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
            if n == 0:
                text.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        text.extend(f"[{n}] failed: {reason}" for n, reason in enumerate(failures, 1))
        return "\n".join(text)


def _verdict_cells(target: Target | None, ratio: float | None, met: bool | None) -> list[str]:
    """The ratio, target and met? cells of one comparison."""
    shown_ratio = "-" if ratio is None else f"{ratio:.3g}"
    if target is None:
        return [shown_ratio, "", ""]
    return [shown_ratio, target.text, {True: "yes", False: "NO", None: "-"}[met]]


def _show_cell(row: Row, cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.failure:
        return f"failed: {cell.failure}"
    value = cell.value(row)
    if value is None:
        return "no data"
    return format_value(value, row.unit, len(cell.samples) if row.stat == "share" else None)


def format_value(value: float, unit: str, count: int | None = None) -> str:
    """A figure in a unit a person reads at a glance (ms, s, MB, share)."""
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "bytes":
        return f"{value / 1e6:.1f} MB"
    if unit == "count":
        if count is not None:
            return f"{round(value * count)}/{count}"
        return f"{value:g}"
    if value < 0.01:
        return f"{value * 1e3:.2f} ms"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"
