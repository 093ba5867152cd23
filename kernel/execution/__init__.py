"""Running a cell: the shell (compile, run, results, ``_``/``In``/``Out``), the rewriting of
IPython syntax into Python (``transform``) and the tracebacks users see.

Imports only ``kernel.display.formatting`` (to show results) from the rest of the kernel: no
sockets, no protocol; unit-testable on its own.
"""
