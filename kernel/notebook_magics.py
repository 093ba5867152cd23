"""Magics notebooks commonly use: placeholder until the module is written."""

from __future__ import annotations
