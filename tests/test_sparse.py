"""adkit.sparse: detection exact on every acceptance problem, compressed Jacobians and Hessians
equal to JAX's dense ones, and the API's composition (jit, vmap, argnums, formats, methods).

Coloring and recovery have their own file (test_sparse_coloring.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp
from jax import lax

from adkit import sparse
from adkit.bench.suites import sparse_problems as problems
from adkit.interpreter.rules import MissingRuleError


def _dense_nonzeros(f, x):
    """The dense Jacobian's nonzeros, as an (outputs x inputs) matrix."""
    return np.asarray(jax.jacfwd(f)(x)).reshape(-1, x.size) != 0


# --- detection -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(problems.JACOBIAN_PROBLEMS))
def test_detection_is_exact_on_every_problem(name):
    # the detected pattern is the dense Jacobian's nonzeros: nothing missed (sound), nothing
    # extra (precise) at a generic point
    f, x = problems.JACOBIAN_PROBLEMS[name]()
    pattern = sparse.jacobian_sparsity(f, x)
    assert pattern.shape == (f(x).size, x.size)
    np.testing.assert_array_equal(pattern.todense(), _dense_nonzeros(f, x))


@pytest.mark.parametrize("name", sorted(problems.JACOBIAN_PROBLEMS))
def test_the_sparse_jacobian_equals_jax_jacfwd(name):
    f, x = problems.JACOBIAN_PROBLEMS[name]()
    jac = sparse.jacfwd(f, output="dense")(x)
    dense = jax.jacfwd(f)(x)
    if name == "conv_net":
        # XLA sums a convolution's window in an order that depends on the batch (128 basis
        # tangents against 5 seeds): the last bit may differ; the pattern test above is exact
        np.testing.assert_allclose(jac, dense, rtol=0, atol=8 * np.finfo(np.float64).eps)
    else:
        np.testing.assert_array_equal(jac, dense)


def test_brusselator_64_equals_dense_jacfwd_with_at_most_eleven_colors():
    f, x = problems.brusselator(64)
    prepared = sparse.prepare(f, x, mode="forward")
    assert prepared.num_colors <= 11
    dense = np.asarray(jax.jit(jax.jacfwd(f))(x))  # 8192 x 8192
    values = np.asarray(prepared.values(x))
    assert np.count_nonzero(dense) == prepared.nnz
    np.testing.assert_array_equal(
        dense[np.asarray(prepared.rows), np.asarray(prepared.cols)], values
    )


def test_a_straight_through_custom_jvp_has_the_jacobian_of_its_rule():
    f, x = problems.straight_through(8)
    np.testing.assert_array_equal(sparse.jacfwd(f, output="dense")(x), 2.0 * np.eye(8))
    assert sparse.jacobian_sparsity(f, x) == sparse.Pattern.from_dense(np.eye(8))


def test_a_custom_vjp_gets_the_pattern_of_its_backward_rule():
    @jax.custom_vjp
    def f(x):
        return x * 1.0

    f.defvjp(lambda x: (f(x), None), lambda _, ct: (ct + jnp.roll(ct, 1),))
    x = jnp.arange(5.0)
    expected = np.asarray(jax.jacrev(f)(x)) != 0  # I plus a cyclic shift, not I
    assert expected.sum() == 10
    np.testing.assert_array_equal(sparse.jacobian_sparsity(f, x).todense(), expected)


def test_cond_takes_the_union_of_its_branches_or_the_known_branch():
    f = lambda x: lax.cond(x[0] > 0, lambda v: 2.0 * v, lambda v: jnp.roll(v, 1), x)
    pattern = sparse.jacobian_sparsity(f, jnp.ones(4)).todense()
    np.testing.assert_array_equal(pattern, np.eye(4, dtype=bool) | (np.roll(np.eye(4), 1, 0) > 0))
    always = jnp.asarray(True)  # a known predicate: only the branch taken
    g = lambda x: lax.cond(always, lambda v: 2.0 * v, lambda v: jnp.roll(v, 1), x)
    np.testing.assert_array_equal(sparse.jacobian_sparsity(g, jnp.ones(4)).todense(), np.eye(4))


def test_a_data_dependent_while_loop_is_widened_to_a_sound_fixed_point():
    def f(x):
        body = lambda c: (0.25 * c[0] + 0.25 * jnp.roll(c[0], 1), c[1] + 1)  # sum halves
        return lax.while_loop(lambda c: jnp.sum(c[0]) > 1.0, body, (x, 0))[0]

    x = jnp.asarray([3.0, 1.0, 2.0, 0.5, 0.25, 1.0])
    pattern = sparse.jacobian_sparsity(f, x).todense()
    assert (pattern | ~_dense_nonzeros(f, x)).all()  # everything the Jacobian has
    assert pattern.all()  # any number of cyclic shifts reaches everything


def test_a_known_sparse_matrix_keeps_its_pattern_through_dot_general():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 5)) * (rng.uniform(size=(6, 5)) < 0.3)
    pattern = sparse.jacobian_sparsity(lambda x: jnp.asarray(a) @ x, jnp.ones(5))
    np.testing.assert_array_equal(pattern.todense(), a != 0)
    # both operands depending on the input: out[i, j] on row i of X and column j of Y
    both = sparse.jacobian_sparsity(lambda x: x.reshape(2, 3) @ x.reshape(3, 2), jnp.ones(6))
    f = lambda x: x.reshape(2, 3) @ x.reshape(3, 2)
    np.testing.assert_array_equal(both.todense(), _dense_nonzeros(f, jnp.arange(1.0, 7.0)))


def test_reductions_cumsums_and_sorts_are_exact_or_whole_line():
    x = jnp.arange(1.0, 13.0)
    for f in (
        lambda x: jnp.sum(x.reshape(3, 4) ** 2, axis=0),
        lambda x: jnp.max(x.reshape(3, 4), axis=1),
        lambda x: jnp.cumsum(x.reshape(3, 4), axis=1),
        lambda x: jnp.cumprod(x.reshape(3, 4)[:, ::-1], axis=0),
        lambda x: jnp.sort(x.reshape(3, 4), axis=1),
        lambda x: jnp.fft.rfft(x.reshape(3, 4)).real,
        lambda x: lax.reduce_window(x.reshape(3, 4), 0.0, lax.add, (2, 2), (1, 1), "VALID"),
    ):
        pattern = sparse.jacobian_sparsity(f, x).todense()
        nonzeros = _dense_nonzeros(f, x)
        assert (pattern | ~nonzeros).all()  # sound
        assert pattern.sum() <= 12 * f(x).size  # and not dense over everything
        if pattern.sum() != nonzeros.sum():  # only sort and fft may be wider than the value
            assert f(x).shape[-1] in (3, 4)


def test_an_unknown_primitive_is_an_error_naming_it_unless_dense_is_asked_for():
    from jax.extend.core import Primitive

    mystery = Primitive("mystery_op")
    mystery.def_impl(lambda x: x * 2.0)
    mystery.def_abstract_eval(lambda x: x)
    f = lambda x: mystery.bind(jnp.sin(x[:2]))
    with pytest.raises(MissingRuleError, match="mystery_op"):
        sparse.jacobian_sparsity(f, jnp.ones(3))
    pattern = sparse.jacobian_sparsity(f, jnp.ones(3), unknown="dense")
    np.testing.assert_array_equal(pattern.todense(), [[1, 1, 0], [1, 1, 0]])
    with pytest.raises(ValueError, match='"error" or "dense"'):
        sparse.jacobian_sparsity(f, jnp.ones(3), unknown="maybe")


def test_a_million_unknown_stencil_is_detected_without_a_loop_per_element():
    f, x = problems.laplacian(1000, dtype=jnp.float32)
    pattern = sparse.jacobian_sparsity(f, jax.ShapeDtypeStruct(x.shape, x.dtype))
    assert pattern.shape == (10**6, 10**6)
    assert pattern.nnz == 5 * 10**6 - 4 * 1000  # five per row, minus the boundary's


def _random_rows(rng, rows, cols, canonical=True):
    """A random boolean CSR matrix (some rows empty); canonical or with rows shuffled."""
    dense = rng.random((rows, cols)) < 0.2
    dense[rng.random(rows) < 0.2] = False
    matrix = sp.csr_array(dense)
    if not canonical:
        for r in range(rows):  # the same sets, each row's columns in a shuffled order
            a, b = matrix.indptr[r], matrix.indptr[r + 1]
            matrix.indices[a:b] = rng.permutation(matrix.indices[a:b])
        matrix.has_sorted_indices = False
    return dense, matrix


def test_row_gather_and_union_kernels_equal_scipy():
    # the sets' two compiled operations against the dense sets they stand for
    from adkit.interpreter.rules.sparsity import _sets

    rng = np.random.default_rng(0)
    for canonical in (True, False):
        a_dense, a = _random_rows(rng, 40, 13, canonical)
        b_dense, b = _random_rows(rng, 40, 13, canonical)
        ids = rng.integers(-1, 40, size=57)  # repeats, and -1 for "no source"
        taken = _sets.take_rows(a, ids)
        expected = np.where((ids >= 0)[:, None], a_dense[np.maximum(ids, 0)], False)
        np.testing.assert_array_equal(taken.toarray(), expected)
        assert taken.has_canonical_format == canonical  # kept when it held
        joined = _sets.union(a, b, _sets.empty_matrix(40, 13), a)
        np.testing.assert_array_equal(joined.toarray(), a_dense | b_dense)
        assert joined.has_canonical_format and joined.nnz == (a_dense | b_dense).sum()
        stacked = _sets.stack_rows([_sets.with_matrix((40,), a), _sets.with_matrix((40,), b)])
        np.testing.assert_array_equal(stacked.toarray(), np.vstack([a_dense, b_dense]))
    # int32 indices while they fit; the shared data buffer is read-only
    assert taken.indices.dtype == taken.indptr.dtype == np.int32
    assert not taken.data.flags.writeable


def test_row_kernels_redo_in_int64_an_index_dtype_that_overflowed(monkeypatch):
    # with int8 indices (127 at most) the ~150 entries overflow: both operations redo in int64
    from adkit.interpreter.rules.sparsity import _sets

    rng = np.random.default_rng(2)
    a_dense, a = _random_rows(rng, 40, 13)
    b_dense, b = _random_rows(rng, 40, 13)
    monkeypatch.setattr(_sets, "_index_dtype", lambda n: np.int8)
    ids = rng.integers(0, 40, size=80)
    taken = _sets.take_rows(a, ids)
    assert taken.nnz > 127 and taken.indices.dtype == np.int64
    np.testing.assert_array_equal(taken.toarray(), a_dense[ids])
    joined = _sets.union(a, b)
    assert joined.nnz > 127 and joined.indices.dtype == np.int64
    np.testing.assert_array_equal(joined.toarray(), a_dense | b_dense)


def test_sets_are_assembled_without_scipys_checks_only_where_that_builds_the_same_array():
    # `_csr` skips SciPy's constructor when an import-time check showed the result identical
    from adkit.interpreter.rules.sparsity import _sets

    assert _sets._ASSEMBLE, "this SciPy's CSR arrays are assembled by its constructor"
    indptr, indices = np.array([0, 2, 2, 3]), np.array([1, 4, 0])
    fast = _sets._csr(indptr, indices, 5, canonical=True)
    slow = sp.csr_array((np.ones(3, dtype=bool), indices, indptr), shape=(3, 5))
    assert type(fast) is type(slow) and fast.shape == slow.shape
    assert (fast != slow).nnz == 0 and (fast @ slow.T).nnz == (slow @ slow.T).nnz
    np.testing.assert_array_equal((fast + slow).toarray(), slow.toarray())


def test_a_jitted_call_that_only_moves_elements_is_one_composed_gather(monkeypatch):
    # jnp.roll is a jit of slices and a concatenate: its index maps are composed in NumPy
    # (`moves_through`); the pattern equals the walked one and the dense Jacobian's
    from adkit.interpreter.rules.sparsity import _sets
    from adkit.interpreter.sparsity import calls

    def f(x):
        u = x.reshape(6, 5)
        return (jnp.roll(u, 1, 0) * jnp.roll(u, -2, 1) + jnp.pad(u, 1)[1:-1, 2:]).reshape(-1)

    x = jnp.asarray(np.random.default_rng(1).normal(size=30))
    composed = []
    original = calls.moves_through
    monkeypatch.setattr(
        calls, "moves_through", lambda *a: composed.append(original(*a)) or composed[-1]
    )
    fast = sparse.jacobian_sparsity(f, x)
    assert sum(c is not None for c in composed) == 2  # both rolls (jnp.pad's call has a fill)
    np.testing.assert_array_equal(fast.todense(), _dense_nonzeros(f, x))
    monkeypatch.setattr(calls, "moves_through", lambda *a: None)  # walked equation by equation
    np.testing.assert_array_equal(sparse.jacobian_sparsity(f, x).todense(), fast.todense())
    # a call with a known operand is walked, so that its known values are kept
    roll = jax.make_jaxpr(lambda c: jnp.roll(c, 3))(jnp.arange(30.0)).eqns[0].params["jaxpr"]
    avals = [jax.core.ShapedArray((30,), jnp.float32)]
    assert original(roll, [_sets.known(np.arange(30.0), 30)], avals) is None
    assert original(roll, [_sets.identity((30,), 0, 30)], avals) is not None


def test_hessian_sparsity_and_the_star_colored_hessian():
    f, x = problems.gradient_energy(16)
    pattern = sparse.hessian_sparsity(f, x)
    dense = np.asarray(jax.hessian(f)(x))
    np.testing.assert_array_equal(pattern.todense(), dense != 0)
    prepared = sparse.prepare(f, x, mode="hessian")
    assert (prepared.kind, prepared.num_colors) == ("star", 5)
    np.testing.assert_array_equal(prepared(x).todense(), dense)
    acyclic = sparse.hessian(f, kind="acyclic", output="dense")(x)
    np.testing.assert_allclose(acyclic, dense, rtol=1e-12, atol=1e-12)


# --- the API ---------------------------------------------------------------------------------
def test_pytrees_argnums_and_every_output_format():
    def f(params, scale):
        a, b = params["a"], params["b"]
        return {"y": a[1:] * b[:-1] * scale, "z": jnp.sin(a)}

    params = {"a": jnp.arange(1.0, 5.0), "b": jnp.arange(2.0, 6.0)}
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    g = lambda v: jax.flatten_util.ravel_pytree(f(unravel(v), 3.0))[0]
    dense = np.asarray(jax.jacfwd(g)(flat))
    for output in ("bcoo", "bcsr", "dense", "scipy"):
        jac = sparse.jacfwd(f, output=output)(params, 3.0)
        as_dense = (
            jac.toarray()
            if output == "scipy"
            else np.asarray(jac if output == "dense" else jac.todense())
        )
        np.testing.assert_array_equal(as_dense, dense)
    assert isinstance(sparse.jacrev(f, output="scipy")(params, 3.0), sp.csr_array)
    # two differentiated arguments: columns of the first, then the second
    both = sparse.jacfwd(lambda x, y: x * y, argnums=(0, 1), output="dense")(
        jnp.ones(3), 2.0 * jnp.ones(3)
    )
    np.testing.assert_array_equal(both, np.hstack([2.0 * np.eye(3), np.eye(3)]))


def test_jit_vmap_and_a_prepared_pytree():
    f, x = problems.bratu(32)
    prepared = sparse.prepare(f, x, output="dense")
    dense = jax.jacfwd(f)(x)
    np.testing.assert_array_equal(jax.jit(lambda p, v: p(v))(prepared, x), dense)
    xs = jnp.stack([x, 2.0 * x])
    batched = jax.vmap(prepared)(xs)
    np.testing.assert_array_equal(batched, jax.vmap(jax.jacfwd(f))(xs))
    jitted = jax.jit(sparse.jacfwd(f))(x)  # prepared inside jit (detection needs only shapes)
    np.testing.assert_array_equal(jitted.todense(), dense)
    with pytest.raises(TypeError, match="inside `jit`"):
        jax.jit(sparse.jacfwd(f, output="scipy"))(x)


def test_modes_methods_and_chunks_agree():
    f, x = problems.brusselator(8)
    dense = np.asarray(jax.jacfwd(f)(x))
    for options in (
        {"mode": "reverse"},
        {"mode": "bidirectional"},
        {"mode": "forward", "method": "adkit"},
        {"mode": "reverse", "method": "adkit"},
        {"mode": "forward", "chunk_size": 3},
    ):
        prepared = sparse.prepare(f, x, output="dense", **options)
        np.testing.assert_allclose(prepared(x), dense, rtol=1e-13, atol=1e-13)


def test_jacobian_picks_the_side_with_fewer_products():
    # an arrowhead (a dense row and a dense column): n JVPs or n VJPs, or 3 products mixed
    f = lambda x: x.at[0].add(jnp.sum(x)) + x[0] * x
    x = jnp.arange(1.0, 31.0)
    prepared = sparse.prepare(f, x)
    assert prepared.mode == "bidirectional" and prepared.num_colors == 3
    np.testing.assert_allclose(prepared(x).todense(), jax.jacfwd(f)(x), rtol=1e-14)
    tall = lambda x: jnp.concatenate([x, jnp.sum(x)[None]])  # a dense row only: columns fail
    assert sparse.prepare(tall, x).mode in ("reverse", "bidirectional")


def test_verify_catches_a_pattern_that_misses_an_entry():
    f, x = problems.bratu(16)
    prepared = sparse.prepare(f, x)
    assert prepared.verify(jax.random.key(0), x) < 1e-12
    full = sparse.jacobian_sparsity(f, x)
    missing = sparse.Pattern(full.shape, full.rows[1:], full.cols[1:])
    wrong = sparse.prepare(f, x, pattern=missing)
    with pytest.raises(ValueError, match="misses entries"):
        wrong.verify(jax.random.key(0), x)


def test_the_color_batch_spreads_over_eight_devices():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).with_name("sharded_sparse.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded sparse jacobian ok" in result.stdout


def test_dynamic_slices_with_known_starts_are_exact_and_unknown_starts_conservative():
    start = jnp.asarray(2)  # a known value: the slice is an index map

    def f(x):
        window = lax.dynamic_slice(x, (start,), (3,))
        return lax.dynamic_update_slice(x, jnp.sin(window), (start + 3,))

    x = jnp.arange(1.0, 9.0)
    np.testing.assert_array_equal(sparse.jacobian_sparsity(f, x).todense(), _dense_nonzeros(f, x))
    g = lambda x, i: lax.dynamic_slice(x, (i,), (2,))  # i unknown: any element may be read
    pattern = sparse.jacobian_sparsity(g, x, jnp.asarray(1)).todense()
    assert pattern.all() and pattern.shape == (2, 8)


def test_the_bcoo_reads_the_compressed_products_in_place():
    # column coloring: each element of the products holds at most one entry, so the BCOO's data
    # is the products themselves (no gather), padded where an element holds no entry
    f, x = problems.bratu(10)
    prepared = sparse.prepare(f, x, mode="forward")
    assert prepared.in_place and prepared.num_colors == 3
    jac = prepared(x)
    _, b, _ = prepared.products(x)
    np.testing.assert_array_equal(jac.data, b.ravel())
    assert jac.nse == 3 * 10 and prepared.nnz == 28  # two padding elements (the corners)
    v = jnp.arange(10.0)
    np.testing.assert_allclose(jac @ v, jax.jacfwd(f)(x) @ v, rtol=1e-14)
    star = sparse.prepare(*problems.gradient_energy(4), mode="hessian")
    assert not star.in_place  # H[i, j] and H[j, i] may read one element: a gather


def test_a_call_on_values_wraps_the_kept_index_array_without_copying_it():
    # on values (outside jit), jacfwd runs its compiled products and wraps them around the
    # index array the prepared function holds on the device: the same buffer on every call
    f, x = problems.bratu(12)
    jac = sparse.jacfwd(f)
    first, second = jac(x), jac(2.0 * x)
    kept = jac.prepared(x).flat_indices
    for matrix in (first, second):
        assert matrix.indices.unsafe_buffer_pointer() == kept.unsafe_buffer_pointer()
    np.testing.assert_array_equal(second.todense(), jax.jacfwd(f)(2.0 * x))
    inside = jax.jit(jac)(2.0 * x)  # traced: the same matrix, its indices a program output
    np.testing.assert_array_equal(inside.data, second.data)
    np.testing.assert_array_equal(inside.indices, second.indices)
    dense = sparse.jacfwd(f, output="dense")  # other outputs are assembled after the products
    np.testing.assert_array_equal(dense(x), jax.jacfwd(f)(x))


def _root(compiled_text: str) -> str:
    """The root instruction of a compiled program's entry computation (its HLO text)."""
    entry = compiled_text[compiled_text.index("\nENTRY ") :]
    return next(line for line in entry.splitlines() if line.strip().startswith("ROOT "))


def test_the_products_are_flattened_by_a_bitcast_behind_a_conditional():
    # XLA fuses a reshape at a program's root into the products' loop (a slower flat loop on
    # CPU); computed behind a conditional whose predicate is read from the data, the products
    # keep their (colors, n) loop and the flat BCOO data is a bitcast of the conditional's buffer
    from adkit.sparse._api import _Compiled
    from adkit.sparse._evaluate import behind_conditional

    f, x = problems.laplacian(8)
    prepared = sparse.prepare(f, x, mode="forward")
    products = lambda v: prepared.products(v)[1]
    fused = jax.jit(lambda v: products(v).ravel()).lower(x).compile().as_text()
    assert " fusion(" in _root(fused)  # the reshape fused into the products' loop
    apart = jax.jit(lambda v: behind_conditional(products, v).ravel())
    assert " bitcast(" in _root(apart.lower(x).compile().as_text())
    compiled = _Compiled(prepared)  # what jacfwd runs on values
    text = compiled.run.lower(x).compile().as_text()
    assert " bitcast(" in _root(text)
    assert len(_parameters(text)) == 1  # the predicate comes from x: no extra argument
    np.testing.assert_array_equal(compiled(x).todense(), jax.jacfwd(f)(x))
    # the predicate is true for every value, NaN included, so the branch never taken returns
    # zeros and the products are traced and compiled once
    traced = jax.make_jaxpr(lambda v: behind_conditional(products, v))(x)
    (cond,) = [e for e in traced.eqns if e.primitive.name == "cond"]
    work = [{e.primitive.name for e in b.jaxpr.eqns} for b in cond.params["branches"]]
    assert sorted(len(names - {"broadcast_in_dim"}) > 0 for names in work) == [False, True]
    nan_first = x.at[0].set(jnp.nan)
    np.testing.assert_array_equal(apart(nan_first), products(nan_first).ravel())
    reference = jax.jit(lambda v: prepared(v))(nan_first).todense()  # traced: no conditional
    assert np.isnan(reference).any()
    np.testing.assert_array_equal(compiled(nan_first).todense(), reference)
    # no floating argument to read a predicate from: no conditional
    assert behind_conditional(lambda n: jnp.arange(3) * n, jnp.int32(2)).tolist() == [0, 2, 4]


def _parameters(compiled_text: str) -> list[str]:
    """The parameter instructions of a compiled program's entry computation (its HLO text)."""
    entry = compiled_text[compiled_text.index("\nENTRY ") :]
    return [line for line in entry.splitlines() if " parameter(" in line]


def test_calls_on_values_are_keyed_on_shape_and_dtype_fast_path_or_not():
    # one concrete array takes the fast lookup (by its aval's identity, then by shape and
    # dtype); every other call the full signature; a new shape or dtype prepares afresh; all
    # equal the dense Jacobian
    f = lambda x: jnp.sin(x[1:] * x[:-1])
    jac = sparse.jacfwd(f, output="bcoo")
    calls = [
        jnp.arange(1.0, 6.0),  # prepares, then registered for the fast path
        jnp.arange(1.0, 6.0) / 3,  # fast path
        jnp.arange(1.0, 8.0),  # a new shape: prepares afresh
        jnp.arange(1.0, 6.0, dtype=jnp.float32),  # a new dtype
        np.arange(1.0, 6.0),  # a NumPy array: the full signature, the float64 entry
        jnp.arange(2.0, 9.0),  # fast path, the second shape
        jnp.arange(2.0, 9.0),  # the same aval as the last call's
        jnp.arange(1.0, 6.0) * 2,  # back to the first shape
        jnp.arange(1.0, 6.0) * 2,
    ]
    for x in calls:
        got = jac(x)
        assert got.dtype == jnp.asarray(x).dtype
        np.testing.assert_allclose(got.todense(), jax.jacfwd(f)(jnp.asarray(x)), rtol=1e-6)
    traced = jax.jit(jac)(calls[1])  # a tracer: the traced path, same matrix
    np.testing.assert_allclose(traced.todense(), jac(calls[1]).todense(), rtol=1e-15)


def test_the_bcoo_a_call_on_values_builds_is_the_one_jax_unflattens():
    # the fast path sets the BCOO's attributes itself; it must hold what `tree_unflatten` gives
    f = lambda x: jnp.sin(x[1:] * x[:-1])
    x = jnp.arange(1.0, 6.0)
    got = sparse.jacfwd(f)(x)
    leaves, treedef = jax.tree_util.tree_flatten(got)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert type(got) is type(rebuilt) and sorted(vars(got)) == sorted(vars(rebuilt))
    for name, value in vars(rebuilt).items():
        np.testing.assert_array_equal(getattr(got, name), value)
    v = jnp.arange(5.0)
    np.testing.assert_allclose(got @ v, jax.jacfwd(f)(x) @ v, rtol=1e-12)
    np.testing.assert_allclose(got.T.todense(), jax.jacfwd(f)(x).T, rtol=1e-12)


def test_a_scatter_that_drops_updates_out_of_bounds():
    f = lambda x: jnp.zeros(3).at[jnp.array([0, 5, 2])].add(x**2, mode="drop")
    x = jnp.arange(1.0, 4.0)
    pattern = sparse.jacobian_sparsity(f, x).todense()
    np.testing.assert_array_equal(pattern, _dense_nonzeros(f, x))
    assert pattern.astype(int).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 1]]


_A = np.random.default_rng(0).normal(size=(4, 4))
SOUNDNESS = {  # pattern ⊇ the Jacobian's nonzeros; exact where the pattern cannot depend on values
    "softmax (size-1 broadcasting)": (lambda x: jax.nn.softmax(x.reshape(3, 4), -1).ravel(), True),
    "logsumexp": (lambda x: jax.scipy.special.logsumexp(x.reshape(3, 4), axis=0), True),
    "linalg.solve": (lambda x: jnp.linalg.solve(_A + jnp.diag(x[:4]), x[4:8]), True),
    "where": (lambda x: jnp.where(x > 0, x**2, jnp.roll(x, 2)), False),
    "argsort then take": (lambda x: x[jnp.argsort(x[:6])], False),
    "strided dilated conv": (
        lambda x: lax.conv_general_dilated(
            x.reshape(1, 1, 12), jnp.ones((2, 1, 3)), (2,), [(1, 1)], rhs_dilation=(2,)
        ).ravel(),
        True,
    ),
    "max pool": (
        lambda x: lax.reduce_window(x.reshape(3, 4), -jnp.inf, lax.max, (2, 2), (1, 2), "SAME"),
        False,
    ),
    "top_k": (lambda x: lax.top_k(x, 3)[0], False),
    "fori_loop": (lambda x: lax.fori_loop(0, 3, lambda i, v: v + jnp.roll(v, 1) * i, x), True),
    "vmap and jit inside": (
        lambda x: jax.vmap(jax.jit(lambda r: jnp.sum(r**2)))(x.reshape(3, 4)),
        True,
    ),
    "fft": (lambda x: jnp.abs(jnp.fft.fft(x[:4])), True),
    "batched einsum": (lambda x: jnp.einsum("bi,bj->bij", x.reshape(3, 4), x.reshape(3, 4)), True),
    "interior and negative padding": (lambda x: lax.pad(x, 0.0, [(1, -2, 1)]), True),
    "segment_sum": (lambda x: jax.ops.segment_sum(x, jnp.arange(12) % 3, 3), True),
}


@pytest.mark.parametrize("name", sorted(SOUNDNESS))
def test_detection_is_sound_on_a_catalogue_of_functions(name):
    f, exact = SOUNDNESS[name]
    x = jnp.asarray(np.random.default_rng(1).normal(size=12))
    pattern = sparse.jacobian_sparsity(f, x).todense()
    nonzeros = _dense_nonzeros(f, x)
    assert not (nonzeros & ~pattern).any()  # nothing missed
    if exact:
        np.testing.assert_array_equal(pattern, nonzeros)


def test_a_pattern_converts_to_every_format_and_back():
    dense = np.array([[1, 0, 2], [0, 0, 3]], dtype=float)
    pattern = sparse.Pattern.from_dense(dense)
    assert (pattern.nnz, pattern.shape, pattern.density) == (3, (2, 3), 0.5)
    assert pattern.row_counts().tolist() == [2, 1] and pattern.col_counts().tolist() == [1, 0, 2]
    values = dense[pattern.rows, pattern.cols]
    np.testing.assert_array_equal(pattern.to_scipy(values).toarray(), dense)
    np.testing.assert_array_equal(pattern.to_bcoo(jnp.asarray(values)).todense(), dense)
    assert sparse.Pattern.from_scipy(sp.csr_array(dense)) == pattern
    np.testing.assert_array_equal(pattern.T.todense(), dense.T != 0)
    # duplicates collapse, entries come out sorted row-major
    again = sparse.Pattern((2, 3), [1, 0, 0, 0], [2, 2, 0, 2])
    assert again == pattern and again.rows.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="inside its shape"):
        sparse.Pattern((2, 3), [2], [0])


def test_a_prepared_jacobian_exposes_its_pattern_and_coloring():
    f, x = problems.bratu(12)
    prepared = sparse.prepare(f, x, mode="forward")
    assert prepared.pattern == sparse.jacobian_sparsity(f, x)
    coloring = prepared.coloring
    sparse.check_coloring(prepared.pattern, coloring)
    assert coloring.num_colors == prepared.num_colors == 3


@pytest.mark.parametrize(
    "config",
    [
        [(1, 1, 0)],
        [(2, -3, 1)],
        [(-1, 2, 2), (0, 0, 0)],
        [(0, 1, 0), (-2, -1, 1)],
        [(3, -4, 0), (1, 2, 3)],
    ],
)
def test_the_pad_index_map_moves_elements_as_lax_pad_does(config):
    # the rule pads the element numbers with NumPy; lax.pad on the same numbers is the reference
    from adkit.interpreter.rules.sparsity.structural import _pad

    shape = (5,) if len(config) == 1 else (4, 3)
    ids = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    expected = lax.pad(jnp.asarray(ids), jnp.int32(-7), config)
    np.testing.assert_array_equal(_pad(ids, np.int32(-7), padding_config=config), expected)


def _scan_catalogue():
    def heat(x):
        def step(u, _):
            p = jnp.pad(u, 1)
            return u + 0.2 * (p[:-2] - 2.0 * u + p[2:]) - 0.01 * u**3, None

        return lax.scan(step, x, None, length=5)[0]

    def with_xs_and_consts(x):
        w = jnp.sin(x[:4])  # a constant of the body that depends on the input

        def step(c, xi):
            c = c * w + jnp.roll(xi, 1)
            return c, c[::2] * xi[1::2]

        c, ys = lax.scan(step, x[:4], x.reshape(3, 4), reverse=True)
        return jnp.concatenate([c, ys.ravel()])

    def counter_in_the_carry(x):  # a known carry meets the sets: each step walks the body
        def step(carry, _):
            i, u = carry
            return (i + 1, u + jnp.where(i == 1, jnp.roll(u, 1), 0.0)), None

        return lax.scan(step, (0, x), None, length=3)[0][1]

    def fori_loop(x):  # its counter never meets the sets: composed, the counter advanced apart
        def step(i, u):
            return jnp.sin(jnp.roll(u, 1)) * u

        return lax.fori_loop(0, 4, step, x)

    def known_time(x):  # a float carry multiplies the state: zero at step 0, so walked
        def step(carry, _):
            t, u = carry
            return (t + 0.5, u + t * jnp.roll(u, 1)), None

        return lax.scan(step, (0.0, x), None, length=3)[0][1]

    def while_counter(x):  # a while_loop with a static trip count: the same step map
        def body(carry):
            i, u = carry
            return i + 1, jnp.cos(jnp.roll(u, -1)) + u

        return lax.while_loop(lambda c: c[0] < 3, body, (0, x))[1]

    return {
        "while counter": while_counter,
        "heat": heat,
        "xs and consts": with_xs_and_consts,
        "counter": counter_in_the_carry,
        "fori_loop": fori_loop,
        "known time": known_time,
    }


@pytest.mark.parametrize("name", sorted(_scan_catalogue()))
def test_a_loop_composed_as_one_step_map_equals_the_walk_of_every_step(name, monkeypatch):
    from adkit.interpreter.sparsity import scan

    f = _scan_catalogue()[name]
    x = jnp.asarray(np.random.default_rng(3).normal(size=12))
    found, find = [], scan.StepMap.find
    monkeypatch.setattr(scan.StepMap, "find", lambda *a: found.append(find(*a)) or found[-1])
    composed = sparse.jacobian_sparsity(f, x).todense()
    walked = ("counter", "known time")
    assert [m is not None for m in found] == [name not in walked]  # the path each one takes
    monkeypatch.setattr(scan, "COMPOSE", False)
    walked = sparse.jacobian_sparsity(f, x).todense()
    np.testing.assert_array_equal(composed, walked)
    np.testing.assert_array_equal(composed, _dense_nonzeros(f, x))
