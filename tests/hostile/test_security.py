"""Security over real sockets: private connection files, keys, loopback, and messages that are
unsigned, badly signed, replayed, stale or malformed never run code (checked with marker files)
on the shell, control and stdin channels."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from hostile.helpers import RawClient, raw_client, standalone_kernel, stream_text
from jupyter_client.session import Session as ReferenceSession
from ports import free_ports

from kernel.wire import DELIMITER, Session, Signer, WireError


def _marker_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'a').write('ran\\n')"


def test_own_connection_file_is_private_even_in_a_lax_runtime_dir(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o755)
    os.chmod(runtime, 0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernel"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime)),
    )
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().rsplit(" ", 1)[-1].strip())
        assert path.parent == runtime
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
        info = json.loads(path.read_text())
        assert len(info["key"]) >= 32 and info["ip"] == "127.0.0.1"
    finally:
        proc.kill()
        proc.wait()


def _write_connection(path: Path, **extra: object) -> None:
    info: dict[str, object] = {"ip": "127.0.0.1", "transport": "tcp", "key": "", "signature_scheme": "hmac-sha256"}
    ports = free_ports(5)  # chosen here: the kernel does not rewrite a file it was given
    info.update(zip(("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"), ports, strict=True))
    info.update(extra)
    path.write_text(json.dumps(info))


def test_empty_key_refused_with_reason_then_allowed_on_request(tmp_path: Path) -> None:
    conn = tmp_path / "kernel-nokey.json"
    _write_connection(conn)
    done = subprocess.run([sys.executable, "-m", "kernel", "-f", str(conn)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "empty key" in done.stderr and "--allow-no-key" in done.stderr and "Traceback" not in done.stderr
    marker = tmp_path / "ran"
    log = tmp_path / "log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "kernel", "-f", str(conn), "--allow-no-key"],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        info = json.loads(conn.read_text())
        with raw_client(info, key=b"") as client:
            client.wait_for_iopub(kernel=proc, log=log)
            reply, _ = client.execute(_marker_code(marker))
            assert reply["content"]["status"] == "ok"
        assert marker.read_text() == "ran\n"  # asked for explicitly: unsigned messages run
        assert "warning: empty key" in log.read_text()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("curve", [False, True], ids=["plain", "curve"])
def test_non_loopback_ip_warns_without_encryption(tmp_path: Path, curve: bool) -> None:
    conn = tmp_path / "kernel-wide.json"
    extra: dict[str, object] = {"key": "k" * 32}
    if curve:
        public, secret = zmq.curve_keypair()
        extra.update(curve_publickey=public.decode(), curve_secretkey=secret.decode())
    _write_connection(conn, **extra)
    data = json.loads(conn.read_text())
    data["ip"] = "0.0.0.0"
    conn.write_text(json.dumps(data))
    log = tmp_path / "log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "kernel", "-f", str(conn)], stdout=subprocess.DEVNULL, stderr=err)
    try:
        with raw_client(dict(data, ip="127.0.0.1")) as client:  # start-up is over once it answers
            client.wait_for_iopub(kernel=proc, log=log)
            reply, outputs = client.execute(f"print('over curve' if {curve!r} else 'plain')")
            assert stream_text(outputs) == ("over curve\n" if curve else "plain\n")
        text = log.read_text()
        if curve:
            assert "without transport encryption" not in text
        else:
            assert "warning: listening on 0.0.0.0 without transport encryption" in text
    finally:
        proc.kill()
        proc.wait()


# ----- hostile messages over real sockets -------------------------------------------------------


def _hostile_frames(client: RawClient, code: str, exposed: bool) -> dict[str, list[bytes]]:
    """Messages that must all be dropped, each carrying ``code`` where it could run.

    Old-dated messages are replays only where traffic can be copied (``exposed``: plain tcp
    off loopback); elsewhere a signed message with an old date comes from a client with a slow
    clock and is served (see ``test_a_client_with_a_slow_clock``).
    """
    good = client.session
    wrong = ReferenceSession(key=b"not the key")
    unsigned = ReferenceSession(key=b"")
    content = {"code": code, "silent": False, "allow_stdin": False}
    tampered = good.serialize(good.msg("execute_request", {"code": "1", "silent": True}))
    tampered[-1] = json.dumps(content).encode()
    stale = good.msg("execute_request", content)
    stale["header"]["date"] = "2001-01-01T00:00:00.000000Z"
    before_start = good.msg("execute_request", content)
    before_start["header"]["date"] = _iso(time.time() - 3600)
    header = good.pack(good.msg_header("execute_request"))
    sig_of = good.sign
    body = json.dumps(content).encode()
    dated = {
        "dated 2001": good.serialize(stale),
        "dated before the kernel started": good.serialize(before_start),
    }
    return {
        **(dated if exposed else {}),
        "wrong key": wrong.serialize(wrong.msg("execute_request", content)),
        "unsigned": unsigned.serialize(unsigned.msg("execute_request", content)),
        "tampered content": tampered,
        "truncated signature": [DELIMITER, sig_of([header, b"{}", b"{}", body])[:-2], header, b"{}", b"{}", body],
        "upper-case signature": [DELIMITER, sig_of([header, b"{}", b"{}", body]).upper(), header, b"{}", b"{}", body],
        "no delimiter": [b"garbage", body],
        "only a delimiter": [DELIMITER],
        "too few frames": [DELIMITER, sig_of([header, b"{}", b"{}", body]), header, body],
        "bad JSON (signed)": [DELIMITER, sig_of([header, b"{", b"{}", body]), header, b"{", b"{}", body],
        "invalid UTF-8 (signed)": [DELIMITER, sig_of([header, b"{}", b"{}", b"\xff" + body]), header, b"{}", b"{}", b"\xff" + body],
        "header is a list (signed)": [DELIMITER, sig_of([b"[]", b"{}", b"{}", body]), b"[]", b"{}", b"{}", body],
        "content is a list (signed)": [DELIMITER, sig_of([header, b"{}", b"{}", b"[1]"]), header, b"{}", b"{}", b"[1]"],
    }


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(when))


EXPOSED = ("--ip", "0.0.0.0", "--no-encryption")  # plain tcp on every interface: traffic could be copied


@pytest.mark.parametrize("exposed", [False, True], ids=["loopback", "exposed"])
@pytest.mark.parametrize("channel", ["shell", "control"])
def test_hostile_messages_never_run_and_are_logged(tmp_path: Path, channel: str, exposed: bool) -> None:
    marker = tmp_path / "ran"
    with standalone_kernel(str(tmp_path), *(EXPOSED if exposed else ())) as kernel, \
            raw_client(dict(kernel.info, ip="127.0.0.1")) as client:
        client.wait_for_iopub()
        code = _marker_code(marker)
        legit = client.frames(client.msg("execute_request", {"code": "pass", "silent": True}))
        client.send_frames(channel, legit)
        attempts = _hostile_frames(client, code, exposed)
        for frames in attempts.values():
            client.send_frames(channel, frames)
        client.send_frames(channel, legit)  # a replay of the first message
        # control answers execute_request with an error; shell runs it: one answer only
        first = client.recv(channel)
        assert first is not None
        reply, outputs = client.execute("print('served')")
        assert stream_text(outputs) == "served\n"
        assert client.recv(channel, timeout=0.3) is None, "a rejected message was answered"
        assert not marker.exists(), "a rejected message ran code"
        log = kernel.log()
        dropped = log.count("dropped")
        assert dropped >= len(attempts) + 1, log
        reasons = ["invalid signature", "unsigned", "duplicate signature", "bad JSON", "delimiter", "too few frames"]
        for reason in reasons + (["older than replay protection"] if exposed else []):
            assert reason in log, f"log does not say {reason!r}"
        assert kernel.alive()


@pytest.mark.parametrize("exposed", [False, True], ids=["loopback", "exposed"])
def test_a_client_with_a_slow_clock(tmp_path: Path, exposed: bool) -> None:
    """A client on another machine (say through an ssh tunnel) whose clock is an hour behind
    is served on loopback; where traffic could be copied, a few minutes' lag is allowed and an
    hour's is refused with a log line that names the clock."""
    with standalone_kernel(str(tmp_path), *(EXPOSED if exposed else ())) as kernel, \
            raw_client(dict(kernel.info, ip="127.0.0.1")) as client:
        client.wait_for_iopub()

        def send_dated(lag: float, code: str) -> str:
            msg = client.msg("execute_request", {"code": code, "silent": False})
            msg["header"]["date"] = _iso(time.time() - lag)
            client.send_frames("shell", client.frames(msg))
            return str(msg["header"]["msg_id"])

        def replies_until(msg_id: str) -> dict[str, dict]:
            """Every shell reply up to the one to ``msg_id`` (requests are served in order)."""
            replies: dict[str, dict] = {}
            while msg_id not in replies:
                msg = client.recv("shell")
                assert msg is not None, f"no reply to {msg_id}"
                replies[msg["parent_header"].get("msg_id", "")] = msg
            return replies

        two_minutes, an_hour, now = send_dated(120, "1"), send_dated(3600, "2"), send_dated(0, "3")
        replies = replies_until(now)
        assert replies[two_minutes]["content"]["status"] == "ok"
        if exposed:
            assert an_hour not in replies
            assert "a client clock more than 300 s behind" in kernel.log()
        else:
            assert replies[an_hour]["content"]["status"] == "ok"
            assert "older than replay protection" not in kernel.log()


@pytest.mark.parametrize("exposed", [False, True], ids=["loopback", "exposed"])
def test_forged_and_replayed_input_replies_are_ignored(tmp_path: Path, exposed: bool) -> None:
    with standalone_kernel(str(tmp_path), *(EXPOSED if exposed else ())) as kernel, \
            raw_client(dict(kernel.info, ip="127.0.0.1")) as client:
        client.wait_for_iopub()
        # first prompt answered legitimately; that reply is kept for a replay
        msg_id = client.send_msg("shell", "execute_request", {"code": "first = input('1? ')", "allow_stdin": True, "silent": False})
        request = client.recv("stdin")
        assert request is not None and request["msg_type"] == "input_request"
        old_answer = client.frames(client.msg("input_reply", {"value": "EVIL-REPLAY", "status": "ok"}))
        client.send_frames("stdin", old_answer)
        assert client.reply_to("shell", msg_id)["content"]["status"] == "ok"
        # second prompt: forged, unsigned, stale and replayed answers first, then the real one
        msg_id = client.send_msg("shell", "execute_request", {"code": "second = input('2? ')\nprint(repr(first), repr(second))", "allow_stdin": True, "silent": False})
        request = client.recv("stdin")
        assert request is not None and request["msg_type"] == "input_request"
        wrong = ReferenceSession(key=b"wrong")
        unsigned = ReferenceSession(key=b"")
        stale = client.msg("input_reply", {"value": "EVIL-STALE", "status": "ok"})
        stale["header"]["date"] = "2020-01-01T00:00:00Z"
        attempts = [
            wrong.serialize(wrong.msg("input_reply", {"value": "EVIL-KEY"})),
            unsigned.serialize(unsigned.msg("input_reply", {"value": "EVIL-UNSIGNED"})),
            old_answer,
            [DELIMITER, b"x", b"{", b"}", b"{}", b"{}"],
        ]
        if exposed:  # only there can an old-dated answer be a copy
            attempts.append(client.frames(stale))
        for frames in attempts:
            client.send_frames("stdin", frames)
        client.send_msg("stdin", "input_reply", {"value": "good", "status": "ok"})
        reply = client.reply_to("shell", msg_id)
        outputs = client.until_idle(msg_id)
        assert reply["content"]["status"] == "ok"
        assert stream_text(outputs) == "'EVIL-REPLAY' 'good'\n"  # the first answer was the legit one
        assert kernel.log().count("stdin: dropped") >= len(attempts)


# ----- replay memory, at the wire level ---------------------------------------------------------


def _signed(ref: ReferenceSession, when: float | None = None, msg_type: str = "execute_request") -> list[bytes]:
    msg = ref.msg(msg_type, {"code": "x"})
    if when is not None:
        msg["header"]["date"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e6):06d}Z"
    return ref.serialize(msg)


def test_replay_after_the_memory_overflows_is_refused() -> None:
    key = b"secret"
    ours = Session(Signer(key, memory=8))
    ref = ReferenceSession(key=key)
    start = time.time() - 10
    first = [_signed(ref, start + i * 0.001) for i in range(20)]
    for frames in first:
        ours.deserialize(frames)
    assert len(ours.signer._seen) == 8
    for frames in first:  # every one of them: remembered (duplicate) or forgotten (too old)
        with pytest.raises(WireError, match="duplicate|older"):
            ours.deserialize(frames)
    # newer messages still pass, also from a client whose clock is a little behind the newest
    ours.deserialize(_signed(ref, start + 0.0195))
    ours.deserialize(_signed(ref))


def test_dateless_messages_accepted_until_the_memory_overflows() -> None:
    key = b"secret"
    ours = Session(Signer(key, memory=4))
    ref = ReferenceSession(key=key)

    def dateless() -> list[bytes]:
        msg = ref.msg("kernel_info_request", {})
        del msg["header"]["date"]
        return ref.serialize(msg)

    ours.deserialize(dateless())
    for _ in range(6):
        ours.deserialize(_signed(ref))
    with pytest.raises(WireError, match="readable date"):
        ours.deserialize(dateless())


def test_messages_from_before_the_kernel_started_are_refused() -> None:
    key = b"secret"
    started = time.time()
    ours = Session(Signer(key, started=started))
    ref = ReferenceSession(key=key)
    ours.deserialize(_signed(ref, started - 30))  # within the allowed clock skew
    with pytest.raises(WireError, match="older"):
        ours.deserialize(_signed(ref, started - 3600))
    no_key = Session(Signer(b"", started=started))  # no key: no signing, no replay protection
    no_key.deserialize(ReferenceSession(key=b"").serialize(ReferenceSession(key=b"").msg("kernel_info_request", {})))


def test_without_dates_only_repeated_signatures_are_refused() -> None:
    """``dated=False`` (loopback, ipc, Curve): any clock is fine, a repeat is still refused."""
    key = b"secret"
    ours = Session(Signer(key, memory=4, dated=False))
    ref = ReferenceSession(key=key)
    old = _signed(ref, time.time() - 86400)
    ours.deserialize(old)
    with pytest.raises(WireError, match="duplicate"):
        ours.deserialize(old)
    for _ in range(6):  # past the memory: no floor rises, a day-old clock is still served
        ours.deserialize(_signed(ref, time.time() - 86400))
