"""Magics: ``registry`` (the table of magics and the decorators users register theirs with),
``runtime`` (what transformed cells call: magics, ``!cmd``, ``obj?``) and one module per family of
built-in magics (``basic``, ``workspace``, ``notebook``, ``debugging``, ``autoreload``), each
imported on the first magic.
"""

from __future__ import annotations

from .registry import register_cell_magic, register_line_magic

__all__ = ["register_cell_magic", "register_line_magic"]
