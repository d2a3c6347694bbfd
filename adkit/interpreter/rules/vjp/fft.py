"""VJP rules (tape path of reverse mode): fft primitives."""

from __future__ import annotations
