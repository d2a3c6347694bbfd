"""VJP rules (tape path of reverse mode): sorting primitives."""

from __future__ import annotations
