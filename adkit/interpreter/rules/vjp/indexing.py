"""VJP rules (tape path of reverse mode): indexing primitives."""

from __future__ import annotations
