"""Start-up work done in a worker thread while the console starts.

jupyter_client and the kernelspec lookup cost about as much as prompt_toolkit to import. Done
in a thread started once the console is built (``console.lifecycle.warm_up``), they overlap
the wait for the terminal's answer to the start-up query and the first prompt's drawing, the
event loop stays free for the keys the user types meanwhile, and the first cell (whose kernel
was launched before the UI was imported) waits for nothing else. (Started before
prompt_toolkit's import instead, GIL contention made the prompt ~0.1 s later and the first
result no sooner; started after the first prompt was drawn, the first result came ~5 ms later,
and later still by the whole wait when the terminal is slow to answer.)
"""

from __future__ import annotations

import threading

_thread: threading.Thread | None = None
language = ""  # the kernelspec's language, once looked up (names the history file early)


def _work(kernel_name: str) -> None:
    try:
        import jupyter_client.asynchronous  # noqa: F401
        import jupyter_client.manager  # noqa: F401
        import jupyter_core.paths  # noqa: F401

        if kernel_name:
            from console.launch import kernel_specs

            global language
            language = str(kernel_specs().get_kernel_spec(kernel_name).language or "")
    except Exception:
        pass  # the real start-up reports problems in words


def start(kernel_name: str = "") -> None:
    """Begin importing the kernel stack (and looking up ``kernel_name``) in the background."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_work, args=(kernel_name,), name="mycon-warmup", daemon=True)
        _thread.start()


def wait() -> None:
    """Block until the warm-up is done (starts it when nobody did)."""
    start()
    assert _thread is not None
    _thread.join()
