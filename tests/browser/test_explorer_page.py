"""The explorer's saved page in headless Chromium: offline, interactive, safe."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.examples import BatchNormMLP, record_example
from minigrad.viz import explore
from minigrad.viz.style import LogScale

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
BOXES = ("fc1.weight", "fc5.weight", "fc10.weight", "fc11:linear#0", "act10:sigmoid#0")
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "explorer.png"


@pytest.fixture(scope="module")
def comparison(artefacts: Path) -> tuple[Path, dict, dict]:
    # The default comparison, as `minigrad explore` writes it (300 steps, every 10th).
    recorders = record_example("deep-batchnorm")
    explorer = explore(recorders, title="10 sigmoid layers on spirals, 300 steps of SGD: "
                                        "without and with BatchNorm")
    path = explorer.save(artefacts / "comparison.html")
    return path, explorer.document, recorders


def _open(browser, path: Path) -> None:
    browser.get_log("performance")  # forget earlier pages' events
    browser.get(path.as_uri())
    browser.execute_script("return document.readyState")


def _errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE"]


def _requests(browser, page: Path) -> list[str]:
    """Every URL the browser asked for, apart from the page itself."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url != page.as_uri():
                urls.append(url)
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    return urls + resources


def _visible(browser, panel: int) -> int:
    return browser.execute_script(
        f"return document.querySelectorAll('.panel[data-panel=\"{panel}\"] "
        "g.box:not(.hidden)').length")


def _rgb(colour: str) -> np.ndarray:
    colour = colour.strip()
    if colour.startswith("#"):
        return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return np.array([int(v) for v in colour[colour.index("(") + 1:-1].split(",")[:3]])


def test_the_comparison_page_works_offline(browser, comparison, artefacts):
    path, document, _ = comparison
    _open(browser, path)
    assert browser.execute_script("return document.querySelectorAll('.panel').length") == 2
    assert browser.execute_script("return typeof window.svgPanZoom") == "function"
    assert _errors(browser) == []
    assert _requests(browser, path) == []
    browser.save_screenshot(str(artefacts / "comparison-start.png"))


def test_clicking_a_module_opens_and_closes_it(browser, comparison, artefacts):
    path, document, _ = comparison
    _open(browser, path)
    panel = document["panels"][1]  # with BatchNorm: opens with its layers closed
    assert panel["start_collapsed"]
    cluster = next(i for i, c in enumerate(panel["clusters"]) if c["label"].startswith("bn1 "))
    before = _visible(browser, 1)
    module = browser.find_element(
        "css selector", f'.panel[data-panel="1"] g.box.module[data-cluster="{cluster}"]')
    module.click()
    opened = _visible(browser, 1)
    assert opened == before - 1 + panel["clusters"][cluster]["size"]
    shown = set(browser.execute_script(
        "return [...document.querySelectorAll('.panel[data-panel=\"1\"] g.box:not(.hidden)')]"
        ".map(g => g.getAttribute('data-id'))"))
    assert {"bn1:mean#0", "bn1:sub#0", "bn1:mean#1", "bn1:sqrt#0", "bn1:div#0",
            "bn1.weight", "bn1.bias"} <= shown  # BatchNorm's steps and its parameters
    browser.save_screenshot(str(artefacts / "bn1-opened.png"))
    browser.find_element("css selector",
                         f'.panel[data-panel="1"] g.cluster[data-cluster="{cluster}"] text')
    browser.execute_script(  # close it again by clicking the cluster's background
        f"document.querySelector('.panel[data-panel=\"1\"] g.cluster[data-cluster=\"{cluster}\"]"
        " rect').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert _visible(browser, 1) == before
    assert _errors(browser) == []


def test_one_slider_recolours_both_panels(browser, comparison, artefacts):
    path, document, recorders = comparison
    _open(browser, path)
    scale = LogScale(document["scale"]["low"], document["scale"]["high"])
    slider = browser.find_element("id", "step")
    assert slider.get_attribute("max") == str(len(document["panels"][0]["steps"]) - 1)
    fills = {}
    for k in (0, 7):
        browser.execute_script(
            "const s = document.getElementById('step'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));", k)
        for p, (label, recorder) in enumerate(recorders.items()):
            ids = [box.id for box in recorder.structure.boxes]
            for box_id in BOXES:
                rms = recorder.series("grad_rms")[k, ids.index(box_id)]
                fill = browser.execute_script(
                    f"return document.querySelector('.panel[data-panel=\"{p}\"] "
                    f"g.box[data-id=\"{box_id}\"] rect').getAttribute('fill')")
                assert np.abs(_rgb(fill) - _rgb(scale.colour(rms))).max() <= 2, (
                    label, box_id, k, fill, scale.colour(rms))
                fills[(k, p, box_id)] = fill
        label = browser.find_element("id", "step-label").text
        assert f"step {recorders['with BatchNorm'].steps[k]}" in label
    # The colours did change between the steps, in both panels.
    for p in (0, 1):
        assert any(fills[(0, p, box_id)] != fills[(7, p, box_id)] for box_id in BOXES), p
    browser.save_screenshot(str(artefacts / "comparison-step7.png"))
    assert _errors(browser) == []


def test_a_box_tells_its_numbers(browser, comparison, artefacts):
    path, document, _ = comparison
    _open(browser, path)
    bn3 = next(i for i, c in enumerate(document["panels"][1]["clusters"])
               if c["label"].startswith("bn3 "))
    browser.execute_script(f"window.minigradExplorer.panels[1].toggle({bn3})")
    box = browser.find_element("css selector",
                               '.panel[data-panel="1"] g.box[data-id="bn3:sqrt#0"]')
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                           box)
    info = browser.find_element("id", "info").text
    for expected in ("bn3:sqrt#0", "sqrt", "(1, 16)", "float32", "grad RMS", "value histogram",
                     "gradient histogram", "gradient RMS over the recorded steps"):
        assert expected in info
    assert browser.execute_script("return document.querySelectorAll('#info svg').length") == 3
    browser.save_screenshot(str(artefacts / "box-info.png"))


def test_injected_labels_run_nothing(browser, artefacts):
    payloads = ["</script><script>window.pwned=1</script>", '"onload="window.pwned=2',
                "<img src=x onerror=window.pwned=3>"]
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    x = mg.tensor(np.ones((4, 2), dtype=np.float32), name=payloads[0])
    loss = nn.CrossEntropyLoss()(model(x), np.arange(4) % 3)
    loss.name = payloads[1]
    loss.backward(retain_graph=True)  # one step drawn: its graph kept
    path = explore(loss, title=payloads[2]).save(artefacts / "injection.html")
    _open(browser, path)
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_element("id", "title").text == payloads[2]
    texts = browser.execute_script(
        "return [...document.querySelectorAll('g.box text')].map(t => t.textContent)")
    assert any(payloads[0] in text for text in texts)
    assert any(payloads[1] in text for text in texts)
    assert _requests(browser, path) == []  # the <img> was never an element
    assert _errors(browser) == []
    browser.save_screenshot(str(artefacts / "injection.png"))


def test_a_page_before_backward_says_values_only(browser, artefacts):
    mg.manual_seed(0)
    model = BatchNormMLP(2, 4, 3, blocks=1)
    loss = nn.CrossEntropyLoss()(model(mg.tensor(np.ones((4, 2), np.float32))), np.arange(4) % 3)
    path = explore(loss).save(artefacts / "values-only.html")
    _open(browser, path)
    assert "No gradient yet" in browser.find_element("css selector", ".panel .note").text
    assert _errors(browser) == []


def test_readme_screenshot(browser, comparison, artefacts):
    """The README's picture: the comparison page half-way through, a layer opened and a
    box's numbers shown. Copied to docs/ when MINIGRAD_UPDATE_SCREENSHOT=1."""
    path, document, _ = comparison
    browser.set_window_size(1600, 1250)
    _open(browser, path)
    panel = document["panels"][1]
    cluster = next(i for i, c in enumerate(panel["clusters"]) if c["label"].startswith("bn1 "))
    browser.execute_script(f"window.minigradExplorer.panels[1].toggle({cluster});"
                           "window.minigradExplorer.setStep(15);")
    box = browser.find_element("css selector",
                               '.panel[data-panel="0"] g.box[data-id="fc2:linear#0"]')
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                           box)
    target = artefacts / "explorer.png"
    browser.save_screenshot(str(target))
    browser.set_window_size(1600, 1000)
    assert target.stat().st_size > 10_000
    if os.environ.get("MINIGRAD_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(target, DOCS_SCREENSHOT)


def test_a_gradient_that_is_not_finite_is_drawn_exploding(browser, artefacts):
    """JSON has no inf: the page reads "inf" back as a number, paints the box in the top
    colour with the exploding border, and its panel and sparkline draw without an error."""
    x = mg.tensor(np.array([0.0, 1.0, 4.0]), requires_grad=True, name="x")
    recorder = mg.viz.GradientFlowRecorder()  # before backward: it keeps the pass it reads
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = (x.sqrt() * mg.tensor(np.array([1.0, np.nan, 2.0]))).sum()
        loss.backward()
        recorder.record(loss)
    explorer = explore(recorder)
    path = explorer.save(artefacts / "not-finite.html")
    _open(browser, path)
    box = browser.find_element("css selector", 'g.box[data-id="x"]')
    rect = box.find_element("css selector", "rect")
    palette = explorer.document["scale"]["palette"]
    assert np.abs(_rgb(rect.get_attribute("fill")) - _rgb(palette[-1])).max() <= 2
    assert rect.get_attribute("stroke") == "#b2001f"  # EXPLODING, as draw_graph's border
    assert "grad rms inf" in box.text
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                           box)
    info = browser.find_element("id", "info").text
    assert "grad RMS\ninf" in info or "grad RMS inf" in info
    assert "(3,)" in info  # the shape as the box and Python write it (it said "(3)")
    assert browser.execute_script("return document.querySelectorAll('#info polyline').length") == 1
    assert _errors(browser) == []
    browser.save_screenshot(str(artefacts / "not-finite.png"))


def test_one_slider_shows_panels_recorded_every_other_step_at_the_same_step(browser,
                                                                             artefacts):
    from minigrad.examples import record_training

    mg.manual_seed(0)
    sparse = record_training(BatchNormMLP(2, 8, 3, blocks=1), steps=8, every=4)
    mg.manual_seed(0)
    dense = record_training(BatchNormMLP(2, 8, 3, blocks=1), steps=8, every=1)
    explorer = explore({"every 4": sparse, "every 1": dense})
    path = explorer.save(artefacts / "timeline.html")
    scale = LogScale(explorer.document["scale"]["low"], explorer.document["scale"]["high"])
    weight = [box.id for box in dense.structure.boxes].index("fc1.weight")
    _open(browser, path)
    slider = browser.find_element("id", "step")
    assert slider.get_attribute("max") == "7"  # steps 0..7, not the sparse panel's 2 records
    shown_steps = ("return window.minigradExplorer.panels.map(p => "
                   "p.spec.steps[p.stepIndex(arguments[0])])")
    for k in (0, 3, 5, 7):
        browser.execute_script(
            "const s = document.getElementById('step'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));", k)
        assert browser.execute_script(shown_steps, k) == [k - k % 4, k]
        label = browser.find_element("id", "step-label").text
        assert f"every 4: step {k - k % 4}" in label and f"every 1: step {k}" in label
        # The dense panel's box has the colour of its record at step k.
        fill = browser.execute_script(
            "return document.querySelector('.panel[data-panel=\"1\"] "
            "g.box[data-id=\"fc1.weight\"] rect').getAttribute('fill')")
        rms = dense.series("grad_rms")[k, weight]
        assert np.abs(_rgb(fill) - _rgb(scale.colour(rms))).max() <= 2, (k, fill)
    assert _errors(browser) == []
