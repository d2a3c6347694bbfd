"""The package's shape: no import cycle, rules below engines, every module importable alone.

The import graph is read from the source with `ast` (explicit imports only, `if TYPE_CHECKING:`
blocks left out), with one node per module of `adkit/`.
"""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "adkit"
INTERPRETER = "adkit.interpreter"
# the engines: folders (and the evaluator) that walk jaxprs; rules must not import them
ENGINES = tuple(
    f"{INTERPRETER}.{name}"
    for name in ("forward", "reverse", "wengert", "sparsity", "_eval", "_staging")
)


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: pathlib.Path) -> set[str]:
    """The adkit modules that `name` imports, resolved to module names."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES and m != name}


def _runtime_nodes(tree):
    """Every node except those under `if TYPE_CHECKING:`."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle(graph) -> list[str] | None:
    """One import cycle, as a list of modules, or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def _is_below(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_import_graph_has_no_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {**GRAPH, "adkit._version": {"adkit"}}  # adkit imports _version already
    assert _cycle(graph) is not None


def test_rules_import_no_engine():
    offenders = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if _is_below(name, f"{INTERPRETER}.rules")
        for target in targets
        if any(_is_below(target, engine) for engine in ENGINES)
    ]
    assert not offenders, "the rule layer must stay below the engines:\n" + "\n".join(offenders)


def test_the_graph_sees_the_imports_it_checks():
    # the checks above are only as good as the graph: spot-check edges that must be there
    assert f"{INTERPRETER}._registry" in GRAPH[f"{INTERPRETER}.rules.jvp.elementwise"]
    assert f"{INTERPRETER}.rules.slopes" in GRAPH[f"{INTERPRETER}.rules.vjp.elementwise"]
    assert f"{INTERPRETER}.forward.engine" in GRAPH[f"{INTERPRETER}.forward.calls"]


def test_public_modules_do_not_reach_into_private_interpreter_modules():
    # adkit.ops and adkit.testing extend the interpreter through `adkit.interpreter.rules` (and
    # the engines' packages), never through a private module of the interpreter
    offenders = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if _is_below(name, "adkit.ops") or _is_below(name, "adkit.testing")
        for target in targets
        if _is_below(target, INTERPRETER) and any(p.startswith("_") for p in target.split(".")[2:])
    ]
    assert not offenders, "\n".join(offenders)


# A fresh interpreter per module spends about a second importing jax (and ml_dtypes) before it
# reaches adkit: 119 modules took two CPU-minutes. The importer below imports jax once, no adkit
# module, then forks a child per module, which starts with no adkit module loaded, imports that
# one module, and exits; its status and output come back over a pipe.
_IMPORTER = r"""
import json, os, signal, sys, traceback
import jax  # what every adkit module imports first; no adkit module is loaded here
assert not any(m == "adkit" or m.startswith("adkit.") for m in sys.modules)
for line in sys.stdin:
    name = line.strip()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        os.dup2(w, 2)
        signal.alarm(120)
        try:
            exec(f"import {name}")
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        output = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    print(json.dumps([os.waitstatus_to_exitcode(status), output]), flush=True)
"""


@pytest.fixture(scope="module")
def importer():
    process = subprocess.Popen(
        [sys.executable, "-c", _IMPORTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def import_alone(name):
        process.stdin.write(name + "\n")
        process.stdin.flush()
        reply = process.stdout.readline()
        assert reply, f"the importer died (exit status {process.wait()})"
        return json.loads(reply)

    yield import_alone
    process.stdin.close()
    process.wait(timeout=60)


def _loaded_by_the_package() -> set[str]:
    """The adkit modules `import adkit` loads (in a fresh process)."""
    code = "import adkit, sys; print(' '.join(m for m in sys.modules if m.startswith('adkit')))"
    return set(subprocess.check_output([sys.executable, "-c", code], text=True).split())


# `import adkit.x.y` runs adkit/__init__.py first; when that already imports adkit.x.y, importing
# it "alone" is `import adkit` again. So: the package, and every module it does not load.
ALONE = sorted({"adkit"} | (set(MODULES) - _loaded_by_the_package()))


def test_most_modules_are_loaded_by_the_package():
    assert "adkit.interpreter.forward.engine" not in ALONE and len(ALONE) < len(MODULES)


@pytest.mark.parametrize("name", ALONE)
def test_every_module_imports_on_its_own(name, importer):
    returncode, output = importer(name)
    assert returncode == 0, output[-2000:]


def test_the_importer_reports_a_module_that_fails_to_import(importer):
    returncode, output = importer("adkit.no_such_module")
    assert returncode != 0 and "ModuleNotFoundError" in output, output
    assert importer("adkit._version")[0] == 0  # and the importer carries on


def _family(module: str, folder: str) -> str | None:
    """`elementwise` for `adkit.interpreter.rules.jvp.elementwise` when folder is `rules.jvp`."""
    prefix = f"{INTERPRETER}.{folder}."
    return module[len(prefix) :] if module.startswith(prefix) else None


FOLDERS = {  # table -> (folder of first-order rules, folder of the engine's rules)
    "jvp": ("rules.jvp", "forward"),
    "vjp": ("rules.vjp", "reverse.tape"),
    "transpose": ("rules.transpose", "reverse.transpose"),
    "jet": ("rules.jet", "jet"),
}


def test_a_primitive_has_its_rules_in_files_of_the_same_name_in_every_mode():
    from adkit.interpreter.rules import JET_RULES, JVP_RULES, TRANSPOSE_RULES, VJP_RULES

    tables = {"jvp": JVP_RULES, "vjp": VJP_RULES, "transpose": TRANSPOSE_RULES, "jet": JET_RULES}
    misplaced, checked = [], 0
    for primitive, origin in JVP_RULES.origin.items():
        for kind in ("rules", "engine"):
            index = 0 if kind == "rules" else 1
            family = _family(origin, FOLDERS["jvp"][index])
            if family is None:
                continue
            for mode in ("vjp", "transpose", "jet"):
                if getattr(tables[mode].get(primitive), "derived", False):
                    continue  # a jet rule derived from the JVP rule: registered in jet/derived.py
                other = tables[mode].origin.get(primitive, "")
                if other.startswith(f"{INTERPRETER}.{FOLDERS[mode][index]}."):
                    checked += 1
                    if _family(other, FOLDERS[mode][index]) != family:
                        misplaced.append(f"{primitive.name}: {origin} but {other}")
    assert not misplaced, "\n".join(misplaced)
    assert checked > 100  # the check saw the tables


def test_rule_folders_share_their_file_names():
    from adkit.interpreter.rules import jet, jvp, transpose, vjp

    assert vjp.FAMILIES == jvp.FAMILIES
    assert set(transpose.FAMILIES) <= set(jvp.FAMILIES)
    assert set(jet.FAMILIES) <= set(jvp.FAMILIES)
    engine_files = {
        folder: {p.stem for p in (ROOT / "interpreter" / folder).glob("*.py")} - {"__init__"}
        for folder in ("forward", "reverse/tape", "reverse/transpose", "wengert", "sparsity", "jet")
    }
    for construct in ("calls", "cond", "scan", "while_loop"):
        assert all(construct in files for files in engine_files.values()), construct
    assert all("engine" in files for files in engine_files.values())


def test_the_architecture_page_example_runs():
    import re

    page = (ROOT.parent / "docs" / "architecture.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert blocks
    from adkit.interpreter.rules import JVP_RULES, VJP_RULES

    before = (set(JVP_RULES), set(VJP_RULES))
    for block in blocks:
        exec(block, {})  # the example asserts its own results
    for table, shipped in zip((JVP_RULES, VJP_RULES), before, strict=True):
        for primitive in set(table) - shipped:  # leave the tables as shipped
            del table[primitive]


@pytest.mark.parametrize("name", ["register_jvp", "register_vjp", "register_transpose"])
def test_registering_a_non_primitive_names_the_call(name):
    import adkit

    with pytest.raises(TypeError, match=rf"`adkit\.{name}` expects a JAX primitive.*received 42"):
        getattr(adkit, name)(42, lambda *args: None)
