"""The explorer's page builder and page file (without a browser: tests/browser/ has those)."""

from __future__ import annotations

import html
import json
import re
import shutil

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.__main__ import main
from minigrad.examples import BatchNormMLP, DeepMLP, record_example, record_training
from minigrad.viz import page as page_module
from minigrad.viz.explorer import Explorer, explore, script_json
from minigrad.viz.layout import LayoutTimeoutError
from minigrad.viz.recorder import GradientFlowRecorder
from minigrad.viz.style import LogScale

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

INJECTIONS = ['</script><script>alert(1)</script>', '"onload="alert(2)',
              "<img src=x onerror=alert(3)>", "line\u2028sep & <!--"]


def _data(explorer: Explorer) -> dict:
    """The JSON document as the page reads it (from the saved text, not the object)."""
    match = re.search(r'<script type="application/json" id="minigrad-data">(.*?)</script>',
                      explorer.html, re.S)
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def small_recorder() -> GradientFlowRecorder:
    mg.manual_seed(0)
    return record_training(BatchNormMLP(2, 8, 3, blocks=2), steps=6, every=2)


def test_script_json_cannot_close_the_script_and_reads_back_unchanged():
    document = {"labels": INJECTIONS, "n": 1.5}
    text = script_json(document)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == document


def test_page_is_self_contained_and_holds_the_recording(small_recorder):
    explorer = explore(small_recorder, title="t")
    page = explorer.html
    # No external resource: no src/href attributes, no link element, no url(...) in styles.
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)\s*=", page, re.I)
    assert "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page  # and the browser is told to block any request
    assert "svg-pan-zoom v3.6.2" in page  # the vendored library is inlined
    data = _data(explorer)
    panel = data["panels"][0]
    assert panel["steps"] == small_recorder.steps == [0, 2, 4]
    ids = [box["id"] for box in panel["boxes"]]
    assert "fc1.weight" in ids and "bn2:mean#1" in ids
    # Each box's RMS series is the recorder's, to 4 significant digits.
    box = ids.index("fc1.weight")
    recorded = small_recorder.series("grad_rms")[:, [b.id for b in
                                                     small_recorder.structure.boxes].index(
                                                         "fc1.weight")]
    np.testing.assert_allclose(panel["boxes"][box]["rms"], recorded, rtol=1e-3)
    # Every box and arrow has a place in the layout.
    width, height = panel["width"], panel["height"]
    for entry in panel["boxes"]:
        x, y, w, h = entry["rect"]
        assert w > 0 and h > 0 and -1 <= x <= x + w <= width + 1 and -1 <= y <= y + h <= height + 1
    assert all(re.fullmatch(r"[MC0-9.\- ]+", arrow["path"]) for arrow in panel["arrows"])
    # One scale for everything, covering the recorded magnitudes.
    scale = LogScale(data["scale"]["low"], data["scale"]["high"])
    assert scale.colour(1.0) and data["scale"]["palette"][0].startswith("#")


def test_comparison_shares_one_scale_and_one_slider(small_recorder):
    mg.manual_seed(1)
    other = record_training(BatchNormMLP(2, 8, 3, blocks=2), steps=8, every=2, lr=5.0)
    data = _data(explore({"calm": small_recorder, "wild": other}))
    assert [panel["label"] for panel in data["panels"]] == ["calm", "wild"]
    rms = [v for panel in data["panels"] for box in panel["boxes"] for v in box["rms"]
           if v is not None and v > 0]
    low, high = data["scale"]["low"], data["scale"]["high"]
    assert low <= np.floor(np.log10(min(rms))) or low == -6
    assert high >= np.ceil(np.log10(max(rms))) or high == 2
    assert len(data["panels"][1]["steps"]) == 4 and len(data["panels"][0]["steps"]) == 3


def test_user_text_never_becomes_markup():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    x = mg.tensor(np.ones((4, 2), dtype=np.float32), name=INJECTIONS[0])
    loss = nn.CrossEntropyLoss()(model(x), np.arange(4) % 3)
    loss.name = INJECTIONS[1]
    loss.backward(retain_graph=True)
    explorer = explore(loss, title=INJECTIONS[2], params={INJECTIONS[3]: model.fc1.weight})
    page = explorer.html
    for text in INJECTIONS:
        assert text not in page
    block = re.search(r'id="minigrad-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    head = page[:page.index("<style>")]
    assert html.escape(INJECTIONS[2]) in head  # the <title>, entity-escaped
    data = _data(explorer)
    assert data["title"] == INJECTIONS[2]
    names = {box["name"] for box in data["panels"][0]["boxes"]}
    assert {INJECTIONS[0], INJECTIONS[1]} <= names
    assert "line\\u2028sep & <!--" in names  # shown as its escape, not a line break
    # The notebook view is one iframe whose srcdoc is the page, attribute-escaped.
    inline = explorer._repr_html_()
    assert inline.startswith('<iframe srcdoc="') and inline.count("<") == 2
    srcdoc = re.match(r'<iframe srcdoc="([^"]*)"', inline).group(1)
    assert html.unescape(srcdoc) == page


def test_before_backward_the_page_shows_values_and_says_so():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(np.ones((4, 2), np.float32))), np.arange(4) % 3)
    data = _data(explore(loss))
    panel = data["panels"][0]
    assert "No gradient yet" in panel["note"] and "backward" in panel["note"]
    assert all(box["rms"] == [None] for box in panel["boxes"])
    assert any(box["mean"] != [None] for box in panel["boxes"])


def test_one_step_after_a_plain_backward_is_refused_with_the_fix_that_works():
    """backward() frees the graph, as in PyTorch: explore(loss) and draw_graph(loss) of
    that step say so, each by its name, and name the fix, which works."""
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)

    def loss_after(**backward_options) -> mg.Tensor:
        x = mg.tensor(np.ones((4, 2), np.float32))
        loss = nn.CrossEntropyLoss()(model(x), np.arange(4) % 3)
        loss.backward(**backward_options)
        return loss

    loss = loss_after()
    for tool, draw in (("explore", explore), ("draw_graph", mg.viz.draw_graph)):
        with pytest.raises(RuntimeError, match=rf"^{tool}: this graph was freed by "
                           r"backward\(\).*Fix: call loss\.backward\(retain_graph=True\) "
                           r"on the step you want to draw"):
            draw(loss)
    loss = loss_after(retain_graph=True)
    panel = _data(explore(loss))["panels"][0]
    assert not panel["note"] and any(box["rms"] != [None] for box in panel["boxes"])
    assert "grad" in mg.viz.draw_graph(loss).source


def test_exploring_one_step_leaves_the_next_backward_to_the_training_recorder():
    """explore(loss) summarises that step only: it must not take over the gradients a
    training recorder asked for (minigrad.observers)."""
    from minigrad.observers import next_observer, observe_next_backward

    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(np.ones((4, 2), np.float32))), np.arange(4) % 3)
    loss.backward(retain_graph=True)
    waiting = {}
    observe_next_backward(None)  # (nothing left waiting by an earlier test)
    observe_next_backward(waiting.__setitem__)  # as a training recorder does
    try:
        panel = _data(explore(loss))["panels"][0]
        assert next_observer.get() == [waiting.__setitem__]
    finally:
        observe_next_backward(None)
    assert any(box["rms"] != [None] for box in panel["boxes"])


def test_bad_input(tmp_path, small_recorder):
    with pytest.raises(ValueError, match="no records.*record\\(loss\\)"):
        explore(GradientFlowRecorder())
    with pytest.raises(ValueError, match="unknown example 'nope'.*deep-batchnorm"):
        record_example("nope")
    with pytest.raises(ValueError, match="every must be a whole number >= 1"):
        record_example("deep-batchnorm", every=0)
    with pytest.raises(ValueError, match="does not exist.*create it"):
        explore(small_recorder).save(tmp_path / "missing" / "flow.html")
    with pytest.raises(TypeError, match="expected a loss after backward"):
        explore([small_recorder])
    with pytest.raises(ValueError, match="max_nodes"):
        explore(small_recorder, max_nodes=0)
    with pytest.raises(ValueError, match="empty"):
        explore({})


def test_saving_to_a_folder_is_refused_with_the_fix(tmp_path, monkeypatch, small_recorder):
    """save(".") or save("results/") was a raw IsADirectoryError; "new/" (no such folder)
    said to create the folder, which then failed the same way."""
    page = explore(small_recorder)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    for folder, example in ((".", "flow.html"), ("results/", "results/flow.html"),
                            (tmp_path / "results", str(tmp_path / "results" / "flow.html")),
                            ("new/", "new/flow.html")):
        with pytest.raises(ValueError) as refused:
            page.save(folder)
        assert str(refused.value) == (f"Explorer.save: {str(folder)!r} is a folder, not a "
                                      f"file. Fix: name the file, e.g. {example!r}.")
    assert [path.name for path in tmp_path.iterdir()] == ["results"]
    assert not list((tmp_path / "results").iterdir())
    assert page.save("results/flow.html").read_text(encoding="utf-8") == page.html



def test_saving_under_a_name_that_is_not_html_is_refused_with_the_fix(tmp_path, small_recorder):
    """save("flow") wrote a file a browser does not open as a page, save("flow.png") an
    HTML page named as an image, save("train.py") the page over the script. The rule is
    `minigrad explore --out`'s (tests/test_cli.py): .html or .htm, any case, or the fix."""
    page = explore(small_recorder)
    script = tmp_path / "train.py"
    script.write_text("print('training')\n", encoding="utf-8")
    for name, fix in (("flow", "flow.html"), ("flow.png", "flow.html"),
                      ("train.py", "train.html")):
        with pytest.raises(ValueError) as refused:
            page.save(tmp_path / name)
        message = str(refused.value)
        assert message.startswith("Explorer.save: the page is an HTML file, but ")
        assert f"Fix: save({str(tmp_path / fix)!r})" in message and "render" in message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["train.py"]
    assert script.read_text(encoding="utf-8") == "print('training')\n"
    for name in ("flow.html", "flow.HTM", "old.htm"):
        assert page.save(tmp_path / name) == tmp_path / name
        assert (tmp_path / name).read_text(encoding="utf-8") == page.html


def test_max_nodes_keeps_the_nearest_boxes_and_a_marker(small_recorder):
    data = _data(explore(small_recorder, max_nodes=10))
    panel = data["panels"][0]
    assert len(panel["boxes"]) == 10
    total = len(small_recorder.structure.boxes)
    assert panel["more"]["count"] == total - 10
    assert any(box["root"] for box in panel["boxes"])  # the loss is kept
    assert any(arrow["source"] == -1 for arrow in panel["arrows"])  # marker -> boxes


def test_collapse_folds_modules_before_layout(small_recorder):
    data = _data(explore(small_recorder, collapse="BatchNorm1d"))
    panel = data["panels"][0]
    modules = [box for box in panel["boxes"] if box["kind"] == "module"]
    assert sorted(box["id"] for box in modules) == ["bn1", "bn2"]
    assert all(box["nodes"] > 5 for box in modules)
    assert "folded" in " ".join(data["notes"])
    # The page starts open or closed as asked.
    assert _data(explore(small_recorder, collapse=True))["panels"][0]["start_collapsed"]
    assert not _data(explore(small_recorder, collapse=False))["panels"][0]["start_collapsed"]


def test_large_graphs_fold_their_innermost_modules(monkeypatch, small_recorder):
    monkeypatch.setattr(page_module, "FOLD_ABOVE", 20)
    panel = _data(explore(small_recorder))["panels"][0]
    kinds = {box["kind"] for box in panel["boxes"]}
    assert "module" in kinds and len(panel["boxes"]) < len(small_recorder.structure.boxes)


def test_the_layout_is_stopped_after_timeout():
    mg.manual_seed(0)
    model = DeepMLP(depth=40, batchnorm=True)
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(x)), np.arange(4) % 3)
    loss.backward(retain_graph=True)
    with pytest.raises(LayoutTimeoutError, match=r"boxes.*within 0.001 s.*collapse.*max_nodes"):
        explore(loss, timeout=0.001)


def test_the_timeout_of_a_graph_without_modules_does_not_suggest_folding():
    """A Value graph has no module: the message suggested collapse='BatchNorm1d'."""
    a, b = mg.Value(2.0), mg.Value(3.0)
    loss = (a * b + a).tanh()
    loss.backward()
    with pytest.raises(LayoutTimeoutError, match=r"within 0.001 s.*max_nodes") as stopped:
        explore(loss, timeout=0.001)
    assert "collapse" not in str(stopped.value)


def test_long_recordings_are_thinned_for_the_page():
    assert page_module.thin(5, 10) == [0, 1, 2, 3, 4]
    kept = page_module.thin(1000, 200)
    assert len(kept) == 200 and kept[0] == 0 and kept[-1] == 999


def test_cli_writes_the_comparison_page(tmp_path, capsys):
    out = tmp_path / "flow.html"
    assert main(["explore", "--out", str(out), "--steps", "6", "--every", "3"]) == 0
    assert str(out) in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="minigrad-data">(.*?)</script>', text, re.S).group(1))
    assert [p["label"] for p in data["panels"]] == ["without BatchNorm", "with BatchNorm"]
    assert main(["explore", "nope", "--out", str(out)]) == 2
    printed = capsys.readouterr()
    assert "unknown example 'nope'" in printed.err
    assert "training" not in printed.out  # refused before it says it trains
    assert main(["explore", "--out", str(tmp_path / "no" / "f.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["explore", "--every", "0", "--out", str(out)]) == 2
    assert "--every must be" in capsys.readouterr().err


def test_without_batchnorm_early_layers_fade():
    """The default example's lesson, checked on a short run: the first layer's weight
    gradient is orders of magnitude below the last's without BatchNorm, not with it."""
    recorders = record_example("deep-batchnorm", steps=20, every=10)
    ratios = {}
    for label, recorder in recorders.items():
        ids = [box.id for box in recorder.structure.boxes]
        rms = recorder.series("grad_rms")
        ratios[label] = rms[:, ids.index("fc1.weight")] / rms[:, ids.index("fc10.weight")]
    assert np.all(ratios["without BatchNorm"] < 1e-3)
    assert np.all(ratios["with BatchNorm"] > 1e-1)


def test_the_creating_line_is_shown_when_the_engine_recorded_it():
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    with mg.detect_anomaly():  # the engine notes each op's creating line in this mode
        x = mg.tensor(np.ones((4, 2), np.float32))
        loss = nn.CrossEntropyLoss()(model(x), np.arange(4) % 3)
    loss.backward(retain_graph=True)
    boxes = _data(explore(loss))["panels"][0]["boxes"]
    wheres = [box["where"] for box in boxes if box["kind"] == "op"]
    assert wheres and all(where and "test_explorer.py" in where for where in wheres)
    assert all(box["where"] is None for box in boxes if box["kind"] == "parameter")


@pytest.mark.parametrize("magnitudes", [[1e-9], [2e-9, 9e-9], [1e-12, 3e-7]])
def test_gradients_all_below_the_vanishing_floor_are_coloured_blue(magnitudes):
    # A network whose every gradient vanished must not be painted in the colours of large
    # gradients: the fitted scale stays within [vanishing, exploding].
    scale = LogScale.fit(magnitudes, 1e-6, 1e2)
    assert -6 <= scale.low < scale.high <= 2
    assert all(scale.position(m) == 0.0 for m in magnitudes)


def test_gradients_all_above_the_exploding_ceiling_are_coloured_red():
    scale = LogScale.fit([1e5, 3e7], 1e-6, 1e2)
    assert -6 <= scale.low < scale.high <= 2
    assert scale.position(1e5) == 1.0 and scale.position(3e7) == 1.0



def test_a_collapse_name_that_matches_no_module_is_refused_with_the_modules(small_recorder):
    # draw_graph refuses it; explore folded nothing and said nothing.
    with pytest.raises(ValueError, match=r"collapse='bn_typo' matches no module.*bn1 "
                                         r"\(BatchNorm1d\)"):
        explore(small_recorder, collapse="bn_typo")
    mg.manual_seed(3)
    plain = record_training(DeepMLP(2, 4, 3, depth=2, batchnorm=False), steps=2, every=1)
    # A name found in one panel of a comparison is fine (the other has no BatchNorm).
    data = _data(explore({"bn": small_recorder, "plain": plain}, collapse=["bn1"]))
    assert data["panels"][0]["folded"] == 1 and data["panels"][1]["folded"] == 0
    for collapse in ("auto", (), True, False, "BatchNorm1d"):
        explore(small_recorder, collapse=collapse)


@pytest.mark.parametrize("options", [{"max_nodes": True}, {"vanishing": "1e-6"},
                                     {"exploding": None}])
def test_options_of_the_wrong_type_are_refused_clearly(small_recorder, options):
    with pytest.raises(ValueError, match="explore: "):
        explore(small_recorder, **options)
    assert len(_data(explore(small_recorder, max_nodes=np.int64(5)))["panels"][0]["boxes"]) == 5


def test_panels_recorded_at_other_steps_are_compared_at_the_same_step(small_recorder):
    # small_recorder kept steps 0, 2, 4; this one every step. The slider once moved both
    # by record number: position 4 showed step 4 beside step 8 (or the other's last).
    mg.manual_seed(1)
    dense = record_training(BatchNormMLP(2, 8, 3, blocks=2), steps=6, every=1)
    data = _data(explore({"every 2": small_recorder, "every 1": dense}))
    assert data["timeline"] == [0, 1, 2, 3, 4, 5]
    sparse_panel, dense_panel = data["panels"]
    for k, step in enumerate(data["timeline"]):
        assert dense_panel["steps"][dense_panel["at"][k]] == step
        shown = sparse_panel["steps"][sparse_panel["at"][k]]
        assert shown == max(s for s in sparse_panel["steps"] if s <= step)
    # Equal recordings: the slider is each panel's records, one by one.
    data = _data(explore({"a": small_recorder, "b": small_recorder}))
    assert data["timeline"] == [0, 2, 4]
    assert all(panel["at"] == [0, 1, 2] for panel in data["panels"])


def test_the_timeline_starts_each_panel_at_its_first_record():
    slider, positions = page_module.timeline([[3, 6], [0, 10]])
    assert slider == [0, 3, 6, 10]
    assert positions == [[0, 0, 1, 1], [0, 0, 0, 1]]


def test_numpy_numbers_as_options_give_a_page(small_recorder):
    """np.float32 thresholds reached the page's JSON as they were: a raw TypeError
    ('Object of type float32 is not JSON serializable')."""
    data = _data(explore(small_recorder, vanishing=np.float32(1e-6),
                         exploding=np.float32(100.0), max_nodes=np.int64(500),
                         timeout=np.float32(60)))
    assert data["scale"]["vanishing"] == pytest.approx(1e-6)
    assert data["scale"]["exploding"] == 100.0


def test_the_marker_of_dropped_boxes_does_not_rank_the_boxes_it_points_to():
    """Its arrows go to many boxes at every depth (a long chain of sums: the scalar MLP's
    loss); as ranking edges they made dot route hundreds of long edges (a 100-box page of
    that graph: 18 s of layout; 0.4 s without). They are drawn, but do not rank."""
    from minigrad.viz.layout import LayoutNode, dot_source

    nodes = [LayoutNode("b0", ["a"], None), LayoutNode("b1", ["b"], None),
             LayoutNode("bmore", ["… 5 more boxes"], None)]
    source = dot_source(nodes, [], [("e0", "b0", "b1"), ("emore0", "bmore", "b0"),
                                    ("emore1", "bmore", "b1")], "TB")
    assert "b0 -> b1 [id=e0];" in source
    assert source.count("constraint=false") == 2
    assert all("constraint=false" in line for line in source.splitlines() if "bmore ->" in line)


def test_max_nodes_auto_lays_out_fewer_boxes_of_a_graph_without_modules(small_recorder):
    """A graph of Values has no clusters to order it: 2,000 of its boxes took Graphviz
    minutes (the scalar MLP's loss), so "auto" lays out 500; a module graph keeps 2,000."""
    from minigrad.viz.page import AUTO_MAX_NODES, AUTO_MAX_NODES_NO_MODULES

    assert (AUTO_MAX_NODES, AUTO_MAX_NODES_NO_MODULES) == (2000, 500)
    node = mg.Value(0.5)
    for _ in range(AUTO_MAX_NODES_NO_MODULES + 50):  # a chain: quick to lay out
        node = node * 1.01
    node.backward()
    panel = _data(explore(node))["panels"][0]
    assert len(panel["boxes"]) == AUTO_MAX_NODES_NO_MODULES
    assert panel["more"]["count"] == 2 * 550 + 1 - AUTO_MAX_NODES_NO_MODULES
    whole = _data(explore(node, max_nodes=None))["panels"][0]
    assert len(whole["boxes"]) == 2 * 550 + 1 and whole["more"] is None
    with pytest.raises(ValueError, match="'auto' or None"):
        explore(node, max_nodes="all")
    modules = _data(explore(small_recorder))["panels"][0]  # fewer than 2,000: all of them
    assert len(modules["boxes"]) == len(small_recorder.structure.boxes)
