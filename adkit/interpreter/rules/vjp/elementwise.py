"""VJP rules (tape path of reverse mode): elementwise primitives."""

from __future__ import annotations
