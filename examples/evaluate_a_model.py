"""Run an equinox MLP through adkit's evaluator and tape, and check both against the model.

python examples/evaluate_a_model.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import adkit


def main() -> None:
    model = eqx.nn.MLP(in_size=3, out_size=2, width_size=4, depth=2, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def predict(params, x):
        return eqx.combine(params, static)(x)

    x = jnp.array([0.5, -1.0, 2.0])
    closed = jax.make_jaxpr(predict)(params, x)
    leaves = jax.tree.leaves((params, x))

    [eager] = adkit.eval_jaxpr(closed, *leaves)
    [compiled] = jax.jit(lambda *a: adkit.eval_jaxpr(closed, *a))(*leaves)
    np.testing.assert_array_equal(eager, predict(params, x))
    np.testing.assert_array_equal(compiled, jax.jit(predict)(params, x))

    tape = adkit.trace(predict, params, x)
    np.testing.assert_allclose(tape.output, predict(params, x), rtol=1e-6)
    print(f"{len(tape.ops())} primitive operations; the first rows of the tape:")
    print("\n".join(str(tape).splitlines()[:14]))
    print("adkit and the model agree:", eager)


if __name__ == "__main__":
    main()
