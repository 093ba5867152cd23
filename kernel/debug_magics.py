"""Debugging and profiling magics: placeholder until the module is written."""

from __future__ import annotations
