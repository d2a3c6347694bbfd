# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reverse mode from scratch
#
# Forward mode (the previous notebook) pushes one tangent from the inputs to the output: one
# pass per input. Reverse mode pulls one *adjoint* $\bar v = \partial y / \partial v$ from the
# output back to every input: the whole gradient in one backward pass. This notebook builds it
# from nothing: a `Node` that records the graph as the function runs, Kahn's topological sort
# to order the backward pass, and adjoint accumulation, on
# $f(x_1, x_2) = (x_1 + x_2) \sin x_1$ at $(1, 2)$; then counts the work of both passes and
# checks the gradient against `adkit.grad` and `jax.grad`.

# %%
import math

import jax
import jax.numpy as jnp

import adkit

jax.config.update("jax_enable_x64", True)


# %% [markdown]
# ## Recording the graph
# Each operation makes a `Node` holding its value, a name, and for each operand the *local
# derivative* $\partial v / \partial u$ (a number, computed now from the forward values).


# %%
class Node:
    count = 0  # names v1, v2, ... in creation order

    def __init__(self, value, parents=(), op="input", name=None):
        self.value, self.parents, self.op = value, tuple(parents), op
        if name is None:
            Node.count += 1
            name = f"v{Node.count}"
        self.name = name

    def __add__(self, other):  # ∂(u + w)/∂u = 1, ∂/∂w = 1
        return Node(self.value + other.value, [(self, 1.0), (other, 1.0)], "add")

    def __mul__(self, other):  # ∂(u w)/∂u = w, ∂/∂w = u
        return Node(self.value * other.value, [(self, other.value), (other, self.value)], "mul")


def sin(u):  # ∂ sin u / ∂u = cos u
    return Node(math.sin(u.value), [(u, math.cos(u.value))], "sin")


def f(x1, x2):
    return (x1 + x2) * sin(x1)


x1, x2 = Node(1.0, name="x1"), Node(2.0, name="x2")
y = f(x1, x2)
print(f"y = {y.value:.10f}  (the graph's last node, {y.name})")

# %% [markdown]
# ## Kahn's topological sort
# The backward pass must visit a node only after every node that reads it. Kahn's algorithm:
# count, for each node, how many nodes read it; start from the output (read by none); each time
# a node is visited, its parents lose one reader, and a parent with no readers left is ready.


# %%
def topological_order(output):
    readers, stack, seen = {}, [output], {id(output)}
    while stack:  # count each node's readers by walking the graph once
        node = stack.pop()
        for parent, _ in node.parents:
            readers[id(parent)] = readers.get(id(parent), 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    order, ready = [], [output]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent, _ in node.parents:
            readers[id(parent)] -= 1
            if readers[id(parent)] == 0:
                ready.append(parent)
    return order  # the output first, every node before the nodes it reads


order = topological_order(y)
print(" -> ".join(n.name for n in order))
position = {id(n): i for i, n in enumerate(order)}
assert all(position[id(n)] < position[id(p)] for n in order for p, _ in n.parents)

# %% [markdown]
# ## Adjoint accumulation
# Seed $\bar y = 1$. Visiting a node in that order, its adjoint is final (every reader has sent
# its share), and it sends $\bar v \cdot \partial v / \partial u$ to each operand $u$, which adds
# up what it receives: $x_1$ is read twice (by the sum and by the sine), so it receives twice.


# %%
def backward(output):
    adjoint = {id(output): 1.0}
    table, multiply_adds = [], 0
    for node in topological_order(output):
        bar = adjoint.get(id(node), 0.0)
        sends = []
        for parent, local in node.parents:
            adjoint[id(parent)] = adjoint.get(id(parent), 0.0) + bar * local
            multiply_adds += 1
            sends.append(f"{parent.name} += {bar * local:.10f}")
        table.append((node.name, node.op, bar, ", ".join(sends)))
    return adjoint, table, multiply_adds


adjoint, table, backward_ops = backward(y)
print(f"{'var':<4} {'op':<6} {'adjoint':>13}  sends")
for name, op, bar, sends in table:
    print(f"{name:<4} {op:<6} {bar:13.10f}  {sends}")
g1, g2 = adjoint[id(x1)], adjoint[id(x2)]
print(f"\ndf/dx1 = {g1:.4f} (sin 1 + 3 cos 1 = {math.sin(1) + 3 * math.cos(1):.4f})")
print(f"df/dx2 = {g2:.4f} (sin 1 = {math.sin(1):.4f})")
assert abs(g1 - (math.sin(1) + 3 * math.cos(1))) < 1e-15 and f"{g1:.4f}" == "2.4624"
assert abs(g2 - math.sin(1)) < 1e-15

# %% [markdown]
# ## What the backward pass costs
# The forward pass ran 3 operations; the backward pass one multiply-add per edge of the graph
# (per operand of each operation): here 5. Reverse mode costs a small constant times the
# forward pass whatever the number of inputs, where forward mode needs one pass per input.

# %%
forward_ops = sum(1 for n in order if n.op != "input")
print(f"forward: {forward_ops} operations; backward: {backward_ops} multiply-adds")
assert (forward_ops, backward_ops) == (3, 5)

# %% [markdown]
# ## Against `adkit.grad` and `jax.grad`
# adkit's tape path does the same on the function's jaxpr, with one VJP rule per primitive; its
# adjoint table (`adkit.trace(...).backward()`) is the one above, row for row.

# %%
fj = lambda x1, x2: (x1 + x2) * jnp.sin(x1)
ours = adkit.grad(fj, argnums=(0, 1))(1.0, 2.0)
theirs = jax.grad(fj, argnums=(0, 1))(1.0, 2.0)
print(adkit.trace(fj, 1.0, 2.0).backward())
assert [float(g) for g in ours] == [float(g) for g in theirs]
assert abs(float(ours[0]) - g1) < 1e-15 and abs(float(ours[1]) - g2) < 1e-15
