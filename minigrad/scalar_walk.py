"""The scalar `Value`'s backward walk: `topological_order`, the order of `Value.backward`'s
fast pass, an iterative depth-first walk that marks nodes in their ``.grad`` (see its
docstring).

Kept apart from `minigrad.value` so that each file reads on its own; `Value` is only named
in the type hints here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minigrad.value import Value


def topological_order(root: Value) -> tuple[list[Value], list[tuple[Value, float]]]:
    """Every node reachable from `root`, each after all its consumers, and the gradients
    that earlier passes left in them, which it sets aside (zeroed in the nodes).

    `autograd.topological_order` for scalar nodes, without its set and its sort (most of
    the time of a backward pass through tens of thousands of nodes): an iterative
    depth-first search, whose order is the reverse of the order in which nodes finish.
    * A node is marked seen by storing this pass's mark in its ``.grad``: a float 0.0 made
      for the pass (``float("0")`` is a new object), recognised by identity, which sets
      the node's gradient to zero for the pass as well. A slot for the mark would make
      every node 16 bytes bigger (the allocator rounds to 16), which costs more time in
      the forward pass, through memory, than the walk saves. Identity of floats is
      CPython's: elsewhere (PyPy compares floats by value) `Value.backward` uses the
      general engine.
    * `node` looks at its parents in turn. A parent not yet seen whose own parents are all
      seen (or a leaf) is finished at once; any other one becomes `node`, with the old
      `node` waiting on the stack below it. Once both parents are seen, `node` is finished
      and the node waiting on top comes back. The stack and `node` are always one path
      from the root down, so a parent seen but not finished would be on that path, its
      own descendant (impossible without cycles): every node finishes after its parents.
    * Finishing a parent at once saves it a trip through the stack. Its check costs a few
      reads, worth it for ``_b`` (the new term of a sum chain such as ``sum(w * x for
      ...)``: a product of nodes already finished), not for ``_a`` (the running sum, not
      yet finished): for ``_a``, only leaves are finished at once.
    No recursion, so any depth works. Two passes writing marks into the same nodes at once
    would spoil each other's walk: `Value.backward` holds a lock around it.

    Only this pass's gradient may flow: what earlier passes left in ``.grad`` (micrograd
    would push it on again) goes into `earlier` when the node is first seen, to be added
    back at the end.
    """
    seen = float("0")  # this pass's mark: a zero gradient, and a new object (see above)
    earlier: list[tuple[Value, float]] = []
    set_aside = earlier.append
    if root.grad:
        set_aside((root, root.grad))
    root.grad = seen
    waiting: list[Value] = []  # the consumers of `node` on the path from the root
    finished: list[Value] = []
    push, pop, finish = waiting.append, waiting.pop, finished.append
    node = root
    try:
        while True:
            a = node._a
            if a is not None:
                grad = a.grad
                if grad is not seen:
                    if grad:
                        set_aside((a, grad))
                    a.grad = seen
                    if a._a is None:
                        finish(a)
                    else:
                        push(node)
                        node = a
                        continue
                b = node._b
                if b is not None:
                    grad = b.grad
                    if grad is not seen:
                        if grad:
                            set_aside((b, grad))
                        b.grad = seen
                        pb = b._a
                        if pb is None or (pb.grad is seen and (b._b is None or b._b.grad is seen)):
                            finish(b)
                        else:
                            push(node)
                            node = b
                            continue
            finish(node)
            try:
                node = pop()
            except IndexError:
                break
    except BaseException:  # e.g. a hand-built node with a parent that is not a Value
        for node, grad in earlier:  # give back what earlier passes left (marks are zeros)
            node.grad = grad
        raise
    finished.reverse()
    return finished, earlier
