"""VJP rules (tape path of reverse mode): collectives primitives."""

from __future__ import annotations
