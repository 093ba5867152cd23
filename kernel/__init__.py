"""mycon's Python kernel: a fast, first-class Jupyter kernel.

Run it with ``python -m kernel`` (see ``kernel.__main__``). The map (no module imports another
that imports it back, not even inside a function; ``tests/test_layout.py`` checks):

Process and protocol (this folder's modules):
    wire         messages: headers, HMAC signing and checking, replay protection, frames
    connection   connection files and the runtime directory
    sockets      multipart send/receive straight on pyzmq's compiled sockets (the hot path)
    app          start-up, the five sockets, threads, signals, parent watching, shut-down
    dispatch     one handler per request type, busy/idle around each, stdin requests
    iostream     stdout/stderr (Python and file descriptors) captured into stream messages
    comms        the comm manager (``comm_open``/``msg``/``close``)
    subshells    kernel subshells (protocol 5.5): a router thread owns the shell socket while
                 they exist; each subshell serves its requests in a thread of its own
    embed        ``embed_kernel()``: a kernel inside any running program
    language     the language layer put onto a started shell: history, magics, display, exit
    log, threads the kernel's own log line and helper threads
    debugger/    the visual debugger: DAP of ``debug_request`` served by debugpy, loaded on the
                 first ``debug_request``
Language layer (sub-packages; none of them imports the modules above or zmq):
    execution/   running a cell: ``shell``, IPython syntax to Python (``transform``),
                 ``tracebacks``; uses ``display.formatting`` for results
    display/     ``display()`` and its wrappers (``api``), mime bundles (``formatting``),
                 IPython's text/plain (``pretty``), matplotlib figures (``mpl_backend``)
    services/    ``completion``, ``inspection``, ``iscomplete``, ``history``
    magics/      the ``registry`` of magics (a leaf: any layer may ask it for names), the
                 ``runtime`` transformed cells call, and one module per family of built-in
                 magics (``basic``, ``workspace``, ``notebook``, ``debugging``, ``autoreload``),
                 imported on the first magic; they build on all of the above
    ipython/     what ``get_ipython()`` returns (``ZMQInteractiveShell``): events, IPython
                 ``Magics`` into the registry, ``%load_ext`` of any extension, type printers;
                 built on the first ``get_ipython()`` call

Start-up imports only ``app`` and what it needs (``wire``, ``dispatch``, ``execution.shell``,
``display.formatting``...); everything else is imported on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``embed_kernel`` is imported on first use, so the kernel's start-up loads nothing more."""
    if name == "embed_kernel":
        from .embed import embed_kernel

        return embed_kernel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
