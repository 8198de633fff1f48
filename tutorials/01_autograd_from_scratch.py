# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lesson 1 — Autograd from scratch, with `Value`
#
# A neural network is a long expression: inputs and weights go in, a loss comes out.
# Training needs the derivative of the loss with respect to every weight. *Automatic
# differentiation* (autograd) gets all of them in one backward sweep, by applying the chain
# rule once per node of the expression's graph.
#
# In this lesson we:
#
# 1. build a small expression out of `minigrad.Value` scalars and draw its graph;
# 2. run the backward pass **by hand**, one node at a time;
# 3. let the engine do the same, and check both against finite differences;
# 4. see why the nodes must be visited in **topological order** — and what goes wrong in
#    any other order.
#
# Run it with `python tutorials/01_autograd_from_scratch.py`, or open it as a notebook
# (jupytext, VS Code).

# %%
import math

from _common import Results, show_graph

import minigrad as mg
from minigrad import Value

RESULTS = Results("01")

# %% [markdown]
# ## 1. A `Value` remembers how it was made
#
# `Value(x)` wraps a float. Every operation on Values returns a new Value that keeps a
# reference to its inputs (its *parents*) and the name of the operation. Here is a small
# expression in which two nodes are used twice — `a` and `e` — because that is exactly
# where the interesting things happen:
#
# $$e = a\,b,\qquad d = e + c,\qquad f = \tanh(d),\qquad g = f\,a,\qquad L = g + e$$

# %%
a = Value(1.5, label="a")
b = Value(-0.8, label="b")
c = Value(0.5, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = d.tanh()
f.label = "f"
g = f * a
g.label = "g"
L = g + e
L.label = "L"

nodes = {node.label: node for node in (a, b, c, e, d, f, g, L)}
for name, node in nodes.items():
    parents = ", ".join(p.label for p in node._parents) or "-"
    print(f"{name}: data={node.data:+.6f}   op={node.op_name or 'leaf':5s} parents: {parents}")

# %% [markdown]
# ## 2. Draw the graph
#
# `mg.viz.draw_graph(root)` walks from the root back through the parents and returns a
# Graphviz drawing: one box per value, one small node per operation. Before `backward()`
# there are no gradients yet, so it only shows data.

# %%
def draw(root: Value, name: str) -> bool:
    """Show the graph of `root` (inline in a notebook) and save it as out/<name>.png."""
    graph = mg.viz.draw_graph(root)
    return show_graph(graph, name) is not None


graph_drawn = draw(L, "01_expression_graph_forward")

# %% [markdown]
# ## 3. The backward pass by hand
#
# We want $\partial L/\partial x$ for every node $x$. Start at the top: $\partial L/\partial L = 1$.
# Then walk down. Each operation knows its *local* derivatives:
#
# | operation | local derivatives |
# |---|---|
# | $z = x + y$ | $\partial z/\partial x = 1$, $\partial z/\partial y = 1$ |
# | $z = x\,y$ | $\partial z/\partial x = y$, $\partial z/\partial y = x$ |
# | $z = \tanh x$ | $\partial z/\partial x = 1 - z^2$ |
#
# and the chain rule says: the gradient a node sends to a parent is its own gradient
# times the local derivative. A node used twice (`a`, `e`) receives a contribution from
# each use, and these **add up** (multivariable chain rule: $L$ depends on $e$ along two
# paths, $e \to L$ directly and $e \to d \to f \to g \to L$).

# %%
grad = {"L": 1.0}
# L = g + e
grad["g"] = 1.0 * grad["L"]
grad["e"] = 1.0 * grad["L"]  # first contribution to e (the direct path)
# g = f * a
grad["f"] = a.data * grad["g"]
grad["a"] = f.data * grad["g"]  # first contribution to a
# f = tanh(d)
grad["d"] = (1 - f.data**2) * grad["f"]
# d = e + c
grad["e"] += 1.0 * grad["d"]  # second contribution to e: only now is dL/de complete
grad["c"] = 1.0 * grad["d"]
# e = a * b   (e is finished, so it may now pass its gradient on)
grad["a"] += b.data * grad["e"]  # second contribution to a
grad["b"] = a.data * grad["e"]

by_hand = {name: grad[name] for name in nodes}
for name, value in by_hand.items():
    print(f"dL/d{name} = {value:+.6f}")

# %% [markdown]
# Notice the order we used: **a node passes its gradient on only after every node that
# uses it has sent its contribution.** `e` is used by `d` and by `L`, so `e` had to wait
# for `d`.
#
# ## 4. Node by node with `_backward()`
#
# Every `Value` can do its own step of the above: `node._backward()` pushes `node.grad`
# into its parents (`parent.grad += local_derivative * node.grad`). Note the `+=`: it is
# how the two contributions to `a` and `e` add up. What remains is to call `_backward()`
# on each node in a valid order. A **topological order** of the graph (every node before
# its parents) is one: here is a depth-first search that builds it without recursion.

# %%
def topological_order(root: Value) -> list[Value]:
    """Nodes reachable from `root`, each listed before all of its parents (root first)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)  # post-order: after all its parents
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if p not in visited)
    return order[::-1]  # reversed post-order: consumers before what they consume


def reset_grads(root: Value) -> None:
    for node in topological_order(root):
        node.grad = 0.0


def is_valid_order(order: list[Value]) -> bool:
    """True if every node comes after all the nodes that consume it."""
    position = {node: i for i, node in enumerate(order)}
    return all(position[node] < position[p] for node in order for p in node._parents)


order = topological_order(L)
print("topological order:", " ".join(n.label for n in order))
reset_grads(L)
L.grad = 1.0
for node in order:
    node._backward()
step_by_step = {name: node.grad for name, node in nodes.items()}
print("node by node equals by hand:",
      all(math.isclose(step_by_step[k], by_hand[k], rel_tol=1e-12) for k in nodes))

# %% [markdown]
# ## 5. Let the engine do it
#
# `L.backward()` does exactly this: it finds the nodes, orders them, and applies each
# node's rule. (For `Value` it is an iterative depth-first walk like ours,
# `minigrad/scalar_walk.py`. The tensor engine gets its order even more cheaply: a node is
# always *created* after its parents, so taking the newest node that has received a gradient
# next is already a topological order — see `minigrad/autograd.py`.) We compare with
# central differences $\big(L(x+\varepsilon) - L(x-\varepsilon)\big)/2\varepsilon$, which need
# nothing but the forward computation.

# %%
reset_grads(L)
L.backward()
engine = {name: node.grad for name, node in nodes.items()}


def loss_of(a_: float, b_: float, c_: float) -> float:
    e_ = a_ * b_
    return math.tanh(e_ + c_) * a_ + e_


eps = 1e-6
leaves = {"a": a.data, "b": b.data, "c": c.data}
numeric = {}
for name in leaves:
    plus, minus = dict(leaves), dict(leaves)
    plus[name] += eps
    minus[name] -= eps
    numeric[name] = (loss_of(**{k + "_": v for k, v in plus.items()})
                     - loss_of(**{k + "_": v for k, v in minus.items()})) / (2 * eps)

print(f"{'node':>4} {'by hand':>12} {'engine':>12} {'numeric':>12}")
for name in nodes:
    num_text = f"{numeric[name]:+12.6f}" if name in numeric else " " * 12
    print(f"{name:>4} {by_hand[name]:+12.6f} {engine[name]:+12.6f} {num_text}")

RESULTS["by_hand"] = by_hand
RESULTS["engine"] = engine
RESULTS["numeric"] = numeric

# %% [markdown]
# After `backward()` the drawing shows each node's gradient as well (box colour: its size,
# on a log scale) and, on each arrow, the size of the gradient sent back along it. Read it
# from the right: `L` has gradient 1; `e` and `a` each have two outgoing arrows, one per
# use, and their gradient is the sum of what comes back along both (with signs — the
# arrows show sizes).

# %%
graph_drawn = draw(L, "01_expression_graph") and graph_drawn
RESULTS["graph_drawn"] = graph_drawn

# %% [markdown]
# ## 6. Why topological order: the same rules in a wrong order
#
# Take the exact same `_backward()` rules but visit `e` *before* `d` has sent its share.
# `e` then passes on an incomplete gradient to `a` and `b`; when `d` later adds its part to
# `e.grad`, nobody passes it on any more.

# %%
wrong = [L, g, e, f, d, a, b, c]  # e visited before d
reset_grads(L)
L.grad = 1.0
for node in wrong:
    node._backward()
wrong_order = {name: node.grad for name, node in nodes.items()}

print("order:", " ".join(n.label for n in wrong), "  valid topological order:",
      is_valid_order(wrong))
for name in nodes:
    flag = "" if math.isclose(wrong_order[name], engine[name], abs_tol=1e-12) else "  <- wrong"
    print(f"dL/d{name}: wrong order {wrong_order[name]:+.6f}   correct {engine[name]:+.6f}{flag}")
wrong_names = [k for k in nodes if not math.isclose(wrong_order[k], engine[k], abs_tol=1e-12)]
print("wrong gradients:", ", ".join(wrong_names))

RESULTS["wrong_order"] = wrong_order
RESULTS["topological_order_valid"] = is_valid_order(order)
RESULTS["wrong_order_valid"] = is_valid_order(wrong)

# %% [markdown]
# The nodes above `e` come out right: they only used gradients that were complete. The
# nodes below `e` (its parents `a` and `b`) miss the path through `d`. No error is raised:
# the numbers are simply wrong. That is why every autograd engine sorts the graph first.
#
# ## 7. A last check: `backward()` twice adds up
#
# Because gradients are *accumulated* with `+=`, calling `backward()` a second time adds a
# second copy. A training loop therefore sets the gradients to zero before every backward.
# (A graph of `Value`s is kept after `backward()`, as in micrograd, so it can run twice.
# A `Tensor`'s `backward()` frees its graph as it goes, as PyTorch's does, to save memory:
# there the first call must be `backward(retain_graph=True)` for a second one to work.)

# %%
reset_grads(L)
L.backward()
L.backward()
doubled = all(math.isclose(node.grad, 2 * engine[name], rel_tol=1e-12)
              for name, node in nodes.items())
print("after two backward() calls every gradient is doubled:", doubled)
RESULTS["backward_twice_doubles"] = doubled

# %% [markdown]
# ## Summary
#
# * A `Value` stores its data, its parents and the local derivatives of its operation.
# * Backward = chain rule node by node: `parent.grad += local * node.grad`.
# * A node may pass its gradient on only once it is complete: visit nodes in
#   topological order (consumers first). In any other order the results are silently wrong.
# * Gradients accumulate — reset them between passes.
#
# Next: lesson 2 does the same with arrays (`Tensor`), where broadcasting and matrix
# products bring their own gradient rules.

# %% [markdown]
# ## Exercises
#
# **1. Predict, then run.** In the wrong order of section 6, `e` was visited before `d`.
# Suppose instead that `c` (a leaf) is visited first and everything else keeps a valid
# order. Which gradients come out wrong? Write your prediction down, then run the cell.

# %%
leaf_first = [c] + [node for node in order if node is not c]
reset_grads(L)
L.grad = 1.0
for node in leaf_first:
    node._backward()
changed = [k for k, n in nodes.items() if not math.isclose(n.grad, engine[k], abs_tol=1e-12)]
print("valid topological order:", is_valid_order(leaf_first))
print("wrong gradients:", ", ".join(changed) or "none")
RESULTS["leaf_first_wrong"] = changed

# %% [markdown]
# *Answer:* none. A leaf has no parents, so its `_backward()` pushes nothing; where it
# sits in the order does not matter. Only a node with parents must wait until its own
# gradient is complete. (Strictly, the order is no longer topological — and still correct.)
#
# **2–4. Code to write** in `tutorials/exercises/01_autograd.py`, checked by
# `python tutorials/check.py 1`:
#
# 2. `gradients_by_hand(x, y)` for $L = \tanh(xy + y)\,x$ — the chain rule on paper, where
#    both inputs are used twice;
# 3. `topological_order(root)` without recursion (a 10,000-node chain must work), expanding
#    each node once (`v = v + v` forty times: 41 nodes but 2⁴⁰ paths, which must be instant);
# 4. `sigmoid(v)` from `Value` operations only, so that the engine differentiates it.
