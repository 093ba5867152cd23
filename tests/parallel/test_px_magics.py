"""ipyparallel's magics (%px, %%px, %autopx, %pxresult, %pxconfig) in our kernel, over the wire,
against a 2-engine local cluster, compared with the same cells on ipykernel.

Both kernels drive the same engines, so each cell is run on ours first, then on ipykernel; the
engines' execution counts and the order in which streamed outputs arrive differ between the two
runs, so ``visible`` numbers them ``N`` and tests compare sorted outputs where order is not fixed.
"""

from __future__ import annotations

import re
from typing import Any

from px_support import PxSession

COUNTS = re.compile(r"(In|Out)\s*\[(\d+:)?\d+\]")


def visible(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What the user sees of each output: (kind, text), execution counts made ``N``."""
    seen = []
    for msg in outputs:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            text = content["text"]
        elif msg["msg_type"] in ("display_data", "execute_result"):
            text = content["data"]["text/plain"]
        elif msg["msg_type"] == "error":
            text = "\n".join(content["traceback"])
        else:
            continue
        text = COUNTS.sub(lambda m: f"{m[1]}[{m[2] or ''}N]", text)
        kind = msg["msg_type"] if msg["msg_type"] != "stream" else f"stream:{content['name']}"
        if seen and kind.startswith("stream") and seen[-1][0] == kind:  # how they split is timing
            seen[-1] = (kind, seen[-1][1] + text)
        else:
            seen.append((kind, text))
    return seen


def streams(seen: list[tuple[str, str]]) -> dict[str, str]:
    """All text of each stream, by stream name."""
    texts: dict[str, str] = {}
    for kind, text in seen:
        if kind.startswith("stream:"):
            texts[kind[7:]] = texts.get(kind[7:], "") + text
    return texts


def both(ours: PxSession, theirs: PxSession, code: str) -> tuple[Any, Any]:
    """Run ``code`` on our kernel, then on ipykernel: (status, outputs seen) of each."""
    results = []
    for session in (ours, theirs):
        content, outputs = session.run(code)
        results.append((content["status"], visible(outputs)))
    return results[0], results[1]


def test_px_and_cell_px_options_as_in_ipykernel(mycon_px: PxSession, ipykernel_px: PxSession) -> None:
    ours, theirs = both(mycon_px, ipykernel_px, "%px a = 6 * 7")
    assert ours == theirs == ("ok", [])
    # --targets, --no-stream and --group-outputs: outputs gathered per engine, in engine order
    cell = "%%px --targets 0 --no-stream\nprint(a)\na"
    ours, theirs = both(mycon_px, ipykernel_px, cell)
    assert ours == theirs == ("ok", [("stream:stdout", "42\n"), ("display_data", "\x1b[0;31mOut[0:N]: \x1b[0m42")])
    cell = "%%px --no-stream --group-outputs=engine\nimport sys\nprint('out', a)\nprint('err', file=sys.stderr)"
    ours, theirs = both(mycon_px, ipykernel_px, cell)
    assert streams(ours[1]) == streams(theirs[1])
    # in engine order, each engine's stdout then stderr (ipykernel buffers stdout and stderr
    # apart, so there the two interleave by timing; we keep the order they were written in)
    assert ours[1] == [(f"stream:{kind}", f"[{kind}:{engine}] \n{kind[3:]}{' 42' if kind == 'stdout' else ''}\n")
                       for engine in (0, 1) for kind in ("stdout", "stderr")]
    # --stream (the default): each engine's output as it arrives
    ours, theirs = both(mycon_px, ipykernel_px, "%%px --stream\nprint('streamed', a)")
    assert sorted(ours[1]) == sorted(theirs[1]) == [("display_data", f"[stdout:{e}] streamed 42\n") for e in (0, 1)]


def test_remote_errors_per_engine_as_in_ipykernel(mycon_px: PxSession, ipykernel_px: PxSession) -> None:
    """Each engine's traceback, then one error that says how many engines failed (ipyparallel's
    own ``_render_traceback_``: our kernel draws exceptions that carry one as IPython does)."""
    # streamed (the default): each engine's traceback on stderr as it comes, then the summary
    ours, theirs = both(mycon_px, ipykernel_px, "%px 1 / 0")
    assert ours[0] == theirs[0] == "error"
    for seen in (ours[1], theirs[1]):
        assert seen[-1] == ("error", "2 errors")
        stderr = streams(seen)["stderr"]
        assert "[0:execute]" in stderr and "[1:execute]" in stderr and stderr.count("division by zero") == 2
    # gathered (--no-stream): one error holding every engine's traceback
    ours, theirs = both(mycon_px, ipykernel_px, "%%px --no-stream\n1 / 0")
    assert ours == theirs
    assert ours[0] == "error" and len(ours[1]) == 1 and ours[1][0][0] == "error"
    assert ours[1][0][1].startswith("[0:execute]:") and "\n[1:execute]:" in ours[1][0][1]


def test_block_out_pxresult_pxconfig_sync_imports(mycon_px: PxSession, ipykernel_px: PxSession) -> None:
    # --noblock returns the AsyncResult; --out keeps it in the namespace; %pxresult shows it
    ours, theirs = both(mycon_px, ipykernel_px, "%%px --noblock --out pending\nb = 2 ** 10\nb")
    assert ours[0] == theirs[0] == "ok"
    assert ours[1][0][1].startswith("<AsyncResult(%px): ") and len(ours[1]) == 1
    ours, theirs = both(mycon_px, ipykernel_px, "len(pending.get(30))")
    assert ours == theirs == ("ok", [("execute_result", "2")])
    ours, theirs = both(mycon_px, ipykernel_px, "%pxresult")
    assert ours == theirs
    assert sorted(ours[1]) == [("display_data", f"\x1b[0;31mOut[{e}:N]: \x1b[0m1024") for e in (0, 1)]
    # %pxconfig changes the defaults of %px (here: not blocking, then blocking again)
    ours, theirs = both(mycon_px, ipykernel_px, "%pxconfig --noblock --targets 1")
    assert ours == theirs == ("ok", [])
    ours, theirs = both(mycon_px, ipykernel_px, "%px c = 3")
    assert ours[1][0][1].startswith("<AsyncResult(%px): ") and len(ours[1]) == len(theirs[1]) == 1
    mycon_px.run("c"), ipykernel_px.run("c")  # (%px does not wait: c may not be set yet)
    ours, theirs = both(mycon_px, ipykernel_px, "%pxconfig --block --targets all")
    assert ours == theirs == ("ok", [])
    ours, theirs = both(mycon_px, ipykernel_px, "%%px --block --no-stream\nprint(b)")
    assert ours == theirs == ("ok", [("stream:stdout", "[stdout:0] \n1024\n[stdout:1] \n1024\n")])
    ours, theirs = both(mycon_px, ipykernel_px, "with rc[:].sync_imports():\n    import math")
    assert ours == theirs == ("ok", [("stream:stdout", "importing math on engine(s)\n")])
    ours, theirs = both(mycon_px, ipykernel_px, "%%px --no-stream\nmath.isqrt(b)")
    assert ours == theirs
    assert ours[1] == [("display_data", f"\x1b[0;31mOut[{e}:N]: \x1b[0m32") for e in (0, 1)]


def test_metadata_times_are_iso_strings_as_in_ipykernel(mycon_px: PxSession, ipykernel_px: PxSession) -> None:
    """ipyparallel puts datetimes in its outputs' metadata; on the wire they are ISO 8601."""
    for session in (mycon_px, ipykernel_px):
        content, outputs = session.run("%px b")
        assert content["status"] == "ok"
        submitted = [m for m in outputs if m["msg_type"] == "display_data"][0]["content"]["metadata"]["submitted"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", submitted), submitted


def test_autopx_on_and_off_as_in_ipykernel(mycon_px: PxSession, ipykernel_px: PxSession) -> None:
    """``%autopx`` replaces ``get_ipython().run_cell``: typed cells then run on the engines."""
    mycon_px.ok("where = 'kernel'")
    ipykernel_px.ok("where = 'kernel'")
    ours, theirs = both(mycon_px, ipykernel_px, "%autopx")
    assert ours == theirs == ("ok", [("stream:stdout", "%autopx enabled\n")])
    try:
        ours, theirs = both(mycon_px, ipykernel_px, "where = 'engines'")
        assert ours == theirs == ("ok", [])
        ours, theirs = both(mycon_px, ipykernel_px, "print(where)")
        assert sorted(ours[1]) == sorted(theirs[1]) == [("display_data", f"[stdout:{e}] engines\n") for e in (0, 1)]
        # an error on the engines: the same outputs; but the cell fails here, as it does under
        # %px (ipykernel replies ok: ipyparallel's replacement reports failure only by its return)
        ours, theirs = both(mycon_px, ipykernel_px, "1 / 0")
        assert streams(ours[1]).keys() == streams(theirs[1]).keys() == {"stderr"}
        assert ours[1][-1] == theirs[1][-1] == ("error", "2 errors")
        assert (ours[0], theirs[0]) == ("error", "ok")
        # a silent request is a front end's own query, not a typed cell: it runs here (ipykernel
        # sends it to the engines too)
        content, outputs = mycon_px.run("seen_here = where", silent=True)
        assert content["status"] == "ok" and outputs == []
    finally:
        ours, theirs = both(mycon_px, ipykernel_px, "%autopx")
    assert ours == theirs == ("ok", [("stream:stdout", "%autopx disabled\n")])
    ours, theirs = both(mycon_px, ipykernel_px, "print(where)")
    assert ours == theirs == ("ok", [("stream:stdout", "kernel\n")])
    assert mycon_px.ok("print(seen_here)")[0]["content"]["text"] == "kernel\n"
