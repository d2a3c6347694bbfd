"""VJP rules (tape path of reverse mode): misc primitives."""

from __future__ import annotations
