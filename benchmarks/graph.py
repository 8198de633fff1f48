"""Drawing cost: time for `minigrad.viz.draw_graph` to produce the DOT text of a graph of
10,000 nodes after backward, against the time to build and backpropagate that graph.

The graph is a chain of 8x8 tensors (tanh and scaling alternating), so every node has a value
summary, a gradient, and an edge whose gradient flow is recomputed at draw time.

    python benchmarks/graph.py [--nodes 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import interleaved, machine, report  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import viz  # noqa: E402


def build(nodes: int) -> mg.Tensor:
    x = mg.randn(8, 8, requires_grad=True)
    out = x
    for i in range(nodes - 2):  # x, the chain, and the sum
        out = out.tanh() if i % 2 else out * 1.01
    loss = out.sum()
    loss.backward()
    return loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    mg.manual_seed(0)
    loss = build(args.nodes)
    count = len(mg.autograd.topological_order(loss))
    medians = interleaved({
        "build + backward": lambda: build(args.nodes),
        "draw_graph (DOT text)": lambda: viz.draw_graph(loss, max_nodes=None).source,
    }, args.repeats)
    report(f"graph of {count:,} nodes", medians, "build + backward")


if __name__ == "__main__":
    main()
