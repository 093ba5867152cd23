"""Persistent input/output history: an SQLite file shared by all kernels of one user.

Each kernel start is one session. The shell thread only queues entries (cheap); a background
writer thread owns the database connection, commits queued entries in batches and runs the
queries of ``history_request`` (so a query sees every earlier entry). Entries are committed
once no new one came for ``WRITE_DELAY`` (at the latest ``WRITE_DELAY_MAX`` after the first): a
burst of cells costs one commit, made after the burst, not one each during it (a kernel killed
with SIGKILL loses at most that moment; a normal exit, a query or ``flush`` commits at once).
Several kernels may write the same file at once: WAL journal, a busy timeout and retries, no
lost rows.

A database that cannot be opened or written (corrupt, read-only, full disk) gives one warning
and the store carries on with an in-memory database holding this session's entries.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..threads import start_helper

DB_NAME = "history.sqlite"
QUERY_TIMEOUT = 10.0  # seconds a history query waits for the writer
CLOSE_TIMEOUT = 3.0  # seconds the exit flush may take
BUSY_TIMEOUT_MS = 5000
RETRIES = 8
WRITE_DELAY = 0.05  # seconds without a new entry before the queued ones are committed
WRITE_DELAY_MAX = 2.0  # seconds queued entries wait at most while new ones keep coming

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions ("
    " session INTEGER PRIMARY KEY AUTOINCREMENT, start TEXT, end TEXT, kernel TEXT)",
    "CREATE TABLE IF NOT EXISTS history ("
    " session INTEGER, line INTEGER, source TEXT, source_raw TEXT, PRIMARY KEY (session, line))",
    "CREATE TABLE IF NOT EXISTS output_history ("
    " session INTEGER, line INTEGER, output TEXT, PRIMARY KEY (session, line))",
)


def data_dir() -> Path:
    """The user's data directory for mycon."""
    explicit = os.environ.get("MYCON_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "mycon"


def default_path() -> Path:
    """Where the history database lives."""
    return data_dir() / DB_NAME


def _yield_to_other_threads() -> None:
    """Give the writer thread the lowest priority (Linux, where a thread has its own nice
    value): its commits then run in the machine's slack instead of delaying the next reply
    (measured: the p99 of 2,000 ``pass`` round trips 0.56-0.58 -> 0.43-0.50 ms)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


class _Job:
    """A query (or a flush marker) run by the writer thread, with its result."""

    def __init__(self, func: Callable[[Any], Any] | None) -> None:
        self.func = func
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class HistoryStore:
    """The history of this kernel's session, and access to earlier ones."""

    def __init__(self, path: str | os.PathLike[str] | None, kernel_id: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.kernel_id = kernel_id
        self.session = 0  # known once the database is open
        self.inputs: dict[int, tuple[str, str]] = {}  # this session: line -> (source, raw)
        self.outputs: dict[int, str] = {}
        self.warnings: list[str] = []  # for the user, taken by whoever can show them
        self._pending: deque[Any] = deque()
        # re-entrant: close() may run in a signal handler that interrupted _submit
        self._cond = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._db: Any = None
        self._in_memory = False
        self._closing = False
        self._job_waiting = False  # a query or flush is queued: commit without waiting
        self._submitted = 0  # entries and jobs queued so far (the writer sees whether more came)
        self._started = time.strftime("%Y-%m-%dT%H:%M:%S")

    # ----- the shell thread's side -------------------------------------------------------------

    def store_input(self, line: int, source: str, raw: str) -> None:
        """Queue one executed input (transformed and as typed)."""
        self.inputs[line] = (source, raw)
        self._submit(("input", line, source, raw))

    def store_output(self, line: int, text: str) -> None:
        """Queue the text/plain result of one input."""
        self.outputs[line] = text
        self._submit(("output", line, text))

    def take_warnings(self) -> list[str]:
        """Warnings not shown yet (the caller shows them to the user)."""
        taken, self.warnings = self.warnings, []
        return taken

    def flush(self, timeout: float = QUERY_TIMEOUT) -> bool:
        """Wait until everything queued so far is committed; False on timeout."""
        return self._call(None, timeout) is not _TIMEOUT

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Commit what is queued, mark the session ended, stop the writer (at kernel exit)."""
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        self._call(self._end_session, timeout)
        with self._cond:
            self._closing = True
            self._cond.notify()
        thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            if not thread.is_alive():  # a later entry starts a new writer on the same session
                self._thread = None
                self._closing = False

    def _submit(self, item: Any) -> None:
        with self._cond:
            # wake the writer for a first entry or a job; later entries join the waiting batch
            if not self._pending or isinstance(item, _Job):
                self._cond.notify()
            if isinstance(item, _Job):
                self._job_waiting = True
            self._pending.append(item)
            self._submitted += 1
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._thread = start_helper(self._serve, name="mycon-history")

    def _call(self, func: Callable[[Any], Any] | None, timeout: float) -> Any:
        """Run ``func(connection)`` on the writer thread after all queued writes."""
        job = _Job(func)
        self._submit(job)
        if not job.done.wait(timeout):
            self._warn(f"history: the database did not answer within {timeout:g} s")
            return _TIMEOUT
        if job.error is not None:
            raise job.error
        return job.result

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        try:
            from ..log import log

            log(message)
        except Exception:  # noqa: BLE001 - a warning must never fail
            pass

    # ----- the writer thread -----------------------------------------------------------------

    def _serve(self) -> None:
        try:
            import signal

            if hasattr(signal, "pthread_sigmask"):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        except (ImportError, ValueError, OSError):
            pass
        _yield_to_other_threads()
        if self._db is None:
            try:
                self._open()
            except Exception as exc:  # noqa: BLE001 - e.g. no sqlite3 module at all
                self._warn(f"history: unavailable ({type(exc).__name__}: {exc})")
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending and self._closing:
                    return
                self._wait_for_a_pause()
                batch = list(self._pending)
                self._pending.clear()
                self._job_waiting = False
            self._process(batch)

    def _wait_for_a_pause(self) -> None:
        """Hold the queued entries (the lock is held) until none came for ``WRITE_DELAY``, a
        job or the close asks for them, or ``WRITE_DELAY_MAX`` passed."""
        latest = time.monotonic() + WRITE_DELAY_MAX
        while True:
            queued = self._submitted
            if self._cond.wait_for(lambda: self._closing or self._job_waiting, WRITE_DELAY):
                return
            if self._submitted == queued or time.monotonic() >= latest:
                return

    def _process(self, batch: list[Any]) -> None:
        writes = [item for item in batch if isinstance(item, tuple)]
        try:
            if writes:
                self._write(writes)
        except Exception as exc:  # noqa: BLE001 - the writer thread must not die
            self._warn(f"history: could not store {len(writes)} entries: {type(exc).__name__}: {exc}")
        for item in batch:
            if isinstance(item, _Job):
                try:
                    if item.func is not None:
                        item.result = item.func(self._db)
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    item.error = exc
                item.done.set()

    def _open(self) -> None:
        import sqlite3

        if self.path is None:
            self._open_memory()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():  # inputs may hold secrets: only the user may read them
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                check_same_thread=False,
            )
            self._retry(lambda: self._prepare(db, wal=True))
            self._db = db
            self.session = self._retry(lambda: self._new_session(db))
        except (OSError, sqlite3.Error) as exc:
            self._fall_back(exc)

    def _open_memory(self) -> None:
        import sqlite3

        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._prepare(db, wal=False)
        self._db = db
        self._in_memory = True
        if self.session:
            db.execute("INSERT INTO sessions (session, start, kernel) VALUES (?, ?, ?)",
                       (self.session, self._started, self.kernel_id))
        else:
            self.session = self._new_session(db)

    def _fall_back(self, exc: BaseException) -> None:
        """Carry on in memory after the file failed; keep this session's entries."""
        where = str(self.path) if self.path is not None else "the history database"
        self._warn(
            f"history: cannot use {where} ({type(exc).__name__}: {exc}); this session's history "
            "is kept in memory only. Move the file away to start a new one."
        )
        try:
            if self._db is not None:
                self._db.close()
        except Exception:  # noqa: BLE001
            pass
        self._db = None
        self._open_memory()
        rows = [(self.session, line, src, raw) for line, (src, raw) in sorted(self.inputs.items())]
        self._db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", rows)
        outs = [(self.session, line, text) for line, text in sorted(self.outputs.items())]
        self._db.executemany("INSERT OR REPLACE INTO output_history VALUES (?, ?, ?)", outs)

    @staticmethod
    def _prepare(db: Any, wal: bool) -> None:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if wal:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode and str(mode[0]).lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        for statement in SCHEMA:
            db.execute(statement)

    def _new_session(self, db: Any) -> int:
        cursor = db.execute(
            "INSERT INTO sessions (start, kernel) VALUES (?, ?)", (self._started, self.kernel_id)
        )
        return int(cursor.lastrowid)

    def _retry(self, action: Callable[[], Any]) -> Any:
        """Run ``action``; retry while another process holds the lock."""
        import sqlite3

        delay = 0.02
        for attempt in range(RETRIES + 1):
            try:
                return action()
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if attempt == RETRIES or ("locked" not in message and "busy" not in message):
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        return None

    def _write(self, writes: list[tuple[Any, ...]]) -> None:
        import sqlite3

        inputs = [(self.session, w[1], w[2], w[3]) for w in writes if w[0] == "input"]
        outputs = [(self.session, w[1], w[2]) for w in writes if w[0] == "output"]

        def commit() -> None:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", inputs)
                db.executemany("INSERT OR REPLACE INTO output_history VALUES (?, ?, ?)", outputs)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        try:
            self._retry(commit)
        except sqlite3.Error as exc:
            if self._in_memory:
                self._warn(f"history: in-memory store failed: {exc}")
                return
            self._fall_back(exc)  # re-inserts every entry of this session, these included

    def _end_session(self, db: Any) -> None:
        if db is not None:
            db.execute(
                "UPDATE sessions SET end = ? WHERE session = ?",
                (time.strftime("%Y-%m-%dT%H:%M:%S"), self.session),
            )

    # ----- queries ---------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        def run(db: Any) -> list[tuple[Any, ...]]:
            import sqlite3

            if db is None:  # the file could not be opened at all
                self._open_memory()
                db = self._db
            try:
                return list(db.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                if self._in_memory:
                    raise
                self._fall_back(exc)  # the file went bad: answer from memory from now on
                return list(self._db.execute(sql, params).fetchall())

        result = self._call(run, QUERY_TIMEOUT)
        if result is _TIMEOUT:
            return []  # warned; an answer from a partial store could mislead
        rows: list[tuple[Any, ...]] = result
        return rows

    _SELECT = (
        "SELECT h.session, h.line, h.source, h.source_raw, o.output FROM history AS h "
        "LEFT JOIN output_history AS o ON o.session = h.session AND o.line = h.line "
    )

    def current_session(self) -> int:
        """This kernel's session number (opens the database if needed)."""
        self.flush()
        return self.session

    def tail(self, n: int = 10, raw: bool = True, output: bool = False) -> list[list[Any]]:
        """The last ``n`` inputs over all sessions, oldest first."""
        rows = self._query(
            self._SELECT + "ORDER BY h.session DESC, h.line DESC LIMIT ?", (max(0, n),)
        )
        return self._entries(reversed(rows), raw, output)

    def range(
        self, session: int = 0, start: int = 1, stop: int | None = None,
        raw: bool = True, output: bool = False,
    ) -> list[list[Any]]:
        """Lines ``start <= line < stop`` of a session (0: this one; negative: counting back)."""
        current = self.current_session()
        if session <= 0:
            session += current
        if stop is None or stop <= 0:
            rows = self._query(
                self._SELECT + "WHERE h.session = ? AND h.line >= ? ORDER BY h.line",
                (session, start),
            )
        else:
            rows = self._query(
                self._SELECT + "WHERE h.session = ? AND h.line >= ? AND h.line < ? ORDER BY h.line",
                (session, start, stop),
            )
        return self._entries(rows, raw, output)

    def search(
        self, pattern: str = "*", raw: bool = True, output: bool = False,
        n: int | None = None, unique: bool = False,
    ) -> list[list[Any]]:
        """Inputs (as typed) matching a glob pattern, oldest first; the last ``n`` of them."""
        rows = self._query(
            self._SELECT + "WHERE h.source_raw GLOB ? ORDER BY h.session, h.line", (pattern,)
        )
        if unique:
            seen: set[str] = set()
            kept = []
            for row in reversed(rows):
                if row[3] not in seen:
                    seen.add(row[3])
                    kept.append(row)
            rows = kept[::-1]
        if n is not None and n >= 0:
            rows = rows[len(rows) - n :] if n else []
        return self._entries(rows, raw, output)

    @staticmethod
    def _entries(rows: Any, raw: bool, output: bool) -> list[list[Any]]:
        entries = []
        for session, line, source, source_raw, out in rows:
            text = source_raw if raw else source
            entries.append([session, line, [text, out] if output else text])
        return entries

    # ----- the protocol ----------------------------------------------------------------------

    def reply(self, content: dict[str, Any]) -> dict[str, Any]:
        """The ``history_reply`` content for a ``history_request``."""
        try:
            history = self._answer(content)
        except (TypeError, ValueError) as exc:
            return {
                "status": "error", "ename": type(exc).__name__, "evalue": str(exc),
                "traceback": [], "history": [],
            }
        return {"status": "ok", "history": history}

    def _answer(self, content: dict[str, Any]) -> list[list[Any]]:
        access = content.get("hist_access_type", "range")
        raw = bool(content.get("raw", True))
        output = bool(content.get("output", False))
        if access == "tail":
            return self.tail(_int(content, "n", 10), raw, output)
        if access == "range":
            stop = content.get("stop")
            return self.range(
                _int(content, "session", 0), _int(content, "start", 1),
                None if stop is None else _int(content, "stop", 0), raw, output,
            )
        if access == "search":
            pattern = content.get("pattern") or "*"
            if not isinstance(pattern, str):
                raise TypeError("history_request: pattern must be a string")
            n = content.get("n")
            return self.search(
                pattern, raw, output, None if n is None else _int(content, "n", 0),
                bool(content.get("unique", False)),
            )
        raise ValueError(f"history_request: unknown hist_access_type {access!r}")


def _int(content: dict[str, Any], key: str, default: int) -> int:
    value = content.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"history_request: {key} must be an integer, not {value!r}")
    return value


_TIMEOUT = object()
