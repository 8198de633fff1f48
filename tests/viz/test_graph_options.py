"""The visualiser's options and limits: names, scale, folding deep models, escaping data,
time limits and what a notebook shows when Graphviz is missing."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.examples import BatchNormMLP
from minigrad.viz.style import LogScale
from tests.viz.test_graph import (
    _attribute,
    find,
    graph_nodes,
    label_of,
    parse,
    two_layer_loss,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def deep_loss(blocks: int = 20) -> mg.Tensor:
    mg.manual_seed(0)
    model = BatchNormMLP(hidden=8, blocks=blocks, implementation="composed")
    loss = nn.CrossEntropyLoss()(model(mg.randn(16, 2)), np.arange(16) % 3)
    loss.backward(retain_graph=True)
    return loss


def test_parameters_are_named_by_the_modules_that_own_them_without_params():
    model, _, loss, _ = two_layer_loss()
    parsed = parse(viz.draw_graph(loss).source)  # no params=
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert find(parsed, f"<B>{name}</B>")
    assert not any("<I>parameter</I>" in label_of(parsed, k) for k in graph_nodes(parsed))
    # params= still wins where it names a node
    renamed = parse(viz.draw_graph(loss, params={"W1": model.fc1.weight}).source)
    assert find(renamed, "<B>W1</B>") and "fc1.weight" not in str(renamed["nodes"])


def test_parameters_used_outside_their_module_keep_their_full_name():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(3, 3)

        def forward(self, x):  # the parent uses the child's weight itself
            return self.encoder(x) @ self.encoder.weight

    mg.manual_seed(0)
    loss = Tied()(mg.randn(2, 3)).sum()
    loss.backward(retain_graph=True)
    parsed = parse(viz.draw_graph(loss).source)
    assert find(parsed, "<B>encoder.weight</B>")


def test_box_number_and_colour_are_the_same_quantity_on_a_fixed_scale():
    a = mg.tensor(np.ones(4), requires_grad=True, name="a")  # grad 3 each: RMS 3, norm 6
    b = mg.tensor(np.ones(100), requires_grad=True, name="b")  # grad 1 each: RMS 1, norm 10
    loss = (a * 3.0).sum() + b.sum()
    loss.backward(retain_graph=True)
    parsed = parse(viz.draw_graph(loss).source)
    a_label, b_label = label_of(parsed, find(parsed, "<B>a</B>")), label_of(parsed,
                                                                          find(parsed, "<B>b</B>"))
    assert "grad RMS 3<" in a_label and "grad RMS 1<" in b_label
    scale = LogScale.between(1e-6, 1e2)  # the default: (vanishing, exploding)
    fill = {name: _attribute(parsed["nodes"][find(parsed, f"<B>{name}</B>")], "fillcolor")
            for name in "ab"}
    assert fill == {"a": scale.colour(3.0), "b": scale.colour(1.0)}
    # the larger printed number is the redder box (the norm would say the opposite)
    assert scale.position(3.0) > scale.position(1.0)
    # a picture of other gradients uses the same colours for the same sizes
    c = mg.tensor(np.ones(4), requires_grad=True, name="c")
    other = (c * 1e-4).sum()
    other.backward(retain_graph=True)
    other_parsed = parse(viz.draw_graph(other).source)
    assert _attribute(other_parsed["nodes"][find(other_parsed, "<B>c</B>")],
                      "fillcolor") == scale.colour(1e-4)


def test_scale_option_sets_the_ends_of_the_colour_bar():
    a = mg.tensor(np.ones(4), requires_grad=True, name="a")
    loss = (a * 0.01).sum()
    loss.backward(retain_graph=True)
    source = viz.draw_graph(loss, scale=(1e-3, 1e-1)).source
    parsed = parse(source)
    middle = LogScale.between(1e-3, 1e-1).colour(0.01)
    assert _attribute(parsed["nodes"][find(parsed, "<B>a</B>")], "fillcolor") == middle
    assert ">1e-3<" in source and ">1e-1<" in source and ">1e-6<" not in source
    for bad in ((1.0, 0.1), (0, 1), (1e-3, float("inf"))):
        with pytest.raises(ValueError, match="scale"):
            viz.draw_graph(loss, scale=bad)
    with pytest.raises(TypeError, match="scale"):
        viz.draw_graph(loss, scale=1e-3)


def test_plurals():
    model, _, loss, _ = two_layer_loss()
    parsed = parse(viz.draw_graph(loss, collapse="act").source)
    assert "1 node collapsed" in label_of(parsed, find(parsed, "act (Tanh)</B><BR"))
    chain = mg.tensor([1.0], requires_grad=True)
    for _ in range(3):
        chain = chain * 2.0
    assert "… 1 more node<" in viz.draw_graph(chain, max_nodes=3, show_constants=False).source


def test_collapse_of_the_wrong_type_is_refused_with_the_fix():
    """draw_graph(loss, collapse=3) raised a bare "'int' object is not iterable" (explore
    the same), where every other argument names the fix."""
    model, _, loss, _ = two_layer_loss()
    usage = r"Fix: collapse='auto' .*collapse=\(\) \(never fold\).*collapse=\['fc1', "
    cases = [(3, r"got int 3 \(to limit the picture's size, use max_nodes=\)\. " + usage),
             ([2.5], r"got float 2\.5\. " + usage),
             (b"fc1", r"got bytes b'fc1'\. " + usage),
             (nn.Linear, r"got the class Linear\. Fix: collapse='Linear'"),
             ([model.fc1], r"got a Linear module\. Fix: collapse='Linear'"),
             (model, r"got a TwoLayers module\. Fix: collapse='TwoLayers'")]
    for tool in (viz.draw_graph, viz.explore):
        for collapse, message in cases:
            with pytest.raises(TypeError, match=rf"^{tool.__name__}: collapse takes module "
                                                rf"names or types as strings, {message}"):
                tool(loss, collapse=collapse)
    for collapse in (True, None):  # explore's "open closed / open" and "fold nothing"
        with pytest.raises(TypeError, match=r"draw_graph: collapse takes .*Fix:"):
            viz.draw_graph(loss, collapse=collapse)
        viz.explore(loss, collapse=collapse)


def test_collapse_given_as_a_generator_is_read_once():
    """explore checked the names with set(collapse), which emptied a generator: the page
    then folded nothing. The names are read into a tuple first."""
    _, _, loss, _ = two_layer_loss()
    listed = viz.explore(loss, collapse=["fc1"]).document["panels"][0]
    assert viz.explore(loss, collapse=(n for n in ["fc1"])).document["panels"][0] == listed
    assert listed != viz.explore(loss, collapse=()).document["panels"][0]
    assert (viz.draw_graph(loss, collapse=(n for n in ["fc1"])).source
            == viz.draw_graph(loss, collapse=["fc1"]).source)


def test_unknown_collapse_names_list_the_modules_there_are():
    _, _, loss, _ = two_layer_loss()
    with pytest.raises(ValueError, match=r"'nosuch'.*fc1 \(Linear\).*types: .*Tanh"):
        viz.draw_graph(loss, collapse=["fc1", "nosuch"])


def test_a_nested_module_folds_by_its_own_name_as_in_explore():
    """collapse="bn1" (the docstring's and --collapse's example) folds a module nested as
    features.bn1, as explore does; draw_graph refused it, naming only the full path."""
    mg.manual_seed(0)
    model = nn.Sequential(BatchNormMLP(hidden=4, blocks=2), nn.Tanh())
    loss = model(mg.randn(6, 2)).sum()
    loss.backward(retain_graph=True)
    by_name = parse(viz.draw_graph(loss, collapse="bn1").source)
    assert by_name == parse(viz.draw_graph(loss, collapse="0.bn1").source)
    assert "nodes collapsed" in label_of(by_name, find(by_name, "bn1 (BatchNorm1d)"))
    assert len(graph_nodes(by_name)) < len(graph_nodes(parse(
        viz.draw_graph(loss, collapse=()).source)))
    page = viz.explore(loss, collapse="bn1").document["panels"][0]
    assert page == viz.explore(loss, collapse="0.bn1").document["panels"][0]


def test_collapse_on_a_graph_without_modules_says_it_has_none():
    """It listed "Its modules: none; types: none. Fix: use one of these names or types"."""
    a, b = mg.Value(2.0, label="a"), mg.Value(-3.0, label="b")
    loss = (a * b).tanh()
    loss.backward()
    with pytest.raises(ValueError, match=r"collapse='bn1', but this graph has no modules to "
                       r"fold.*Fix: leave collapse out"):
        viz.draw_graph(loss, collapse="bn1")


def test_deep_models_fold_and_grow_downwards_by_default():
    loss = deep_loss(20)
    source = viz.draw_graph(loss).source
    parsed = parse(source)
    assert len(graph_nodes(parsed)) <= 100  # folded to one box per layer call
    assert find(parsed, "bn20 (BatchNorm1d)</B><BR")
    assert "rankdir=TB" in source and "collapse=() unfolds" in source
    unfolded = parse(viz.draw_graph(loss, collapse=()).source)
    assert len(graph_nodes(unfolded)) > 300
    # small graphs are left alone and drawn left to right
    small = viz.draw_graph(two_layer_loss()[2]).source
    assert "rankdir=LR" in small and "collapse=() unfolds" not in small


@needs_dot
def test_a_20_block_model_gives_a_picture_of_readable_size(tmp_path):
    path = viz.render(deep_loss(20), tmp_path / "deep.png")
    width, height = np.frombuffer(path.read_bytes()[16:24], dtype=">u4")
    assert width < 2000, (width, height)  # was 32,766 px wide, scaled down by Graphviz
    assert height < 32_000


@needs_dot
@pytest.mark.parametrize("dtype", [">f8", "<f4", ">i4", "bool"])
def test_dtypes_and_names_from_data_are_escaped_and_render(dtype):
    x = mg.tensor(np.arange(3).astype(dtype), name='x<&>"y')
    source = viz.draw_graph(x).source
    result = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    svg = result.stdout.decode()
    assert ">x&lt;&amp;&gt;&quot;y<" in svg
    assert f"(3,) {html.escape(str(np.dtype(dtype)), quote=False)}<" in svg


@needs_dot
def test_a_big_endian_graph_with_gradients_renders():
    y = mg.tensor(np.arange(3, dtype=">f8"), requires_grad=True, name="y")
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    result = subprocess.run(["dot", "-Tsvg"], input=viz.draw_graph(loss).source.encode(),
                            capture_output=True)
    assert result.returncode == 0, result.stderr.decode()  # was "syntax error near '>'"
    assert "(3,) &gt;f8" in result.stdout.decode()


def test_render_stops_graphviz_after_the_timeout(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' not installed")
    loss = deep_loss(20)
    with pytest.raises(viz.GraphvizTimeoutError) as error:
        viz.render(loss, tmp_path / "big.svg", collapse=(), max_nodes=None, timeout=0.01)
    message = str(error.value)
    assert re.search(r"\(\d{3},?\d* boxes, \d{3},?\d* arrows\) within 0\.01 s", message)
    assert "collapse=" in message and "max_nodes=" in message and "show_parameters" in message
    assert not (tmp_path / "big.svg").exists()
    with pytest.raises(ValueError, match="timeout"):
        viz.render(loss, tmp_path / "big.svg", timeout=0)


def test_notebook_display_shows_the_install_hint_without_dot(tmp_path, monkeypatch):
    loss = two_layer_loss()[2]
    graph = viz.draw_graph(loss)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    bundle = graph._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert "ExecutableNotFound" not in bundle["text/plain"]
    assert "apt-get install graphviz" in bundle["text/html"]


@needs_dot
def test_notebook_display_says_when_graphviz_takes_too_long():
    graph = viz.draw_graph(deep_loss(20), collapse=(), max_nodes=None, timeout=0.01)
    bundle = graph._repr_mimebundle_()
    assert "within 0.01 s" in bundle["text/plain"] and "image/svg+xml" not in bundle
    copied = graph.copy()
    assert (copied.timeout, copied.boxes, copied.arrows) == (0.01, graph.boxes, graph.arrows)


def test_scopes_compare_by_path_not_by_module_object():
    from minigrad.autograd import Scope

    first, second = nn.Linear(2, 2), nn.Linear(2, 2)
    a = Scope("fc", "Linear", Scope("", "Net", None), first)
    b = Scope("fc", "Linear", Scope("", "Net", None), second)
    assert a == b and not (a != b) and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Scope("fc", "Linear", None, first)
    assert repr(a) == "Scope('fc', 'Linear')"


def test_names_that_are_not_pairs_are_refused_not_unpacked():
    """params=model.parameters() is an easy slip: a tensor of two rows unpacked into a
    (name, node) "pair" and was silently ignored; a Value raised a bare unpacking error."""
    mg.manual_seed(0)
    layer = mg.nn.Linear(2, 2)
    loss = layer(mg.tensor(np.ones((3, 2), np.float32))).sum()
    loss.backward(retain_graph=True)
    for params in (list(layer.parameters()), layer.parameters(), 3):
        with pytest.raises(TypeError, match=r"draw_graph: the names .*Fix: pass the model"):
            viz.draw_graph(loss, params=params)
    with pytest.raises(TypeError, match=r"GradientFlowRecorder: the names .*holding a "
                                        r"Parameter of shape \(2, 2\)"):
        mg.viz.GradientFlowRecorder(list(layer.parameters()))
    value = mg.Value(2.0)
    square = value * value
    square.backward()
    with pytest.raises(TypeError, match="draw_graph: the names .*holding a Value"):
        viz.draw_graph(square, params=[value])
    # What is meant works: a module, a dict, pairs.
    for params in (layer, dict(layer.named_parameters()), list(layer.named_parameters())):
        assert "weight" in viz.draw_graph(loss, params=params).source


@needs_dot
def test_digraph_render_and_pipe_stop_graphviz_after_the_timeout(tmp_path):
    """draw_graph's result is a Digraph; its own render() and pipe() (as in torchviz's
    examples and the tutorials' helper) ran `dot` with no time limit at all."""
    graph = viz.draw_graph(deep_loss(20), collapse=(), max_nodes=None, timeout=0.01)
    with pytest.raises(viz.GraphvizTimeoutError, match=r"boxes.*within 0\.01 s"):
        graph.render(str(tmp_path / "big"), format="svg")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    with pytest.raises(viz.GraphvizTimeoutError, match=r"within 0\.01 s"):
        graph.pipe(format="svg")
    # Within the time limit they do what graphviz's do: source file, drawing beside it.
    small = viz.draw_graph(two_layer_loss()[2])
    written = small.render(str(tmp_path / "small"), format="svg")
    assert written == str(tmp_path / "small.svg") and (tmp_path / "small").is_file()
    assert (tmp_path / "small.svg").read_text().lstrip().startswith("<?xml")
    assert small.render(str(tmp_path / "tidy"), format="png", cleanup=True) == str(
        tmp_path / "tidy.png")
    assert not (tmp_path / "tidy").exists() and (tmp_path / "tidy.png").stat().st_size > 0
    assert small.pipe(format="svg", encoding="utf-8").lstrip().startswith("<?xml")
    assert isinstance(small.pipe(format="svg"), bytes)


@pytest.mark.parametrize("options", [{"max_nodes": 1.5}, {"max_nodes": "10"},
                                     {"max_nodes": True}, {"vanishing": "1e-6"},
                                     {"exploding": None}])
def test_options_of_the_wrong_type_are_a_clear_error_not_a_comparison_traceback(options):
    loss = two_layer_loss()[2]
    with pytest.raises(ValueError, match=r"^draw_graph: "):
        viz.draw_graph(loss, **options)


def test_a_timeout_of_the_wrong_type_is_a_clear_error(tmp_path):
    loss = two_layer_loss()[2]
    with pytest.raises(ValueError, match=r"^render: timeout must be a positive number"):
        viz.render(loss, tmp_path / "g.svg", timeout="5")
    assert viz.draw_graph(loss, max_nodes=np.int64(3)).boxes == 3  # NumPy numbers are numbers


def test_a_model_without_named_parameters_gets_a_fix_that_applies_to_it():
    """A ScalarMLP (micrograd's MLP: parameters(), no named_parameters()) was told to pass
    dict(model.named_parameters()), which it does not have."""
    from minigrad.examples import ScalarMLP

    model = ScalarMLP(2, [3, 1])
    out = model([mg.Value(1.0), mg.Value(2.0)])
    out.backward()
    for make in (lambda: viz.GradientFlowRecorder(model),
                 lambda: viz.draw_graph(out, params=model)):
        with pytest.raises(TypeError, match="no named_parameters") as refused:
            make()
        assert "named_parameters())" not in str(refused.value)
    # The fix it gives works.
    names = {f"p{i}": p for i, p in enumerate(model.parameters())}
    assert "p0" in viz.draw_graph(out, params=names).source
    viz.GradientFlowRecorder(names)


def test_render_to_a_folder_is_refused_with_the_fix(tmp_path, monkeypatch):
    """A folder wrote "folder.svg" beside it (Path drops a trailing slash), and "." was
    pathlib's "PosixPath('.') has an empty name"."""
    _, _, loss, _ = two_layer_loss()
    monkeypatch.chdir(tmp_path)
    for folder in (".", str(tmp_path), "new/", tmp_path / "."):
        with pytest.raises(ValueError, match=r"render: .* is a folder, not a file\. Fix: "
                                             r"name the file, e.g\. '.*graph\.svg'"):
            viz.render(loss, folder)
    with pytest.raises(ValueError, match=r"is a folder.*'new/graph\.png'"):
        viz.save(viz.draw_graph(loss), "new/", format="png")
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_the_digraphs_own_render_warns_nothing(tmp_path):
    """graph.render(path) passed `directory` by position: graphviz warned, on every call,
    that its signature is changing (a PendingDeprecationWarning from inside minigrad)."""
    import warnings

    _, _, loss, _ = two_layer_loss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = viz.draw_graph(loss).render(str(tmp_path / "g"), format="svg")
    assert written == str(tmp_path / "g.svg") and (tmp_path / "g").read_text().startswith(
        "digraph")
