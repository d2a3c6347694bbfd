"""VJP rules (tape path of reverse mode): reductions primitives."""

from __future__ import annotations
