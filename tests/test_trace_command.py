"""`adkit trace`: the Wengert list of a user's function from the command line, on good input
(the textbook values) and bad (each a one-line error and exit status 2)."""

import math

import pytest

from adkit.cli import main

MODULE = """
import jax.numpy as jnp


def textbook(x1, x2):
    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


def second(x1, x2):
    return (x1 + x2) * jnp.sin(x1)


def vector(x):
    return jnp.tanh(x) * 2.0
"""


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "functions.py"
    path.write_text(MODULE)
    return path


def _last(out, prefix):
    return next(line for line in out.splitlines() if line.startswith(prefix))


def test_the_textbook_function_gives_the_textbook_values(module, capsys):
    assert main(["trace", f"{module}:textbook", "--args", "2", "5"]) == 0
    out = capsys.readouterr().out
    assert "var  op      inputs   value          tangent  adjoint" in out
    assert _last(out, "tangent of f").endswith("= 5.5")  # df/dx1 = 1/x1 + x2
    gradient = _last(out, "gradient").split("= (")[1].rstrip(")").split(", ")
    assert float(gradient[0]) == 5.5
    assert math.isclose(float(gradient[1]), 2 - math.cos(5), rel_tol=1e-9)  # df/dx2
    # the tangent seeded on x2 instead
    assert main(["trace", f"{module}:textbook", "--args", "2", "5", "--wrt", "1"]) == 0
    tangent = float(_last(capsys.readouterr().out, "tangent of f").split("= ")[1])
    assert math.isclose(tangent, 2 - math.cos(5), rel_tol=1e-9)


def test_the_second_example_and_explicit_tangents(module, capsys):
    assert main(["trace", f"{module}:second", "--args", "1", "2", "--tangents", "1", "0"]) == 0
    out = capsys.readouterr().out
    gradient = [float(g) for g in _last(out, "gradient").split("= (")[1].rstrip(")").split(", ")]
    assert math.isclose(gradient[0], math.sin(1) + 3 * math.cos(1), rel_tol=1e-9)  # 2.4624
    assert math.isclose(gradient[1], math.sin(1), rel_tol=1e-9)
    assert f"{gradient[0]:.4f}" == "2.4624"


def test_a_vector_output_has_no_adjoint_column_and_says_why(module, capsys):
    assert main(["trace", f"{module}:vector", "--args", "[0.5, -1.0]"]) == 0
    out = capsys.readouterr().out
    assert "adjoint" not in out.splitlines()[1] and "not a scalar" in out


def test_the_graph_is_written_for_graphviz(module, tmp_path, capsys, monkeypatch):
    dot = tmp_path / "graph.dot"
    assert main(["trace", f"{module}:second", "--args", "1", "2", "--dot", str(dot)]) == 0
    text = dot.read_text()
    assert text.startswith('digraph "second"') and '"v-1" -> "v1";' in text
    monkeypatch.setattr("shutil.which", lambda name: None)  # no Graphviz
    svg = str(tmp_path / "graph.svg")
    assert main(["trace", f"{module}:second", "--args", "1", "2", "--svg", svg]) == 2
    assert "needs Graphviz's `dot` program" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["MISSING.py:f", "--args", "1"], "no Python file"),
        (["{m}:nothing", "--args", "1"], "has no function 'nothing'"),
        (["{m}", "--args", "1"], "expected path/to/module.py:function"),
        (["{m}:second", "--args", "1", "__import__('os')"], "takes numbers or nested lists"),
        (["{m}:second", "--args", "1", "'a'"], "takes numbers"),
        (["{m}:second", "--args", "1"], "takes (x1, x2), but --args gave 1 argument(s)"),
        (["{m}:second", "--args", "1", "2", "--wrt", "5"], "--wrt 5 is not an argument"),
        (["{m}:second", "--args", "1", "2", "--tangents", "1"], "one tangent per argument"),
    ],
)
def test_bad_input_is_a_one_line_error_and_status_2(module, capsys, argv, message):
    argv = [a.replace("{m}", str(module)) for a in argv]
    assert main(["trace", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
