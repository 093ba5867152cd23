"""The history store: sessions, access types, concurrent writers, broken files; then end to end."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_harness import execute, request, running_kernel, stdout_of

from kernel.services.history import HistoryStore, data_dir, default_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite"


@pytest.fixture
def stores() -> Iterator[list[HistoryStore]]:
    opened: list[HistoryStore] = []
    yield opened
    for store in opened:
        store.close()


def _store(stores: list[HistoryStore], path: Path | None) -> HistoryStore:
    store = HistoryStore(path)
    stores.append(store)
    return store


def test_data_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MYCON_DATA_DIR", str(tmp_path / "m"))
    assert default_path() == tmp_path / "m" / "history.sqlite"
    monkeypatch.delenv("MYCON_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x" / "mycon"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert data_dir() == Path.home() / ".local" / "share" / "mycon"


def test_sessions_and_all_access_types(stores: list[HistoryStore], db_path: Path) -> None:
    first = _store(stores, db_path)
    first.store_input(1, "x = 1", "x = 1")
    first.store_input(2, "__mycon_magic__.line('time', 'x')", "%time x")
    first.store_output(2, "1")
    first.close()
    second = _store(stores, db_path)
    second.store_input(1, "print('é ✓')", "print('é ✓')")
    second.store_input(2, "x = 1", "x = 1")
    second.store_output(2, "None?")
    second.store_input(3, "y = 2", "y = 2")
    s1, s2 = first.session, second.current_session()
    assert s2 > s1 > 0
    assert db_path.stat().st_mode & 0o777 == 0o600

    assert second.reply({"hist_access_type": "tail", "n": 2}) == {
        "status": "ok", "history": [[s2, 2, "x = 1"], [s2, 3, "y = 2"]],
    }
    tail = second.tail(4, raw=True, output=True)
    assert tail == [
        [s1, 2, ["%time x", "1"]], [s2, 1, ["print('é ✓')", None]],
        [s2, 2, ["x = 1", "None?"]], [s2, 3, ["y = 2", None]],
    ]
    # range: 0 is this session, negative counts back, stop is exclusive
    assert second.range(0, 2, 3) == [[s2, 2, "x = 1"]]
    assert second.range(0, 1, None) == [[s2, 1, "print('é ✓')"], [s2, 2, "x = 1"], [s2, 3, "y = 2"]]
    assert second.range(s1 - s2, 1, None, raw=False) == [
        [s1, 1, "x = 1"], [s1, 2, "__mycon_magic__.line('time', 'x')"],
    ]
    reply = second.reply({"hist_access_type": "range", "session": -(s2 - s1), "start": 2, "stop": 3,
                          "raw": True, "output": True})
    assert reply["history"] == [[s1, 2, ["%time x", "1"]]]
    # search: glob over the typed input, across sessions; unique keeps the latest; n the last n
    assert second.search("x*") == [[s1, 1, "x = 1"], [s2, 2, "x = 1"]]
    assert second.search("x*", unique=True) == [[s2, 2, "x = 1"]]
    assert second.search("*", n=1) == [[s2, 3, "y = 2"]]
    assert second.search("%time*") == [[s1, 2, "%time x"]]
    assert second.reply({"hist_access_type": "search", "pattern": "*é*"})["history"] == [
        [s2, 1, "print('é ✓')"]
    ]


def test_bad_requests_get_an_error_reply(stores: list[HistoryStore], db_path: Path) -> None:
    store = _store(stores, db_path)
    assert store.reply({"hist_access_type": "sideways"})["status"] == "error"
    reply = store.reply({"hist_access_type": "tail", "n": "ten"})
    assert reply["status"] == "error" and "n must be an integer" in reply["evalue"]


def test_two_stores_writing_one_file_lose_nothing(stores: list[HistoryStore], db_path: Path) -> None:
    a = _store(stores, db_path)
    b = _store(stores, db_path)
    count = 300

    def write(store: HistoryStore, tag: str) -> None:
        for line in range(1, count + 1):
            store.store_input(line, f"{tag}{line}", f"{tag}{line}")
            if line % 3 == 0:
                store.store_output(line, str(line))
            if line % 50 == 0:
                store.flush()

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in ((a, "a"), (b, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert a.flush() and b.flush()
    assert a.session != b.session
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT session, COUNT(*) FROM history GROUP BY session").fetchall()
        outputs = db.execute("SELECT COUNT(*) FROM output_history").fetchone()[0]
    assert sorted(rows) == sorted([(a.session, count), (b.session, count)])
    assert outputs == 2 * (count // 3)
    assert len(a.range(0, 1, None)) == count


WRITER = """
import sys
from kernel.services.history import HistoryStore
store = HistoryStore(sys.argv[1])
for line in range(1, int(sys.argv[2]) + 1):
    store.store_input(line, "p%d" % line, "p%d" % line)
    if line % 20 == 0:
        store.flush()
store.close()
print(store.session)
"""


def test_several_processes_writing_at_once(db_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), "200"], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    sessions = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        sessions.append(int(out))
    assert len(set(sessions)) == 3
    with sqlite3.connect(db_path) as db:
        counts = dict(db.execute("SELECT session, COUNT(*) FROM history GROUP BY session").fetchall())
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert counts == {session: 200 for session in sessions}
    assert mode == "wal"


def test_corrupt_file_gives_a_warning_and_memory_history(stores: list[HistoryStore], db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not an sqlite database" * 100)
    store = _store(stores, db_path)
    store.store_input(1, "a = 1", "a = 1")
    store.store_input(2, "b = 2", "b = 2")
    assert store.tail(5) == [[store.session, 1, "a = 1"], [store.session, 2, "b = 2"]]
    warnings = store.take_warnings()
    assert len(warnings) == 1
    assert str(db_path) in warnings[0] and "in memory" in warnings[0]
    assert store.range(0, 2, 3) == [[store.session, 2, "b = 2"]]
    assert db_path.read_bytes().startswith(b"this is not")  # the user's file is left alone


def test_unusable_location_gives_memory_history(stores: list[HistoryStore], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # fails for root too, unlike a chmod
    store = _store(stores, blocker / "history.sqlite")
    store.store_input(1, "a", "a")
    assert store.search("*") == [[store.session, 1, "a"]]
    assert "in memory" in store.take_warnings()[0]


def test_file_corrupted_while_in_use_keeps_entries(stores: list[HistoryStore], db_path: Path) -> None:
    store = _store(stores, db_path)
    store.store_input(1, "one", "one")
    assert store.flush()
    store._call(lambda db: db.execute("DROP TABLE history"), 5)  # the file goes bad under us
    store.store_input(2, "two", "two")
    assert [e[2] for e in store.range(0, 1, None)] == ["one", "two"]
    assert store.take_warnings()


def test_file_failing_on_a_query_falls_back_too(stores: list[HistoryStore], db_path: Path) -> None:
    store = _store(stores, db_path)
    store.store_input(1, "one", "one")
    store.store_output(1, "1")
    assert store.flush()
    store._call(lambda db: db.execute("DROP TABLE output_history"), 5)
    assert store.tail(5, output=True) == [[store.session, 1, ["one", "1"]]]
    assert "in memory" in store.take_warnings()[0]


def test_no_path_means_memory_only(stores: list[HistoryStore]) -> None:
    store = _store(stores, None)
    store.store_input(1, "a", "a")
    assert store.tail(1) == [[store.session, 1, "a"]]
    assert store.take_warnings() == []


# ----- through a real kernel ------------------------------------------------------------------


def _history(kc: Any, **content: Any) -> list[Any]:
    reply, _ = request(kc, "history_request", content)
    assert reply["content"]["status"] == "ok"
    history: list[Any] = reply["content"]["history"]
    return history


def test_kernel_history_requests(kernel_client: Any) -> None:
    execute(kernel_client, "hist_a = 6 * 7")
    execute(kernel_client, "hist_a")
    execute(kernel_client, "%time hist_a")
    execute(kernel_client, "hidden = 1", silent=True)
    execute(kernel_client, "hidden2 = 1", store_history=False)
    tail = _history(kernel_client, hist_access_type="tail", n=3, raw=True, output=True)
    assert [entry[2] for entry in tail] == [["hist_a = 6 * 7", None], ["hist_a", "42"], ["%time hist_a", "42"]]
    session, line = tail[0][0], tail[0][1]
    assert _history(kernel_client, hist_access_type="range", session=session, start=line, stop=line + 1,
                    raw=True, output=False) == [[session, line, "hist_a = 6 * 7"]]
    assert _history(kernel_client, hist_access_type="range", session=0, start=line + 2, stop=line + 3,
                    raw=False, output=False) == [[session, line + 2, "__mycon_magic__.line('time', 'hist_a')"]]
    found = _history(kernel_client, hist_access_type="search", pattern="hist_a*", unique=True, n=5,
                     raw=True, output=False)
    assert [entry[2] for entry in found] == ["hist_a = 6 * 7", "hist_a"]
    reply, outputs = execute(kernel_client, "%history -n -l 2")
    assert stdout_of(outputs).splitlines() == [f"{line + 1:>4}: hist_a", f"{line + 2:>4}: %time hist_a"]


def test_kernel_with_a_corrupt_database_warns_and_keeps_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.sqlite").write_bytes(b"garbage, not sqlite" * 64)
    env = {**os.environ, "MYCON_DATA_DIR": str(data)}
    with running_kernel("mycon", env=env) as (_, kc):
        reply, first_outputs = execute(kc, "first = 1")
        assert reply["content"]["status"] == "ok"
        history = _history(kc, hist_access_type="tail", n=5, raw=True, output=False)
        assert [entry[2] for entry in history] == ["first = 1"]
        reply, outputs = execute(kc, "second = 2")
        assert reply["content"]["status"] == "ok"
        # the file is opened in the background: the warning comes with the first cell or,
        # at the latest, with the first one after the history request (which waited for it)
        warning = stdout_of(first_outputs, "stderr") + stdout_of(outputs, "stderr")
        assert warning.count("history: cannot use") == 1 and "in memory" in warning
        history = _history(kc, hist_access_type="range", session=0, start=1, stop=3)
        assert [entry[2] for entry in history] == ["first = 1", "second = 2"]
