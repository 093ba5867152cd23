"""IPython's shell API on this kernel: what ``get_ipython()`` returns to user code and extensions.

``shell`` (the ``ZMQInteractiveShell`` object: namespaces, magics, system, run_cell, push, ...),
``events`` (pre/post execute and run-cell callbacks), ``magics`` (IPython ``Magics`` classes and
plain functions registered into our table of magics), ``extensions`` (``%load_ext`` of any module
with ``load_ipython_extension``) and ``formatters`` (``display_formatter.formatters[mime]``).

Nothing here is imported at start-up: ``kernel.language`` puts a small ``get_ipython`` in the user
namespace whose first call builds the shell object. IPython itself is imported only when an
extension or user code asks for it (IPython's ``Magics`` classes, ``magic_arguments``).
"""
