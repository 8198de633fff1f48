"""The `minigrad` command (also ``python -m minigrad``).

  minigrad demo                 train a small MLP with BatchNorm on generated spirals, print
                                per-layer diagnostics, and draw its gradient flow as SVG and
                                PNG in ./minigrad-out/, with the explorer page (see explore)
  minigrad demo --scalar        micrograd's scalar MLP on two moons, built from Value nodes
  minigrad graph EXAMPLE        draw a built-in example's graph (values, gradients, and the
                                gradient along every edge) to a file, no code needed
  minigrad explore [EXAMPLE]    train a deep sigmoid network with and without BatchNorm and
                                write the interactive gradient-flow page (flow.html)
  minigrad --version

This module is the command line: its options, messages and exit codes. The work the demo
and explore commands do is in `minigrad.demo` (`demo`, `explorer_page`); the examples they
train and draw are in `minigrad.examples`.

Exit codes, the same for every command:
  0  done
  1  the command line was right but the work could not be done: a program it needs is
     missing (Graphviz's `dot`), or an optional package its options need (tensorboardX,
     for demo --log-dir), Graphviz timed out, or a file could not be written
  2  the command line is wrong (argparse's usage errors, and values the options refuse)
The demo needs `dot` only for its drawings: without it, it still trains, prints its
diagnostics and writes the other files, says what it could not draw, and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import minigrad as mg
from minigrad.demo import (  # noqa: F401 (DEMO_POINTS: re-exported)
    DEMO_POINTS,
    check_graphviz,
    check_page_path,
    demo,
    explorer_page,
)
from minigrad.examples import (
    GRAPH_EXAMPLES,
    ScalarMLP,
    build_graph,
    scalar_demo,
)
from minigrad.viz.output import FORMATS, MAX_TIMEOUT

__all__ = ["ScalarMLP", "demo", "main", "scalar_demo"]


def _fail(command: str, error: Exception) -> None:
    """Print `error` for `command` on stderr, prefixed with the command's name once (the
    library's messages may start with it, or with the function's: ``demo: ...``)."""
    text = str(error)
    for prefix in (f"minigrad {command}: ", f"{command}: "):
        text = text.removeprefix(prefix)
    print(f"minigrad {command}: {text}", file=sys.stderr)


def _cannot_write(command: str, error: OSError, option: str = "--out") -> int:
    """The message for a file that could not be written (a folder in the way, no
    permission, a full disk): what and where, and `option`, the one that chose the place,
    instead of a traceback. Exit code 1."""
    if isinstance(error, BrokenPipeError):  # stdout, not a file: see main
        raise error
    where = f" {error.filename}" if error.filename else ""
    print(f"minigrad {command}: cannot write{where}: {error.strerror or error}. Fix: choose "
          f"another {option}.", file=sys.stderr)
    return 1


def _is_in(filename: Any, folder: str | None) -> bool:
    """Whether the file an OSError names is `folder` or in it."""
    if not filename or folder is None:
        return False
    path = Path(os.path.abspath(os.fsdecode(filename)))
    return Path(os.path.abspath(folder)) in (path, *path.parents)


def _graph(args: argparse.Namespace) -> int:
    from minigrad import viz
    from minigrad.viz.output import check_format

    try:
        # The format: --format if given, else the --out file's suffix, else svg.
        format = (check_format(Path(args.out), args.format, "minigrad graph") if args.out
                  else args.format or "svg")
        root, params = build_graph(args.example)
        graph = viz.draw_graph(root, params=params, rankdir=args.rankdir,
                               collapse=args.collapse or "auto", max_nodes=args.max_nodes,
                               compact=args.compact, show_parameters=not args.hide_parameters,
                               show_constants=not args.hide_constants, timeout=args.timeout)
        path = viz.save(graph, args.out or f"minigrad-out/{args.example}.{format}",
                        format=format, timeout=args.timeout)
    except viz.GraphvizTimeoutError as error:  # its fix, in this command's options
        # (a module type this graph has, whose folding helps most: graph.fold)
        fold = (f"--collapse MODULE, e.g. --collapse {graph.fold}; " if graph.fold
                else "no module to fold that would help: ")
        print(f"minigrad graph: {str(error).split(' Fix: ')[0].removeprefix('render: ')} "
              f"Fix: draw less of it ({fold}a smaller --max-nodes; --hide-parameters; "
              "--hide-constants) or allow longer with --timeout SECONDS.", file=sys.stderr)
        return 1
    except viz.GraphvizNotFoundError as error:
        _fail("graph", error)
        return 1
    except ValueError as error:
        _fail("graph", error)
        return 2
    except OSError as error:
        return _cannot_write("graph", error)
    print(f"wrote {path}")
    return 0


# -- minigrad explore ----------------------------------------------------------------------


def _explore(args: argparse.Namespace) -> int:
    from minigrad import viz
    from minigrad.examples import EXPLORE_EXAMPLES

    if args.example not in EXPLORE_EXAMPLES:  # before saying it trains
        print(f"minigrad explore: unknown example {args.example!r}. Fix: use one of "
              f"{', '.join(EXPLORE_EXAMPLES)}.", file=sys.stderr)
        return 2
    for option, value in (("--steps", args.steps), ("--every", args.every)):
        if value < 1:
            print(f"minigrad explore: {option} must be a whole number >= 1, got {value}. Fix: "
                  f"e.g. {option} 10.", file=sys.stderr)
            return 2
    try:
        check_page_path(Path(args.out))  # before saying it trains
        check_graphviz()  # (the page's layout is Graphviz's: found missing after training)
    except ValueError as error:
        _fail("explore", error)
        return 2
    except viz.GraphvizNotFoundError as error:  # not a usage error: 1, as for graph
        _fail("explore", error)
        return 1
    print(f"minigrad explore: training and recording {args.example} "
          f"({args.steps} step{'' if args.steps == 1 else 's'})...",
          flush=True)
    try:
        path = explorer_page(Path(args.out), args.steps, args.every, args.example)
    except ValueError as error:
        _fail("explore", error)
        return 2
    except (TimeoutError, viz.GraphvizNotFoundError) as error:  # (a TimeoutError is an OSError)
        _fail("explore", error)
        return 1
    except OSError as error:
        return _cannot_write("explore", error)
    print(f"wrote {path} (open it in a browser; it works offline)")
    return 0


def _positive(kind: type) -> Any:
    """An argparse type: a number of `kind` (int or float) greater than zero."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got "
                                             f"{text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be greater than 0 (and finite), got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _seed(text: str) -> int:
    """An argparse type: --seed, a whole number >= 0 (as `manual_seed` takes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}. Fix: "
                                         "e.g. --seed 1") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0 (NumPy's generators "
                                         f"take no negative seed), got {text}. Fix: e.g. "
                                         f"--seed {-value}")
    return value


def _seconds(text: str) -> float:
    """An argparse type: --timeout, positive and at most the longest wait the system takes
    (`viz.output.MAX_TIMEOUT`, about 24 days; 1e300 was an OverflowError from subprocess)."""
    value = _positive(float)(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be at most {int(MAX_TIMEOUT):,} seconds "
                                         f"(about 24 days), got {text}")
    return value


def _add_demo(commands: Any) -> None:
    parser = commands.add_parser(
        "demo", help="train a small MLP with BatchNorm, print diagnostics, draw its gradients",
        description="Train a 2-32-32-3 MLP with BatchNorm1d and tanh on generated spirals "
                    "(SGD with momentum), showing a progress line. Then print a per-layer "
                    "diagnostics table (activation mean/std and saturation, gradient "
                    "statistics, grad:data and update:data ratios) and write the gradient-flow "
                    "graph of one batch as SVG and PNG (plus diagnostic plots when matplotlib "
                    "is installed) and the explorer page of `minigrad explore` to the output "
                    "directory. With --scalar: micrograd's scalar "
                    "MLP on two moons instead.")
    parser.add_argument("--steps", type=_positive(int), default=None,
                        help="optimiser steps, > 0 (default 300; 30 with --scalar)")
    # (None: not given; --scalar refuses those it does not use rather than ignore them)
    parser.add_argument("--out", default=None,
                        help="directory for the pictures (default ./minigrad-out; files of "
                             "the same names there are replaced)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="random seed, >= 0 (default 0; 1337 with --scalar)")
    parser.add_argument("--lr", type=_positive(float), default=None,
                        help="learning rate, > 0 (default 0.1)")
    parser.add_argument("--batch-size", type=_positive(int), default=None,
                        help="examples per optimiser step, > 0 (default 64; at most the 300 "
                             "points)")
    parser.add_argument("--log-dir", default=None, metavar="DIR",
                        help="also write TensorBoard event files there (e.g. runs/demo; needs "
                             "pip install 'minigrad[tensorboard]')")
    parser.add_argument("--scalar", action="store_true",
                        help="train micrograd's MLP made of scalar Value nodes instead (its "
                             "own settings: takes --steps and --seed only, writes no files)")


def _add_graph(commands: Any) -> None:
    parser = commands.add_parser(
        "graph", help="draw a built-in example's graph to a file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a built-in example forward and backward and draw its graph: each "
                    "box shows a node's name, op, shape, value and gradient RMS, coloured by "
                    "it; each arrow's width and number give the gradient flowing back along "
                    "it; layers are grouped in clusters.\n\nexamples:\n" + "\n".join(
                        f"  {name:<14} {text}" for name, (_, text) in GRAPH_EXAMPLES.items()))
    parser.add_argument("example", choices=list(GRAPH_EXAMPLES), metavar="EXAMPLE",
                        help=f"one of: {', '.join(GRAPH_EXAMPLES)}")
    parser.add_argument("--out", help="output file; its suffix (.svg, .png, .pdf, .dot) "
                                      "gives the format (default minigrad-out/EXAMPLE.svg; "
                                      "an existing file is replaced)")
    parser.add_argument("--format", default=None, choices=list(FORMATS),
                        help="output format, when --out has no suffix (default: from --out, "
                             "else svg); must agree with the suffix of --out")
    parser.add_argument("--rankdir", default="auto", choices=["auto", "LR", "TB"],
                        help="LR: inputs on the left; TB: inputs at the top; auto (default): "
                             "TB for deep graphs, else LR")
    parser.add_argument("--collapse", action="append", default=[], metavar="MODULE",
                        help="fold a module into one box, by name (bn1) or type "
                             "(BatchNorm1d); repeatable. Default: only large graphs fold")
    parser.add_argument("--max-nodes", type=_positive(int), default=500,
                        help="draw at most this many boxes (default 500)")
    parser.add_argument("--compact", action="store_true",
                        help="smaller boxes: name, op, shape and gradient RMS only")
    parser.add_argument("--hide-parameters", action="store_true",
                        help="leave out the leaves that are trained (weights, biases)")
    parser.add_argument("--hide-constants", action="store_true",
                        help="leave out the leaves that take no gradient (inputs, constants)")
    parser.add_argument("--timeout", type=_seconds, default=60.0,
                        help="seconds Graphviz may take before it is stopped (default 60)")


def _add_explore(commands: Any) -> None:
    from minigrad.examples import EXPLORE_EXAMPLES

    parser = commands.add_parser(
        "explore", help="write the interactive gradient-flow page of a training run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a built-in example, record its gradient flow every K steps and "
                    "write one self-contained HTML page: the graph coloured by gradient size, "
                    "a step slider, panels side by side, per-layer heat maps.\n\nexamples:\n"
                    + "\n".join(f"  {name:<16} {text}"
                                for name, (_, text) in EXPLORE_EXAMPLES.items()))
    parser.add_argument("example", nargs="?", default="deep-batchnorm", metavar="EXAMPLE",
                        help="one of: " + ", ".join(EXPLORE_EXAMPLES)
                        + " (default deep-batchnorm)")
    parser.add_argument("--out", default="flow.html",
                        help="the page to write, ending in .html (default flow.html; an "
                             "existing file is replaced)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--every", type=int, default=10,
                        help="record every K-th step (default 10)")

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="minigrad: a small, readable autograd engine. Train a demo network or "
                    "draw a computation graph with its gradient flow.",
        epilog="examples:\n  minigrad demo\n  minigrad demo --steps 100 --out results\n"
               "  minigrad graph mlp-batchnorm --out bn.png\n"
               "  minigrad graph cnn-batchnorm --collapse bn1\n"
               "  minigrad explore --out flow.html\n\n"
               "Run `minigrad COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"minigrad {mg.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(commands)
    _add_graph(commands)
    _add_explore(commands)
    return parser


def _demo(args: argparse.Namespace) -> int:
    if args.scalar:
        unused = [option for option, value in (("--out", args.out), ("--lr", args.lr), (
            "--batch-size", args.batch_size), ("--log-dir", args.log_dir)) if value is not None]
        if unused:  # (ignoring them would show a run the user did not ask for)
            print(f"minigrad demo: --scalar does not use {', '.join(unused)}: it trains "
                  "micrograd's MLP on all 100 points at each step, with micrograd's learning "
                  "rate (1.0 down to 0.1), and writes no files. Fix: leave "
                  f"{'it' if len(unused) == 1 else 'them'} out, or leave out --scalar.",
                  file=sys.stderr)
            return 2
        scalar_demo(30 if args.steps is None else args.steps,
                    seed=1337 if args.seed is None else args.seed)
        return 0
    try:
        demo(300 if args.steps is None else args.steps,
             out="minigrad-out" if args.out is None else args.out,
             seed=0 if args.seed is None else args.seed,
             lr=0.1 if args.lr is None else args.lr,
             batch_size=64 if args.batch_size is None else args.batch_size,
             log_dir=args.log_dir)
    except ValueError as error:
        _fail("demo", error)
        return 2
    except ImportError as error:
        # An optional package the options need is missing: the command line is right, the
        # work cannot be done here (1, as for a missing `dot`), and the fix is an install.
        if args.log_dir is not None and "tensorboardX" in str(error):
            print("minigrad demo: --log-dir writes TensorBoard files, which needs the "
                  "tensorboardX package, and it cannot be imported here. Fix: pip install "
                  "'minigrad[tensorboard]' (or pip install tensorboardX), or leave --log-dir "
                  "out.", file=sys.stderr)
        else:
            _fail("demo", error)
        return 1
    except OSError as error:
        option = "--log-dir" if _is_in(error.filename, args.log_dir) else "--out"
        return _cannot_write("demo", error, option)
    return 0


COMMANDS = {"demo": _demo, "graph": _graph, "explore": _explore}


def main(argv: list[str] | None = None) -> int:
    mg.allocator.keep_freed_memory()  # a training process: opt in (see minigrad/allocator.py)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("minigrad: error: choose a command: " + ", ".join(COMMANDS)
              + " (minigrad --help tells more)", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader of the output left (`minigrad demo | head`): stop quietly, as Unix
        # tools do. stdout now points at devnull, or Python's last flush would report it.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # (no file descriptor: nothing to flush there)
            pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
