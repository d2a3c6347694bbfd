"""Newton's method on a 2-D Bratu problem with a sparse Jacobian from 5 JVPs instead of 4,096.

The Bratu problem Δu + λ eᵘ = 0 on the unit square, u = 0 on the boundary, discretised with the
5-point stencil on a 64 x 64 interior grid: n = 4,096 unknowns, and a Jacobian with at most 5
nonzeros per row. `adkit.sparse` reads the pattern from the residual's jaxpr, colors its columns
(5 colors: no two columns of one color share a row), and gets the whole Jacobian from one JVP
per color. Newton's iteration then solves with SciPy's sparse LU; the result is checked against
the dense Jacobian and by the residual reaching round-off.

    python examples/sparse_newton_bratu.py
"""

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse.linalg as spla

from adkit import sparse

jax.config.update("jax_enable_x64", True)

SIDE, LAM = 64, 6.0
H = 1.0 / (SIDE + 1)


def residual(u_flat):
    u = jnp.pad(u_flat.reshape(SIDE, SIDE), 1)  # the zero boundary
    laplacian = (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * u[1:-1, 1:-1]) / H**2
    return (laplacian + LAM * jnp.exp(u[1:-1, 1:-1])).reshape(-1)


def main():
    n = SIDE * SIDE
    u = jnp.zeros(n)
    jacobian = sparse.jacfwd(residual, output="scipy")  # prepared at the first call
    pattern = sparse.jacobian_sparsity(residual, u)
    coloring = sparse.color(pattern, "column")
    assert coloring.num_colors == 5, coloring.num_colors
    print(f"n = {n}: {pattern.nnz} nonzeros, {coloring.num_colors} JVPs per Jacobian")

    J = jacobian(u)
    np.testing.assert_allclose(J.toarray(), jax.jacfwd(residual)(u), rtol=1e-12, atol=1e-9)

    norms = []
    for _ in range(8):
        r = residual(u)
        norms.append(float(jnp.linalg.norm(r)))
        if norms[-1] < 1e-8:
            break
        u = u - spla.spsolve(jacobian(u).tocsc(), np.asarray(r))
    print("Newton residual norms:", " ".join(f"{x:.1e}" for x in norms))
    assert norms[-1] < 1e-8 and len(norms) <= 7, norms  # quadratic convergence from u = 0
    print(f"max u = {float(u.max()):.4f}; Newton converged on the sparse Jacobian")


if __name__ == "__main__":
    main()
