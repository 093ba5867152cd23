"""``%load_ext autoreload`` and ``%autoreload``: placeholder until the module is written."""

from __future__ import annotations
