"""Graphviz's time limit: which timeouts draw_graph, render and explore take, and what a
time-out's message suggests (a module the graph has, in the caller's options)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from minigrad import viz
from minigrad.examples import build_graph
from minigrad.viz.output import MAX_TIMEOUT
from tests.viz.test_graph import two_layer_loss

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


@pytest.mark.parametrize("timeout", [-1, 0, "5", float("nan"), True, float("inf"), 1e300,
                                     10**400, MAX_TIMEOUT * (1 + 1e-9)])
def test_draw_graph_refuses_a_bad_timeout_at_once_not_when_the_notebook_shows_it(timeout,
                                                                                tmp_path):
    """draw_graph(timeout=-1) was accepted; Jupyter then printed a traceback from its display
    and showed '<GradientGraph at 0x...>' instead of the picture. So was timeout=inf or 1e300:
    subprocess's wait overflowed ('timestamp too large to convert to C _PyTime_t')."""
    loss = two_layer_loss()[2]
    refused = (r"timeout must be a positive number of seconds, at most 2,147,483 \(about 24 "
               r"days: the longest wait the system takes\), or None for no limit; got .*Fix: "
               r"e\.g\. timeout=60, or timeout=None")
    for caller, call in (("draw_graph", lambda: viz.draw_graph(loss, timeout=timeout)),
                         ("render", lambda: viz.render(loss, tmp_path / "g.svg", timeout=timeout)),
                         ("explore", lambda: viz.explore(loss, timeout=timeout))):
        with pytest.raises(ValueError, match=rf"^{caller}: {refused}"):
            call()
    assert not list(tmp_path.iterdir())  # refused before anything was drawn or written
    graph = viz.draw_graph(loss)
    graph.timeout = timeout  # set afterwards: the cell shows why, not a traceback
    assert "timeout must be a positive number" in graph._repr_mimebundle_()["text/plain"]


@needs_dot
def test_the_longest_timeout_the_system_takes_is_taken():
    loss = two_layer_loss()[2]
    graph = viz.draw_graph(loss, timeout=MAX_TIMEOUT)
    assert graph._repr_mimebundle_()["image/svg+xml"].lstrip().startswith("<?xml")


def test_notebook_display_shows_an_overflowing_wait_as_text(monkeypatch):
    """A time limit the system cannot wait for (past draw_graph's check: set on the graph,
    or a platform with a shorter one) is the cell's text, not a traceback."""
    from minigrad.viz import output

    def overflowing(*args, **kwargs):
        raise OverflowError("timeout is too large")

    graph = viz.draw_graph(two_layer_loss()[2])
    monkeypatch.setattr(output.subprocess, "run", overflowing)
    bundle = graph._repr_mimebundle_()
    assert bundle["text/plain"] == ("draw_graph: the system cannot wait timeout=60.0 seconds "
                                    "for Graphviz (timeout is too large). Fix: a shorter "
                                    "timeout, or timeout=None for no limit.")
    assert "image/svg+xml" not in bundle


@pytest.fixture
def too_slow(monkeypatch):
    """Graphviz always takes longer than allowed (the messages, without waiting)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' not installed")

    def stopped(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", stopped)


@pytest.mark.parametrize(("example", "fold"), [
    ("expression", None), ("mlp", "Linear"), ("mlp-batchnorm", "BatchNorm1d"),
    ("cnn-batchnorm", "BatchNorm2d")])
def test_a_timeout_suggests_folding_a_module_the_graph_has(too_slow, tmp_path, example, fold):
    """The message always suggested collapse=['BatchNorm1d'], also for a graph with no
    module (which refuses it) or with BatchNorm2d; explore's said collapse='BatchNorm1d'."""
    root, params = build_graph(example)
    graph = viz.draw_graph(root, params=params, timeout=5)
    with pytest.raises(viz.GraphvizTimeoutError) as stopped:
        viz.save(graph, tmp_path / "g.svg", timeout=5)
    shown = graph._repr_mimebundle_()["text/plain"]
    with pytest.raises(viz.GraphvizTimeoutError) as explored:
        viz.explore(root, params=params, timeout=5)
    for message in (str(stopped.value), shown, str(explored.value)):
        assert "BatchNorm1d" not in message or fold == "BatchNorm1d"
    if fold is None:
        assert "collapse" not in str(stopped.value) and "collapse" not in shown
        assert "max_nodes=, show_parameters=False, show_constants=False (no module to fold "\
               "that would help)" in shown
        assert "no module to fold" in str(explored.value)
    else:
        assert f"collapse=['{fold}'] or other module names/types" in str(stopped.value)
        assert f"collapse=['{fold}']" in shown
        assert f"fold modules (collapse='{fold}' or collapse='auto')" in str(explored.value)
    assert graph.copy().fold == fold
