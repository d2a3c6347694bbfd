"""VJP rules (tape path of reverse mode): structural primitives."""

from __future__ import annotations
