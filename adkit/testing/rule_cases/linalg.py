"""Rule cases for linear algebra: products, triangular solves, factorizations, linear solves.

Matrices are built well conditioned: diagonally boosted for solves, symmetric positive definite
for Cholesky and eigh, with well-separated eigenvalues and singular values where eigenvectors
or singular vectors are differentiated. Those vectors are defined up to sign, so the programs
return sign-invariant functions of them (v * v, U diag(f(s)) Vᵀ).
"""

import itertools

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jax import lax

from . import RuleCase, mixed, normal, values


# --- matrix builders: each returns make_args(dtype, rng) ---
def boosted(*shape):
    """A random square matrix plus 3 I: every triangle and the whole matrix well conditioned."""
    n = shape[-1]
    return lambda dtype, rng: ((rng.standard_normal(shape) + 3 * np.eye(n)).astype(dtype),)


def spd(*shape):
    """A symmetric positive definite matrix, A Aᵀ + n I."""
    n = shape[-1]

    def make(dtype, rng):
        a = rng.standard_normal(shape)
        return ((a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype),)

    return make


def with_spectrum(values, batch=()):
    """Q diag(values) Qᵀ with a random orthogonal Q: symmetric with known distinct eigenvalues."""
    n = len(values)

    def make(dtype, rng):
        q, _ = np.linalg.qr(rng.standard_normal((*batch, n, n)))
        return (((q * np.asarray(values)) @ np.swapaxes(q, -1, -2)).astype(dtype),)

    return make


def nonsymmetric(values):
    """Q diag(values) Q⁻¹ with a random well-conditioned Q: known distinct real eigenvalues."""
    n = len(values)

    def make(dtype, rng):
        q = rng.standard_normal((n, n)) + 2 * n * np.eye(n)
        return (((q * np.asarray(values)) @ np.linalg.inv(q)).astype(dtype),)

    return make


def tridiagonal(m, n):
    """The diagonals (dl, d, du) of a diagonally dominant tridiagonal matrix and b [m, n]."""

    def make(dtype, rng):
        dl, d, du = rng.standard_normal((3, m))
        dl[0] = du[-1] = 0.0  # the unused ends
        d += 4.0 * np.sign(d)
        return tuple(x.astype(dtype) for x in (dl, d, du, rng.standard_normal((m, n))))

    return make


def _eig_vectors(left, right):
    def squared(a):  # eigenvectors have a free sign; their squares do not
        w, *vectors = lax.linalg.eig(
            a,
            compute_left_eigenvectors=left,
            compute_right_eigenvectors=right,
            enable_eigvec_derivs=True,
        )
        return [w, *(v * v for v in vectors)]

    return squared


def with_singular_values(m, n, values):
    """U diag(values) Vᵀ with random orthonormal U (m x k) and V (n x k), k = min(m, n)."""

    def make(dtype, rng):
        u, _ = np.linalg.qr(rng.standard_normal((m, len(values))))
        v, _ = np.linalg.qr(rng.standard_normal((n, len(values))))
        return (((u * np.asarray(values)) @ v.T).astype(dtype),)

    return make


# --- programs ---
def _triangular(left_side, lower, transpose_a, unit_diagonal, conjugate_a=False):
    def solve(a, b):
        return lax.linalg.triangular_solve(
            a,
            b,
            left_side=left_side,
            lower=lower,
            transpose_a=transpose_a,
            conjugate_a=conjugate_a,
            unit_diagonal=unit_diagonal,
        )

    return solve


def _triangular_cases():
    cases = []
    for left, lower, transpose, unit in itertools.product((True, False), repeat=4):
        b_shape = (3, 2) if left else (2, 3)
        name = "-".join(
            ["left" if left else "right", "lower" if lower else "upper"]
            + (["transpose"] if transpose else [])
            + (["unit"] if unit else [])
        )
        make = mixed(boosted(3, 3), normal(b_shape))
        cases.append(
            RuleCase("triangular_solve", _triangular(left, lower, transpose, unit), make, name=name)
        )
    return cases


def _eigh_sign_free(a):
    w, v = jnp.linalg.eigh(a)
    return w, v * v


def _svd_sign_free(a):
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    return s, u * u, vt * vt, (u * s**2) @ vt


def _svd_square_full(a):
    u, s, vt = jnp.linalg.svd(a, full_matrices=True)
    return s, (u * jnp.sqrt(s)) @ vt


def _qr(mode):
    return lambda a: jnp.linalg.qr(a, mode=mode)


def _custom_solve_symmetric(a, b):
    # a user custom_linear_solve whose solve is Cholesky-based, with a tangent on the operator
    matvec = lambda x: a @ x
    solve = lambda _, y: jsl.cho_solve(jsl.cho_factor(lax.stop_gradient(a)), y)
    return lax.custom_linear_solve(matvec, b, solve, symmetric=True)


def _custom_solve_with_aux(a, b):
    matvec = lambda x: a @ x
    solve = lambda _, y: (jnp.linalg.solve(lax.stop_gradient(a), y), jnp.sum(y))
    x, aux = lax.custom_linear_solve(matvec, b, solve, has_aux=True)
    return x, aux


_A_CONST = np.array([[4.0, 1.0, 0.5], [0.3, 3.0, -1.0], [0.2, 0.1, 5.0]])

CASES = [
    # dot_general: matmul, matvec, vector dot, batched einsum, one constant operand
    RuleCase("dot_general", jnp.matmul, normal((3, 4), (4, 2)), name="matmul"),
    RuleCase("dot_general", jnp.matmul, normal((3, 4), (4,)), name="matvec"),
    RuleCase("dot_general", jnp.dot, normal((4,), (4,)), name="vector-dot"),
    RuleCase(
        "dot_general",
        lambda a, b: jnp.einsum("bij,bjk->bik", a, b),
        normal((2, 3, 4), (2, 4, 2)),
        name="batched",
    ),
    RuleCase(
        "dot_general",
        lambda a, b: jnp.einsum("ij,kj->ik", a, b),
        normal((3, 4), (2, 4)),
        name="einsum-transposed",
    ),
    RuleCase("dot_general", jnp.matmul, normal((2, 3, 4), (4, 2)), name="broadcast-batch"),
    RuleCase("dot_general", lambda a: a @ _A_CONST, normal((2, 3)), name="constant-operand"),
    RuleCase(
        "dot_general",
        lambda a, b: lax.dot(a, b, precision=lax.Precision.HIGHEST),
        normal((3, 3), (3, 2)),
        name="precision",
    ),
    RuleCase("dot_general", lambda a: jnp.tanh(a @ a.T) @ a, normal((3, 2)), name="nested"),
    # triangular_solve: every side / triangle / transpose / unit-diagonal combination
    *_triangular_cases(),
    RuleCase(
        "triangular_solve",
        _triangular(True, True, True, False, conjugate_a=True),
        mixed(boosted(3, 3), normal((3, 2))),
        name="conjugate",
    ),
    RuleCase(
        "triangular_solve",
        _triangular(True, False, False, False),
        mixed(boosted(2, 3, 3), normal((2, 3, 2))),
        name="batched",
    ),
    RuleCase(
        "triangular_solve",
        lambda a, b: jsl.solve_triangular(a, b, lower=True),
        mixed(boosted(3, 3), normal((3,))),
        name="solve_triangular",
    ),
    RuleCase(
        "triangular_solve",
        lambda a, b: jsl.solve_triangular(a, b, trans=1),
        mixed(boosted(3, 3), normal((3, 2))),
        name="solve_triangular-trans",
    ),
    RuleCase(
        "triangular_solve",
        lambda a, b: jsl.cho_solve((jnp.linalg.cholesky(a), True), b),
        mixed(spd(3, 3), normal((3,))),
        name="cho_solve",
    ),
    # cholesky
    RuleCase("cholesky", jnp.linalg.cholesky, spd(3, 3), name="matrix"),
    RuleCase("cholesky", jnp.linalg.cholesky, spd(2, 4, 4), name="batched"),
    RuleCase(
        "cholesky",
        lambda a: lax.linalg.cholesky(a, symmetrize_input=False),
        spd(3, 3),
        name="unsymmetrized",
    ),
    RuleCase("cholesky", lambda a: jsl.cho_factor(a)[0], spd(3, 3), name="cho_factor"),
    # lu: the packed factors and the integer pivots, and scipy's (P, L, U)
    RuleCase("lu", lax.linalg.lu, boosted(3, 3), name="packed"),
    RuleCase("lu", jsl.lu, normal((3, 3)), name="scipy"),
    RuleCase("lu", lax.linalg.lu, normal((4, 3)), name="tall"),
    RuleCase("lu", lax.linalg.lu, normal((3, 4)), name="wide"),
    RuleCase("lu", lax.linalg.lu, normal((2, 3, 3)), name="batched"),
    RuleCase("lu", lambda a: jsl.lu_factor(a)[0], normal((4, 4)), name="lu_factor"),
    # qr: square, tall reduced and complete, wide, batched, column pivoting
    RuleCase("qr", _qr("reduced"), normal((3, 3)), name="square"),
    RuleCase("qr", _qr("reduced"), normal((4, 3)), name="tall"),
    RuleCase("qr", _qr("complete"), normal((4, 2)), name="tall-complete"),
    RuleCase("qr", _qr("reduced"), normal((3, 4)), name="wide"),
    RuleCase("qr", _qr("complete"), normal((2, 3)), name="wide-complete"),
    RuleCase("qr", _qr("r"), normal((2, 4, 3)), name="batched-r"),
    RuleCase(
        "qr", lambda a: jsl.qr(a, pivoting=True, mode="economic"), normal((4, 3)), name="pivoting"
    ),
    # eigh: distinct eigenvalues, sign-free eigenvectors
    RuleCase("eigh", _eigh_sign_free, with_spectrum([1.0, 2.5, 4.0, 6.0]), name="matrix"),
    RuleCase("eigh", _eigh_sign_free, with_spectrum([-2.0, 0.5, 3.0], batch=(2,)), name="batched"),
    RuleCase("eigh", jnp.linalg.eigvalsh, with_spectrum([0.5, 1.5, 3.0]), name="eigvalsh"),
    # A repeated eigenvalue: the eigenvalues' derivative exists, the eigenvectors' does not, and
    # no 1 / (λᵢ - λⱼ) may reach the eigenvalues' cotangent (second order needs the vectors')
    RuleCase(
        "eigh",
        jnp.linalg.eigvalsh,
        values(np.diag([2.0, 2.0, 3.0])),
        name="repeated",
        second_order=False,
    ),
    # eig (non-symmetric): distinct eigenvalues; eigenvectors only with enable_eigvec_derivs
    # (the eigenvalues' tangent needs the eigenvectors: without enable_eigvec_derivs, no second
    # order, as in JAX)
    RuleCase(
        "eig",
        jnp.linalg.eigvals,
        nonsymmetric([1.0, 2.5, -4.0]),
        name="eigvals",
        second_order=False,
    ),
    RuleCase(
        "eig",
        _eig_vectors(False, True),
        nonsymmetric([1.0, 2.5, -4.0]),
        name="right",
        float32=False,
    ),
    RuleCase(  # (second order: the "right" case; both sets of vectors double its cost)
        "eig",
        _eig_vectors(True, True),
        nonsymmetric([0.5, 3.0, -2.0]),
        name="both",
        float32=False,
        second_order=False,
    ),
    RuleCase(
        "eig",
        lambda x, y: lax.linalg.eig(
            lax.complex(x, y), compute_left_eigenvectors=False, enable_eigvec_derivs=True
        ),
        normal((3, 3), (3, 3)),
        name="complex",
        float32=False,
    ),
    # tridiagonal_solve: linear in b, differentiable in the three diagonals
    RuleCase("tridiagonal_solve", lax.linalg.tridiagonal_solve, tridiagonal(5, 2)),
    # svd: distinct singular values, sign-free singular vectors
    RuleCase("svd", _svd_sign_free, with_singular_values(4, 3, [3.0, 2.0, 0.7]), name="tall"),
    RuleCase("svd", _svd_sign_free, with_singular_values(3, 4, [2.5, 1.5, 0.5]), name="wide"),
    RuleCase(
        "svd", _svd_square_full, with_singular_values(3, 3, [3.0, 1.5, 0.5]), name="square-full"
    ),
    RuleCase(
        "svd",
        lambda a: jnp.linalg.svd(a, compute_uv=False),
        with_singular_values(4, 3, [3.0, 2.0, 0.7]),
        name="values-only",
    ),
    # custom_linear_solve: jnp.linalg.solve and the functions built on it, and user solves
    RuleCase(
        "custom_linear_solve",
        jnp.linalg.solve,
        mixed(boosted(3, 3), normal((3,))),
        name="solve-vector",
    ),
    RuleCase(
        "custom_linear_solve",
        jnp.linalg.solve,
        mixed(boosted(3, 3), normal((3, 2))),
        name="solve-matrix",
    ),
    RuleCase(
        "custom_linear_solve",
        jnp.linalg.solve,
        mixed(boosted(2, 3, 3), normal((2, 3, 1))),
        name="solve-batched",
    ),
    RuleCase(
        "custom_linear_solve",
        lambda b: jnp.linalg.solve(_A_CONST, b),
        normal((3,)),
        name="solve-rhs-only",
    ),
    RuleCase("custom_linear_solve", jnp.linalg.inv, boosted(3, 3), name="inv"),
    # det and slogdet: custom_jvp functions of an LU factorization whose JAX-defined JVP
    # solves with jnp.linalg.solve (so their tangents go through custom_linear_solve)
    RuleCase("lu", jnp.linalg.det, boosted(4, 4), name="det"),
    RuleCase("lu", lambda a: jnp.linalg.slogdet(a)[1], boosted(3, 3), name="slogdet"),
    RuleCase(
        "custom_linear_solve",
        _custom_solve_symmetric,
        mixed(spd(3, 3), normal((3,))),
        name="symmetric",
    ),
    RuleCase(
        "custom_linear_solve",
        _custom_solve_with_aux,
        mixed(boosted(3, 3), normal((3,))),
        name="aux",
    ),
    RuleCase("svd", jnp.linalg.pinv, with_singular_values(3, 3, [3.0, 1.5, 0.5]), name="pinv"),
]
