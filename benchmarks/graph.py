"""Drawing cost: time for `minigrad.viz.draw_graph` to produce the DOT text of a graph of
10,000 nodes after backward, against the time to build and backpropagate that graph.

The graph is a chain of 8x8 tensors (tanh and scaling alternating), so every node has a value
summary, a gradient, and an edge whose gradient flow is recomputed at draw time.

    python benchmarks/graph.py [--nodes 10000] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compare, parser, report, setup  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import viz  # noqa: E402


def build(nodes: int) -> mg.Tensor:
    x = mg.randn(8, 8, requires_grad=True)
    out = x
    for i in range(nodes - 2):  # x, the chain, and the sum
        out = out.tanh() if i % 2 else out * 1.01
    loss = out.sum()
    loss.backward(retain_graph=True)  # drawn afterwards: the graph must be kept
    return loss


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--nodes", type=int, default=10_000)
    arguments.add_argument("--rounds", type=int, default=3)
    args = arguments.parse_args()
    setup(args)
    nodes = 500 if args.quick else args.nodes
    mg.manual_seed(0)
    loss = build(nodes)
    count = len(mg.autograd.topological_order(loss))
    timings = compare({
        "build + backward": lambda: build(nodes),
        "draw_graph (DOT text)": lambda: viz.draw_graph(loss, max_nodes=None).source,
    }, "build + backward", 1 if args.quick else args.rounds, warmup=1)
    report(f"graph of {count:,} nodes", timings, "build + backward")


if __name__ == "__main__":
    main()
