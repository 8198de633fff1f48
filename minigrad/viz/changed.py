"""A backward pass read after its inputs changed: the check the drawing and the recorder
make, and the error they raise.

The usual cause is a notebook cell that ends a training step with ``optimizer.step()``
and then draws or records the loss. The step writes the weights in place; the ops that
saved them would now compute other gradients than backward did (the engine refuses to run
their backward again, as PyTorch does: its version counters), and the values shown would
be the new weights, not the ones this pass used. So the tools refuse, and name the fix.
"""

from __future__ import annotations

from typing import Any

from minigrad.value import Value
from minigrad.viz.modules import owner_names


def changed_input(node: Any) -> int | None:
    """Which input of `node`'s op was written in place after the op saved it: its
    position; -1 for `node` itself when its op's backward reads its output (tanh, exp);
    None when none was. The engine's own test (`Tensor._vjp`): an array written later has
    a version (a creation number) above the node's. A `Value` has no versions: its op
    saved its local derivatives as numbers, which no later write can change."""
    if isinstance(node, Value):  # (nor is it asked for its creation number: given late)
        return None
    seq = node._seq
    for position, parent in enumerate(node._parents):
        if getattr(parent, "_version", 0) > seq:
            return position
    if getattr(node, "_version", 0) > seq and getattr(node._op, "saves_output", False):
        return -1
    return None


def first_changed(nodes: list[Any], root: Any) -> tuple[Any, int] | None:
    """A node of `nodes` (the graph of `root`) with an input written in place after the
    forward pass, and that input's position (`changed_input`); None when there is none.

    Written *after the forward pass* means after `root` was made: a version above the
    root's creation number. Any array written during the pass would have made backward
    refuse already, so a look at each node's version finds the rest; the node that used
    the array is looked for only then."""
    if isinstance(root, Value):  # no versions (`changed_input`)
        return None
    latest = root._seq
    if not any(getattr(node, "_version", 0) > latest for node in nodes):
        return None
    for node in nodes:
        position = changed_input(node) if node._parents else None
        if position is not None:
            return node, position
    return None  # (only data no backward reads was written: the root's own, say)


def written_in_place_error(tool: str, node: Any, position: int) -> RuntimeError:
    """The error of `tool` for a pass whose node `node` has input `position` (-1: its own
    output) written in place after the forward pass: what changed, why that matters to
    `tool`, and the fixes that apply to it."""
    changed = node if position < 0 else node._parents[position]
    if position < 0:
        role = f"the output of '{node.op_name}', which its backward reads"
    else:
        role = f"input {position} of '{node.op_name}'"
    scope = node._scope
    module = f" in {scope.label()}" if scope is not None else ""
    kind = ("a Parameter" if type(changed).__name__ == "Parameter" else
            "a leaf tensor" if not changed._parents else f"the result of {changed.op_name}")
    name = getattr(changed, "name", None) or (  # or as its module calls it: '2.weight'
        owner_names(scope.path(), {id(changed)}).get(id(changed)) if scope else None)
    name = f" '{name}'" if name else ""
    what = f"{kind}{name} of shape {tuple(changed.shape)}, {role}{module},"
    after = ("was written in place after the forward pass (its version changed, e.g. by "
             "optimizer.step())")
    if tool.startswith("GradientFlowRecorder"):
        return RuntimeError(
            f"{tool}: cannot record this step: {what} {after}, so the gradients of this "
            "pass can no longer be read from its graph, and the values would be the new "
            "ones, not those the pass used. Fix: call record(loss) right after "
            "loss.backward(), before optimizer.step().")
    again = "explore" if tool == "explore" else "draw"
    return RuntimeError(
        f"{tool}: cannot draw the gradients of this backward pass: {what} {after}, so its "
        "backward, run again to find the gradients to draw, would not give those backward "
        f"computed. Fix: {again} right after loss.backward(retain_graph=True), before "
        "optimizer.step(); or call draw_graph(loss, show_grad=False) to draw the structure "
        "and the current values, without gradients.")
