"""VJP rules (tape path of reverse mode): decompositions primitives."""

from __future__ import annotations
