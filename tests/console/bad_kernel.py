"""A misbehaving Jupyter kernel for the console's robustness tests (issue 8).

Run as ``python bad_kernel.py -f CONNECTION_FILE MODE``. It speaks just enough of the protocol
(kernel_info, execute, shutdown, interrupt, is_complete, complete, inspect, history) to reach a
prompt, then misbehaves the way MODE says. Plain pyzmq plus jupyter_client's Session for
signing; single-threaded, one poll loop.

Modes:
    good         behaves (the baseline)
    garbage      before each real answer: malformed frames, bad JSON, unsigned and badly signed
                 messages on iopub and shell
    wrong-parent answers execute (reply and output) under a made-up parent msg_id; the right
                 reply only comes after an interrupt_request
    disorder     idle before the reply, results after idle, outputs with no parent
    huge-stream  a 50 MB stream text for each cell
    huge-bundle  a display_data bundle with 100,000 mime keys for each cell
    mute         never answers execute (only says it started), is_complete, complete,
                 inspect or interrupt
    deaf         like a bash kernel given an unfinished ``for ...; do``: never answers
                 is_complete, complete, inspect or shutdown; a cell says it started and never
                 ends; an interrupt is answered but changes nothing
    slow-is-complete  behaves, but answers is_complete only after 0.1 s
    no-iopub     answers kernel_info but never publishes anything on iopub
    no-hb        stops echoing heartbeats after start-up (otherwise behaves)
    wrong-types  well signed messages with the wrong type in every field (iopub and reply)
    stdin        asks for input twice at once (one prompt not a string, one password not a
                 bool); answers the cell after both replies, then asks once more
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

import zmq
from jupyter_client.session import Session

Msg = dict[str, Any]
MODES = (
    "good", "garbage", "wrong-parent", "disorder", "huge-stream", "huge-bundle", "mute", "deaf",
    "slow-is-complete", "no-iopub", "no-hb", "wrong-types", "stdin",
)
# iopub messages a console must survive: (msg_type, content), each field of a wrong type.
WRONG_TYPES: list[tuple[str, Any]] = [
    ("stream", {"name": None, "text": 123}),
    ("stream", {"name": "stdout", "text": ["a", "b"]}),
    ("stream", {}),
    ("display_data", {"data": [1, 2], "metadata": "x"}),
    ("display_data", {"data": {"text/plain": 5, "image/png": 7, "text/html": None}}),
    ("display_data", {"data": {"text/plain": "t"}, "transient": "not a dict"}),
    ("update_display_data", {"data": {"text/plain": "u"}, "transient": {"display_id": 9}}),
    ("update_display_data", {"data": None}),
    ("execute_result", {"execution_count": "seven", "data": "not a bundle"}),
    ("execute_result", {"execution_count": None, "data": {"text/plain": {"nested": True}}}),
    ("error", {"ename": 1, "evalue": None, "traceback": "not a list"}),
    ("error", {"traceback": [1, None, {"x": 1}]}),
    ("clear_output", {"wait": "yes"}),
    ("status", {"execution_state": 42}),
    ("execute_input", {"code": None, "execution_count": "x"}),
    ("no_such_type", {"weird": True}),
    ("comm_msg", {"comm_id": 1, "data": None}),
]


class BadKernel:
    """One kernel process misbehaving in one mode."""

    def __init__(self, info: Msg, mode: str) -> None:
        self.mode = mode
        key = str(info.get("key", "")).encode()
        self.session = Session(key=key, signature_scheme=info.get("signature_scheme", "hmac-sha256"))
        self.ctx = zmq.Context()
        url = f"{info.get('transport', 'tcp')}://{info['ip']}:"
        self.shell = self._bind(zmq.ROUTER, url, info["shell_port"])
        self.control = self._bind(zmq.ROUTER, url, info["control_port"])
        self.stdin = self._bind(zmq.ROUTER, url, info["stdin_port"])
        self.iopub = self._bind(zmq.PUB, url, info["iopub_port"])
        self.hb = self._bind(zmq.REP, url, info["hb_port"])
        self.count = 0
        self.input_replies: list[str] = []
        self.late: tuple[float, list[bytes], Msg] | None = None  # an input_request to send later
        self.pending: list[tuple[zmq.Socket[bytes], list[bytes], Msg]] = []  # unanswered executes

    def _bind(self, kind: int, url: str, port: int) -> zmq.Socket[bytes]:
        sock: zmq.Socket[bytes] = self.ctx.socket(kind)
        sock.linger = 0
        sock.bind(f"{url}{port}")
        return sock

    # -- sending ------------------------------------------------------------------------------

    def publish(self, msg_type: str, content: Msg, parent: Msg | None) -> None:
        if self.mode == "no-iopub":
            return
        self.session.send(self.iopub, msg_type, content, parent=parent or {}, ident=[msg_type.encode()])

    def status(self, state: str, parent: Msg | None) -> None:
        self.publish("status", {"execution_state": state}, parent)

    def reply(self, sock: zmq.Socket[bytes], idents: list[bytes], msg_type: str, content: Msg, parent: Msg) -> None:
        self.session.send(sock, msg_type, content, parent=parent, ident=idents)

    def garbage(self, sock: zmq.Socket[bytes], idents: list[bytes], parent: Msg) -> None:
        """Malformed frames, bad JSON, unsigned and badly signed messages, all "answering" parent."""
        head = json.dumps({"msg_id": "x", "msg_type": "execute_reply", "session": "s", "username": "u",
                           "date": "2026-11-22T00:00:00Z", "version": "5.4"}).encode()
        par = self.session.pack(parent.get("header", {}))
        content = json.dumps({"status": "ok", "execution_count": 99}).encode()
        for topic, out in ((b"stream", self.iopub), (None, sock)):
            pre = [topic] if topic else list(idents)
            out.send_multipart([*pre, b"no delimiter at all"])
            out.send_multipart([*pre, b"<IDS|MSG>"])  # delimiter and nothing else
            out.send_multipart([*pre, b"<IDS|MSG>", b"", b"{not json", b"{}", b"{}", b"{}"])  # unsigned
            out.send_multipart([*pre, b"<IDS|MSG>", b"deadbeef", head, par, b"{}", content])  # bad sig
            out.send_multipart([*pre, b"<IDS|MSG>", b"", head, par, b"{}", content])  # unsigned
            out.send_multipart([*pre, b"<IDS|MSG>", b"\xff\xfe", b"\xff\xfe\xfd", par, b"{}", b"[1,2"])
            # Correctly signed but not valid JSON inside.
            frames = [b"{bad json", par, b"{}", b"\xff\xfe"]
            sig = self.session.sign(frames)
            out.send_multipart([*pre, b"<IDS|MSG>", sig, *frames])
            # Correctly signed, a JSON list where a dict belongs.
            frames = [b"[1, 2, 3]", b"[]", b"\"x\"", b"null"]
            out.send_multipart([*pre, b"<IDS|MSG>", self.session.sign(frames), *frames])
            # Correctly signed, a real header, but parent and content of the wrong JSON type.
            for kind in (b"stream", b"status", b"execute_reply", b"error"):
                hdr = self.session.pack(dict(self.session.msg_header(kind.decode()), date="2026"))
                for bad_par, bad_content in ((par, b"[1]"), (par, b"\"text\""), (b"[]", b"{}"), (b"7", b"null")):
                    frames = [hdr, bad_par, b"{}", bad_content]
                    out.send_multipart([*pre, b"<IDS|MSG>", self.session.sign(frames), *frames])

    # -- requests -----------------------------------------------------------------------------

    def handle(self, sock: zmq.Socket[bytes], frames: list[bytes]) -> None:
        idents, parts = self.session.feed_identities(frames)
        msg = self.session.deserialize(parts)
        msg_type = msg["header"]["msg_type"]
        if msg_type == "kernel_info_request":
            self.status("busy", msg)
            self.reply(sock, idents, "kernel_info_reply", {
                "status": "ok", "protocol_version": "5.4", "implementation": "bad_kernel",
                "implementation_version": "0", "banner": f"bad kernel, mode {self.mode}",
                "language_info": {"name": "python", "version": "3", "mimetype": "text/x-python",
                                  "file_extension": ".py", "pygments_lexer": "python3"},
            }, msg)
            self.status("idle", msg)
        elif msg_type == "shutdown_request":
            if self.mode == "deaf":
                return  # stuck: it never gets to the request
            self.reply(sock, idents, "shutdown_reply", {"status": "ok", "restart": False}, msg)
            raise SystemExit(0)
        elif msg_type == "interrupt_request":
            if self.mode == "mute":
                return
            self.reply(sock, idents, "interrupt_reply", {"status": "ok"}, msg)
            if self.mode == "deaf":
                return  # answered, and nothing stops
            for psock, pidents, pmsg in self.pending:
                self.publish("error", {"ename": "KeyboardInterrupt", "evalue": "", "traceback": ["KeyboardInterrupt"]}, pmsg)
                self.reply(psock, pidents, "execute_reply", {"status": "error", "execution_count": self.count,
                           "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}, pmsg)
                self.status("idle", pmsg)
            self.pending.clear()
        elif msg_type == "input_reply":
            self.input_replies.append(str(msg["content"].get("value")))
            if len(self.input_replies) == 2 and self.pending:
                psock, pidents, pmsg = self.pending.pop()
                self.publish("stream", {"name": "stdout", "text": f"got {self.input_replies}\n"}, pmsg)
                self.reply(psock, pidents, "execute_reply", {"status": "ok", "execution_count": self.count,
                           "payload": [], "user_expressions": {}}, pmsg)
                self.status("idle", pmsg)
                # And once more a little after the cell ended (messages on different sockets
                # may be read in any order, so "after" must be clear), when no cell runs.
                self.late = (time.monotonic() + 0.3, pidents, pmsg)
        elif msg_type == "execute_request":
            self.execute(sock, idents, msg)
        elif self.mode in ("mute", "deaf"):
            return
        elif msg_type == "is_complete_request":
            if self.mode == "slow-is-complete":
                time.sleep(0.1)
            self.reply(sock, idents, "is_complete_reply", {"status": "complete"}, msg)
        elif msg_type == "complete_request":
            pos = msg["content"].get("cursor_pos", 0)
            self.reply(sock, idents, "complete_reply", {"status": "ok", "matches": [], "cursor_start": pos,
                       "cursor_end": pos, "metadata": {}}, msg)
        elif msg_type == "inspect_request":
            self.reply(sock, idents, "inspect_reply", {"status": "ok", "found": False, "data": {}, "metadata": {}}, msg)
        elif msg_type == "history_request":
            self.reply(sock, idents, "history_reply", {"status": "ok", "history": []}, msg)
        else:
            self.status("busy", msg)
            self.status("idle", msg)

    def execute(self, sock: zmq.Socket[bytes], idents: list[bytes], msg: Msg) -> None:
        content = msg["content"]
        code = str(content.get("code", ""))
        silent = bool(content.get("silent"))
        if self.mode in ("mute", "deaf") and code:
            # Says it started (so a test knows the cell runs), then never answers, not even
            # an interrupt.
            self.status("busy", msg)
            self.publish("stream", {"name": "stdout", "text": f"started {code}\n"}, msg)
            self.pending.append((sock, idents, msg))
            return
        if not silent:
            self.count += 1
        n = self.count
        ok = {"status": "ok", "execution_count": n, "user_expressions": {}, "payload": []}
        text = f"ran {code}\n"
        if self.mode == "garbage":
            self.garbage(sock, idents, msg)
        if self.mode == "stdin" and code:
            self.input_replies.clear()
            self.status("busy", msg)
            self.session.send(self.stdin, "input_request", {"prompt": 5, "password": "no"}, parent=msg, ident=idents)
            self.session.send(self.stdin, "input_request", {"prompt": "second: "}, parent=msg, ident=idents)
            self.pending.append((sock, idents, msg))
            return
        if self.mode == "wrong-parent" and code:
            fake = {"header": dict(msg["header"], msg_id=uuid.uuid4().hex)}
            self.status("busy", fake)
            self.publish("stream", {"name": "stdout", "text": "WRONG PARENT\n"}, fake)
            self.reply(sock, idents, "execute_reply", ok, fake)
            self.status("idle", fake)
            self.pending.append((sock, idents, msg))
            return
        if self.mode == "disorder" and code:
            self.status("busy", msg)
            self.publish("stream", {"name": "stdout", "text": "ORPHAN before\n"}, None)
            self.status("idle", msg)  # idle before the output and the reply
            self.publish("stream", {"name": "stdout", "text": text}, msg)
            self.reply(sock, idents, "execute_reply", ok, msg)
            self.publish("execute_result", {"execution_count": n, "data": {"text/plain": "'LATE RESULT'"},
                         "metadata": {}}, msg)
            self.publish("stream", {"name": "stdout", "text": "ORPHAN after\n"}, None)
            self.status("idle", None)
            return
        self.status("busy", msg)
        if not silent:
            self.publish("execute_input", {"code": code, "execution_count": n}, msg)
        if code and self.mode == "huge-stream":
            self.publish("stream", {"name": "stdout", "text": ("x" * 99 + "\n") * 500_000 + "HUGE END\n"}, msg)
        elif code and self.mode == "huge-bundle":
            data: dict[str, Any] = {f"application/x-junk-{i}": i for i in range(100_000)}
            data["text/plain"] = "BUNDLE END"
            self.publish("display_data", {"data": data, "metadata": {}, "transient": {}}, msg)
        elif code and self.mode == "wrong-types":
            for kind, body in WRONG_TYPES:
                self.publish(kind, body, msg)  # as output of this cell
                self.publish(kind, body, {"header": {"msg_id": 5, "session": None}})  # bad parent
            self.publish("stream", {"name": "stdout", "text": text}, msg)
            ok = {"status": "ok", "execution_count": "nine", "payload": [1, {"source": None}, {"source": "page"},
                  {"source": "set_next_input", "text": None}], "user_expressions": []}
        elif code:
            self.publish("stream", {"name": "stdout", "text": text}, msg)
        self.reply(sock, idents, "execute_reply", ok, msg)
        self.status("idle", msg)

    # -- loop ---------------------------------------------------------------------------------

    def serve(self) -> None:
        self.status("starting", None)
        poller = zmq.Poller()
        for sock in (self.shell, self.control, self.stdin, self.hb):
            poller.register(sock, zmq.POLLIN)
        answered_hb = 0
        while True:
            if self.late is not None and time.monotonic() >= self.late[0]:
                _, idents, parent = self.late
                self.late = None
                self.session.send(self.stdin, "input_request", {"prompt": "late: "}, parent=parent, ident=idents)
            wait = None if self.late is None else max(0, int((self.late[0] - time.monotonic()) * 1000) + 1)
            for sock, _ in poller.poll(wait):
                frames = sock.recv_multipart()
                if sock is self.hb:
                    answered_hb += 1
                    if self.mode == "no-hb" and answered_hb > 1:
                        poller.unregister(self.hb)  # a REP socket must answer before reading on
                        continue
                    sock.send_multipart(frames)
                    continue
                try:
                    self.handle(sock, frames)
                except SystemExit:
                    raise
                except Exception as e:  # a bad request must not stop the test kernel
                    print(f"bad_kernel: dropped a message: {e}", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "-f"]
    if len(args) != 2 or args[1] not in MODES:
        print(f"usage: bad_kernel.py -f CONNECTION_FILE {{{'|'.join(MODES)}}}", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        info = json.load(f)
    os.environ.pop("PYTHONSTARTUP", None)
    try:
        BadKernel(info, args[1]).serve()
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
