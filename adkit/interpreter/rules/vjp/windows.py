"""VJP rules (tape path of reverse mode): windows primitives."""

from __future__ import annotations
