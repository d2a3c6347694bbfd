"""VJP rules (tape path of reverse mode): linalg primitives."""

from __future__ import annotations
