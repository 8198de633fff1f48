"""The graph visualiser: what it draws, read back by parsing the DOT text (and the SVG)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


# -- reading DOT back ------------------------------------------------------------------------

def _attribute(attributes: str, name: str) -> str | None:
    """The value of `name` in a DOT attribute list: an HTML label (brackets balanced), a
    quoted string or a bare word."""
    match = re.search(rf"(?:^|\s){name}=", attributes)
    if match is None:
        return None
    rest = attributes[match.end():]
    if rest.startswith("<"):
        depth = 0
        for i, ch in enumerate(rest):
            depth += {"<": 1, ">": -1}.get(ch, 0)
            if depth == 0:
                return rest[1:i]
    if rest.startswith('"'):
        return re.match(r'"((?:[^"\\]|\\.)*)"', rest).group(1)
    return rest.split()[0]


def parse(source: str) -> dict:
    """Nodes {id: attributes}, edges [(tail, head, attributes)], and for each node the
    labels of the clusters it sits in (outermost first)."""
    nodes, edges, inside, cluster_labels = {}, [], {}, []
    opening = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            cluster_labels.append(None)
            opening = True
        elif stripped == "}" and cluster_labels:
            cluster_labels.pop()
        elif opening and (match := re.fullmatch(r"(t\d+) \[(.*)\]", stripped)):
            cluster_labels[-1] = _attribute(match[2], "label")  # the cluster's title node
            nodes[match[1]] = match[2]
            opening = False
        elif match := re.fullmatch(r"(\w+) -> (\w+)(?: \[(.*)\])?", stripped):
            if 'style="invis"' not in stripped:  # not the edges placing cluster titles
                edges.append((match[1], match[2], match[3] or ""))
        elif (match := re.fullmatch(r"(\w+) \[(.*)\]", stripped)) and match[1] not in (
                "graph", "node", "edge"):
            nodes[match[1]] = match[2]
            inside[match[1]] = [label for label in cluster_labels if label is not None]
    return {"nodes": nodes, "edges": edges, "clusters": inside}


def graph_nodes(parsed: dict) -> dict:
    """The nodes that stand for graph nodes (not the legend, the '… more' marker or the
    clusters' title nodes t0, t1, ...)."""
    return {k: v for k, v in parsed["nodes"].items()
            if k not in ("legend", "more") and not re.fullmatch(r"t\d+", k)}


def label_of(parsed: dict, key: str) -> str:
    return _attribute(parsed["nodes"][key], "label")


def find(parsed: dict, text: str) -> str:
    """The one node whose label contains `text`."""
    keys = [k for k in graph_nodes(parsed) if text in label_of(parsed, k)]
    assert len(keys) == 1, (text, keys)
    return keys[0]


def edge_norm(attributes: str) -> float:
    return float(_attribute(attributes, "tooltip").split()[-1])


def micrograd_expression() -> tuple[mg.Value, dict]:
    """micrograd's example: L = (a*b + c) * f."""
    a, b, c, f = (mg.Value(v, label=n) for v, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"),
                                                      (-2.0, "f")))
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    loss = d * f
    loss.label = "L"
    return loss, {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d}


# -- counts and gradients ----------------------------------------------------------------------

def test_node_and_edge_counts_of_a_known_graph():
    loss, _ = micrograd_expression()
    with_ops = parse(viz.draw_graph(loss).source)  # Value graphs: micrograd's op nodes
    # 7 values and 3 op nodes; 6 edges into the ops and one from each op to its result.
    assert len(graph_nodes(with_ops)) == 10 and len(with_ops["edges"]) == 9
    folded = parse(viz.draw_graph(loss, op_nodes=False).source)
    assert len(graph_nodes(folded)) == 7 and len(folded["edges"]) == 6

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    total = (a * b).sum()
    parsed = parse(viz.draw_graph(total).source)  # tensor graphs fold the op into the box
    assert len(graph_nodes(parsed)) == 4 and len(parsed["edges"]) == 3
    assert {op in label_of(parsed, find(parsed, op)) for op in ("mul", "sum")} == {True}


def test_gradient_annotations_appear_only_after_backward():
    a = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, name="a")
    loss = (a.tanh() * 2.0).sum()
    before = parse(viz.draw_graph(loss).source)
    assert not any("grad" in label_of(before, k) for k in graph_nodes(before))
    assert all(_attribute(attrs, "label") is None for _, _, attrs in before["edges"])
    assert "legend" not in before["nodes"]
    assert 'label="?"' not in viz.draw_graph(loss, show_grad=True).source

    loss.backward(retain_graph=True)
    after = parse(viz.draw_graph(loss).source)
    assert after["nodes"].keys() == before["nodes"].keys() | {"legend"}
    for key in graph_nodes(after):
        label = label_of(after, key)
        needs_grad = "constant" not in label  # the 2.0 needs none
        assert ("grad" in label) == needs_grad, label
        assert (_attribute(after["nodes"][key], "fillcolor") is not None)
    labelled = [attrs for _, _, attrs in after["edges"] if _attribute(attrs, "label")]
    assert len(labelled) == 3  # a->tanh, tanh->mul, mul->sum; the constant's edge has none
    assert "grad" not in viz.draw_graph(loss, show_grad=False).source


def test_edge_values_equal_vector_jacobian_products_computed_by_hand():
    a_data, b_data = np.array([1.0, 2.0, -3.0]), np.array([4.0, -5.0, 0.5])
    a = mg.tensor(a_data, requires_grad=True, name="a")
    b = mg.tensor(b_data, requires_grad=True, name="b")
    c = a * b
    c.name = "c"
    loss = (c * c).sum()  # c used twice: one arrow carrying both gradients
    loss.backward(retain_graph=True)
    parsed = parse(viz.draw_graph(loss).source)
    key = {name: find(parsed, f"<B>{name}</B>") for name in ("a", "b", "c")}
    arrows = {(tail, head): attrs for tail, head, attrs in parsed["edges"]}
    square = next(head for tail, head in arrows if tail == key["c"])
    dloss_dc = 2 * a_data * b_data  # d(sum c²)/dc, the gradient c receives
    expected = {
        (key["a"], key["c"]): np.linalg.norm(dloss_dc * b_data),  # c = a*b: dc/da = b
        (key["b"], key["c"]): np.linalg.norm(dloss_dc * a_data),
        (key["c"], square): np.linalg.norm(dloss_dc),  # both uses of c, summed
    }
    for edge, value in expected.items():
        assert edge_norm(arrows[edge]) == pytest.approx(value, rel=1e-5)
        # the printed number is the RMS, like the boxes': norm / sqrt(3 elements)
        assert float(_attribute(arrows[edge], "label")) == pytest.approx(value / np.sqrt(3),
                                                                         rel=5e-3)
    assert len([e for e in arrows if e[1] == square]) == 1


def test_value_edges_carry_local_derivative_times_gradient():
    loss, v = micrograd_expression()
    loss.backward()
    parsed = parse(viz.draw_graph(loss).source)
    key = {name: find(parsed, f"<B>{name}</B>") for name in v}
    arrows = {tail: attrs for tail, head, attrs in parsed["edges"] if not tail.endswith("_op")}
    # L = d*f: L sends f.data to d and d.data to f; e = a*b sends b*de to a, a*de to b.
    assert edge_norm(arrows[key["d"]]) == pytest.approx(abs(v["f"].data))
    assert edge_norm(arrows[key["f"]]) == pytest.approx(abs(v["d"].data))
    assert edge_norm(arrows[key["a"]]) == pytest.approx(abs(v["b"].data * v["e"].grad))
    assert edge_norm(arrows[key["b"]]) == pytest.approx(abs(v["a"].data * v["e"].grad))


# -- clusters and collapsing ---------------------------------------------------------------------

class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def two_layer_loss(x_requires_grad: bool = True):
    mg.manual_seed(0)
    model = TwoLayers()
    x = mg.tensor(np.linspace(-1, 1, 15).reshape(5, 3), dtype=np.float32,
                  requires_grad=x_requires_grad, name="x")
    outputs = {}
    def keep(module, args, out):
        out.retain_grad()  # an intermediate: its .grad is kept only when asked (to compare)
        outputs.setdefault("fc1", out)

    model.fc1.register_forward_hook(keep)
    loss = (model(x) ** 2).mean()
    loss.backward(retain_graph=True)
    return model, x, loss, outputs


def test_nodes_are_grouped_in_nested_module_clusters():
    model, _, loss, _ = two_layer_loss()
    parsed = parse(viz.draw_graph(loss, params=model).source)
    weight = find(parsed, "fc1.weight")
    assert parsed["clusters"][weight] == ["<B>TwoLayers</B>", "<B>fc1 (Linear)</B>"]
    assert parsed["clusters"][find(parsed, "tanh")] == ["<B>TwoLayers</B>", "<B>act (Tanh)</B>"]
    assert parsed["clusters"][find(parsed, "<B>x</B>")] == []  # made outside the model


def test_batchnorm_cluster_holds_its_steps():
    if not hasattr(nn, "BatchNorm1d"):
        pytest.skip("nn.BatchNorm1d not available yet")
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, implementation="composed"))
    loss = (model(mg.randn(8, 3)) ** 2).mean()
    loss.backward(retain_graph=True)
    parsed = parse(viz.draw_graph(loss, params=model).source)
    cluster = "<B>1 (BatchNorm1d)</B>"
    inside = [k for k in graph_nodes(parsed) if cluster in parsed["clusters"][k]]
    labels = " ".join(label_of(parsed, k) for k in inside)
    for step in ("mean", "var", "x_hat", "1.weight", "1.bias"):
        assert f"<B>{step}</B>" in labels
    assert all("0.weight" not in label_of(parsed, k) for k in inside)


def test_a_collapsed_module_is_one_box_with_the_right_edges():
    model, x, loss, outputs = two_layer_loss()
    parsed = parse(viz.draw_graph(loss, params=model, collapse="fc1").source)
    box = find(parsed, "fc1 (Linear)")
    assert not any("fc1.weight" in label_of(parsed, k) for k in graph_nodes(parsed))
    assert "3 nodes collapsed" in label_of(parsed, box)  # weight, bias, linear
    into = [(t, a) for t, h, a in parsed["edges"] if h == box]
    out_of = [(h, a) for t, h, a in parsed["edges"] if t == box]
    assert [t for t, _ in into] == [find(parsed, "<B>x</B>")]
    assert [h for h, _ in out_of] == [find(parsed, "tanh")]
    # In: all the gradient fc1 sends to x; out: all the gradient fc1's output receives.
    assert edge_norm(into[0][1]) == pytest.approx(np.linalg.norm(x.grad), rel=1e-5)
    assert edge_norm(out_of[0][1]) == pytest.approx(np.linalg.norm(outputs["fc1"].grad),
                                                    rel=1e-5)
    by_type = parse(viz.draw_graph(loss, params=model, collapse=["Linear"]).source)
    assert len(graph_nodes(by_type)) == 6  # x, fc1, tanh, fc2, pow, mean
    assert len(by_type["edges"]) == 5  # a chain


def test_parameters_and_constants_can_be_hidden():
    model, _, loss, _ = two_layer_loss(x_requires_grad=False)
    everything = parse(viz.draw_graph(loss, params=model).source)
    no_params = parse(viz.draw_graph(loss, params=model, show_parameters=False).source)
    no_consts = parse(viz.draw_graph(loss, params=model, show_constants=False).source)
    assert len(graph_nodes(everything)) - len(graph_nodes(no_params)) == 4
    assert not any("weight" in label_of(no_params, k) for k in graph_nodes(no_params))
    assert len(graph_nodes(everything)) - len(graph_nodes(no_consts)) == 1  # x
    assert not any("<B>x</B>" in label_of(no_consts, k) for k in graph_nodes(no_consts))


# -- robustness -----------------------------------------------------------------------------------

HOSTILE = ['say "hi"', "{braces}", "<b>bold</b>", "a -> b", "x | y", "line1\nline2",
           "&amp; &lt;", "]; evil [color=red", "}", "trailing\\", '\\"', "<<>>", "\x00\t\r",
           "subgraph cluster_x {", "ünï©ødé ⚡"]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_render_with_the_same_nodes_and_edges(label):
    def build(name):
        x = mg.tensor([1.0, 2.0], requires_grad=True, name=name)
        y = x * x
        y.name = name
        loss = y.sum()
        loss.backward(retain_graph=True)
        value = mg.Value(3.0, label=name) * mg.Value(2.0)
        return viz.draw_graph(loss, title=name).source, viz.draw_graph(value).source

    for plain, hostile in zip(build("plain"), build(label)):
        parsed_plain, parsed_hostile = parse(plain), parse(hostile)
        assert parsed_hostile["nodes"].keys() == parsed_plain["nodes"].keys()
        assert [e[:2] for e in parsed_hostile["edges"]] == [e[:2] for e in parsed_plain["edges"]]
        assert hostile.count("\n") == plain.count("\n")
    shown = html.escape("".join(c if c.isprintable() else repr(c)[1:-1] for c in label))
    assert shown in hostile or "…" in hostile


@needs_dot
def test_dot_accepts_every_hostile_label():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="".join(HOSTILE))
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    for name in HOSTILE:
        x.name = name
        source = viz.draw_graph(loss, title=name).source
        result = subprocess.run(["dot", "-Tjson"], input=source.encode(), capture_output=True)
        assert result.returncode == 0, result.stderr
        drawn = json.loads(result.stdout)
        assert len(drawn["edges"]) == 2
        assert len([o for o in drawn["objects"] if "nodes" not in o]) == 4  # 3 + legend


def test_a_100000_node_chain_is_capped_or_drawn_without_recursion():
    x = mg.Value(0.5, label="start")
    node = x
    for _ in range(100_000):
        node = -node
    node.backward()
    capped = parse(viz.draw_graph(node, max_nodes=50).source)
    assert len(graph_nodes(capped)) == 2 * 50  # 50 values and their op nodes
    assert "100,001 in the graph" in capped["nodes"]["more"]
    assert "99,951 more nodes" in capped["nodes"]["more"]
    assert [t for t, _, _ in capped["edges"]].count("more") == 1
    # The marker's arrows do not rank the boxes (dot routed them as long ranked edges).
    marker_arrows = [line for line in viz.draw_graph(node, max_nodes=50).source.splitlines()
                     if line.strip().startswith("more ->")]
    assert marker_arrows and all('constraint="false"' in line for line in marker_arrows)

    whole = viz.draw_graph(node, max_nodes=None, op_nodes=False).source
    assert whole.count(" -> ") == 100_000


def test_same_graph_gives_the_same_dot_text():
    def build():
        mg.manual_seed(3)
        model = TwoLayers()
        loss = (model(mg.randn(4, 3)) ** 2).mean()
        loss.backward(retain_graph=True)
        return viz.draw_graph(loss, params=model).source, loss

    first, loss = build()
    second, _ = build()
    assert first == second
    assert viz.draw_graph(loss).source == viz.draw_graph(loss).source


def test_max_nodes_keeps_the_nodes_nearest_the_root():
    model, _, loss, _ = two_layer_loss()
    parsed = parse(viz.draw_graph(loss, params=model, max_nodes=3).source)
    titles = {re.match(r"<B>(\w+)</B>", label_of(parsed, k))[1] for k in graph_nodes(parsed)}
    assert titles == {"mean", "pow", "linear"}  # the loss, its square, fc2's output
    assert "more nodes" in label_of(parsed, "more")
    into_more = [(t, h) for t, h, _ in parsed["edges"] if t == "more"]
    assert into_more == [("more", find(parsed, "<B>linear"))]


def test_vanishing_and_exploding_gradients_are_marked():
    tiny = mg.tensor([1.0, 2.0], requires_grad=True, name="tiny")
    big = mg.tensor([1.0], requires_grad=True, name="big")
    loss = (tiny * 1e-4).sum() + (big * 1e4).sum()
    loss.backward(retain_graph=True)
    parsed = parse(viz.draw_graph(loss, vanishing=1e-2, exploding=1e3).source)
    for name, health, colour in (("tiny", "vanishing", "#1f3f9a"), ("big", "exploding", "#b2001f")):
        key = find(parsed, f"<B>{name}</B>")
        assert f"{health} gradient" in label_of(parsed, key)
        assert _attribute(parsed["nodes"][key], "color") == colour
    calm = viz.draw_graph(loss, vanishing=1e-5, exploding=1e5).source
    assert "vanishing gradient" not in calm and "exploding gradient" not in calm


def test_options_are_checked():
    loss, _ = micrograd_expression()
    assert "rankdir=TB" in viz.draw_graph(loss, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(loss, rankdir="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(loss, max_nodes=0)
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.draw_graph(3.0)


# -- files ----------------------------------------------------------------------------------------

def test_missing_graphviz_saves_the_dot_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # 'dot' cannot be found
    loss, _ = micrograd_expression()
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz") as error:
        viz.render(loss, tmp_path / "out" / "graph.png")
    assert "brew install graphviz" in str(error.value)
    saved = tmp_path / "out" / "graph.dot"
    assert saved.read_text(encoding="utf-8") == viz.draw_graph(loss).source
    assert not (tmp_path / "out" / "graph.png").exists()
    assert isinstance(error.value, graphviz.ExecutableNotFound)


def test_render_format_and_suffix(tmp_path):
    loss, _ = micrograd_expression()
    assert viz.render(loss, tmp_path / "g", format="dot") == tmp_path / "g.dot"
    assert viz.render(loss, tmp_path / "h.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="format"):
        viz.render(loss, tmp_path / "g.png", format="svg")
    with pytest.raises(ValueError, match="format"):
        viz.render(loss, tmp_path / "g", format="gif")


@needs_dot
def test_render_writes_svg_png_and_pdf(tmp_path):
    model, _, loss, _ = two_layer_loss()
    svg = viz.render(loss, tmp_path / "graph.svg", params=model)
    tree = ET.parse(svg)
    groups = [g.get("class") for g in tree.iter("{http://www.w3.org/2000/svg}g")]
    parsed = parse(viz.draw_graph(loss, params=model).source)
    assert groups.count("node") == len(parsed["nodes"])
    assert groups.count("edge") == len(parsed["edges"])
    assert groups.count("cluster") == 5  # TwoLayers, fc1, act, fc2 and the legend
    assert viz.render(loss, tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.render(loss, tmp_path / "graph.pdf").read_bytes()[:5] == b"%PDF-"


@needs_dot
def test_the_digraph_shows_inline_in_jupyter():
    loss, _ = micrograd_expression()
    bundle = viz.draw_graph(loss)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


@needs_dot
def test_hostile_module_names_stay_inside_their_cluster_labels():
    from collections import OrderedDict

    def build(name):
        mg.manual_seed(0)
        model = nn.Sequential(OrderedDict([(name, nn.Linear(2, 2)), ("act", nn.Tanh())]))
        loss = model(mg.randn(3, 2)).sum()
        loss.backward(retain_graph=True)
        return viz.draw_graph(loss, params=model).source

    plain = parse(build("layer"))
    for name in ('a"}<b>&amp;', "x -> y | z\n", "]; subgraph cluster_evil {"):
        source = build(name)
        hostile = parse(source)
        assert hostile["nodes"].keys() == plain["nodes"].keys()
        assert [e[:2] for e in hostile["edges"]] == [e[:2] for e in plain["edges"]]
        result = subprocess.run(["dot", "-Tjson"], input=source.encode(), capture_output=True)
        assert result.returncode == 0, result.stderr
        drawn = json.loads(result.stdout)
        clusters = [o for o in drawn["objects"] if o["name"].startswith("cluster")]
        assert len(clusters) == 4  # Sequential, layer, act, legend
