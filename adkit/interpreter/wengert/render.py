"""Rendering a tape as the table textbooks print: one row per value, with its operation.

`render_tape` takes a `Tape` (see `trace.py`), which imports this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .entry import TapeEntry

_HEADER = ("var", "op", "inputs", "value", "tangent", "scope")


def format_value(value: Any, max_items: int = 4) -> str:
    """A short text for a value: scalars with 10 significant digits, arrays with dtype, shape
    and their first few elements (4 significant digits)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":  # PRNG keys, float0 and other extended dtypes
        return f"{getattr(value, 'dtype', array.dtype)}{list(np.shape(value))}"
    if array.ndim == 0:
        return _scalar(array.item())
    flat = array.ravel()
    items = ", ".join(_scalar(x, digits=4) for x in flat[:max_items].tolist())
    more = ", ..." if flat.size > max_items else ""
    return f"{array.dtype}{list(array.shape)} [{items}{more}]"


def _scalar(x: Any, digits: int = 10) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    if isinstance(x, complex):
        return f"{x.real:.{digits}g}{x.imag:+.{digits}g}j"
    return str(x)


_QUIET_PARAMS = ("sharding", "out_sharding", "accumulation_type")


def _op_text(entry: TapeEntry) -> str:
    """`op[param=value ...]`, leaving out unset (None) and sharding params."""
    if entry.op == "input":
        return entry.label
    shown = [
        f"{k}={v}" for k, v in entry.params.items() if v is not None and k not in _QUIET_PARAMS
    ]
    return f"{entry.op}[{' '.join(shown)}]" if shown else entry.op


def _rows(tape: Any) -> list[tuple[str, ...]]:
    rows = []
    for entry in (*tape.inputs, *tape.entries):
        inputs = ", ".join(entry.inputs)
        tangents = entry.tangents or ("",) * len(entry.values)
        for k, (name, value) in enumerate(zip(entry.outputs, entry.values, strict=True)):
            op = _op_text(entry) if k == 0 else "  ..."
            tangent = format_value(tangents[k]) if entry.tangents is not None else ""
            rows.append(
                (name, op, inputs if k == 0 else "", format_value(value), tangent, entry.scope)
            )
    for k, name in enumerate(tape.outputs):
        rows.append((f"y{k + 1}" if len(tape.outputs) > 1 else "y", "output", name, "", "", ""))
    return rows


def render_tape(tape: Any) -> str:
    """The Wengert list as an aligned text table; the tangent and scope columns only when
    they say anything."""
    rows = _rows(tape)
    keep = [c for c in range(len(_HEADER)) if c < 4 or any(row[c] for row in rows)]
    table = [tuple(row[c] for c in keep) for row in [_HEADER, *rows]]
    return format_table(
        f"Wengert list of {tape.name}: {len(tape.ops())} primitive operations", table
    )


def render_with_adjoints(tape: Any, adjoints: dict[str, Any]) -> str:
    """The Wengert list with an adjoint column beside the value and tangent columns: each
    value's adjoint from the reverse sweep (`Tape.backward().adjoints`)."""
    rows = [(*row[:5], _adjoint(row[0], adjoints), row[5]) for row in _rows(tape)]
    header = (*_HEADER[:5], "adjoint", _HEADER[5])
    keep = [c for c in range(len(header)) if c < 4 or any(row[c] for row in rows)]
    table = [tuple(row[c] for c in keep) for row in [header, *rows]]
    return format_table(
        f"Wengert list of {tape.name}: {len(tape.ops())} primitive operations", table
    )


def _adjoint(name: str, adjoints: dict[str, Any]) -> str:
    return format_value(adjoints[name]) if name in adjoints else ""


def to_dot(tape: Any) -> str:
    """The computational graph in Graphviz's format: a node per value (name, operation, value),
    an edge from each value to each operation that reads it."""
    lines = [f'digraph "{tape.name}" {{', "  rankdir=LR;", "  node [shape=box];"]
    known = set()
    for entry in (*tape.inputs, *tape.entries):
        for name, value in zip(entry.outputs, entry.values, strict=True):
            label = f"{name}\\n{_op_text(entry)}\\n{format_value(value)}"
            lines.append(f'  "{name}" [label="{label}"];')
            known.add(name)
            lines.extend(f'  "{i}" -> "{name}";' for i in entry.inputs if i in known)
    for k, name in enumerate(tape.outputs):
        output = f"y{k + 1}" if len(tape.outputs) > 1 else "y"
        lines.append(f'  "{output}" [shape=ellipse];')
        if name in known:
            lines.append(f'  "{name}" -> "{output}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def format_table(title: str, table: list[tuple[str, ...]]) -> str:
    """A title, then the rows as aligned columns, the first row a header ruled off below."""
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    lines = [title]
    for i, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
