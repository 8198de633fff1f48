"""The README and docs point only at files that are in the repository, and the README's
code runs and does what its text says."""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The project's own pages: not those of tools' hidden folders (.pytest_cache has a README).
DOCS = [ROOT / "README.md",
        *sorted(p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")),
        *sorted(ROOT.glob("docs/*.md"))]


@functools.cache
def _repository_files() -> tuple[str, ...]:
    """Every file's path in the checkout (not the virtual environment or caches). The
    skipped folders are pruned, not walked and filtered: a .venv with PyTorch holds some
    50,000 files, and walking it for every named file made these tests take ~90 s."""
    skip = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache",
            ".mypy_cache"}
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in skip]
        relative = Path(folder).relative_to(ROOT)
        found += [(relative / name).as_posix() for name in files + subfolders]
    return tuple(found)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_named_files_exist(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)  # [text](target)
    local = [t for t in targets if not re.match(r"[a-z]+://|mailto:", t)]
    missing = [t for t in local if not (doc.parent / t).exists()]
    assert not missing, f"{doc.name} links to files not in the repository: {missing}"
    # files named in backticks, such as `minigrad/viz/graph.py` or `API.md`
    named = re.findall(r"`([\w./-]+\.(?:md|py|toml|png|svg))`", text)
    named += re.findall(r"(?<![\w./-])([\w./-]+\.md)\b", text)  # bare mentions: "see API.md"
    concrete = [n for n in named if "NN" not in n]  # not templates such as `_rules_NN.py`
    absent = [n for n in concrete if not (doc.parent / n).exists()
              and not any(path == n or path.endswith("/" + n) for path in _repository_files())]
    assert not absent, f"{doc.name} names files not in the repository: {absent}"


def _python_blocks(doc: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)


def _run(code: str, folder: Path) -> str:
    """Run `code` as a script in `folder` with this checkout's minigrad; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_readme_taste_runs_and_prints_what_it_says(tmp_path):
    taste = _python_blocks(ROOT / "README.md")[0]
    assert "mg.Value(-4.0)" in taste, "the first python block is no longer 'A taste'"
    lines = _run(taste, tmp_path).splitlines()
    a_grad, b_grad = map(float, lines[0].split())
    # g = relu(a*b + b³) + exp(a/b) at a=-4, b=2: the relu is off (its input is 0).
    assert abs(a_grad - math.exp(-2) / 2) < 1e-12 and abs(b_grad - math.exp(-2)) < 1e-12
    loss, shape = lines[1].split(" ", 1)
    assert float(loss) < 0.1 and shape == "(16, 2)"  # the comment: weight (out, in) = (16, 2)
    svg = (tmp_path / "loss_graph.svg").read_text(encoding="utf-8")
    assert "0.weight" in svg  # parameters named by their modules


def test_readme_recorder_snippet_runs(tmp_path):
    snippet = _python_blocks(ROOT / "README.md")[1]
    assert "GradientFlowRecorder" in snippet
    # The snippet is a fragment of the reader's own training loop: give it one.
    prelude = (
        "import minigrad as mg\nfrom minigrad import nn\n"
        "def make():\n"
        "    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
        "mg.manual_seed(0)\nmodel, other_model = make(), make()\n"
        "criterion = nn.CrossEntropyLoss()\n"
        "optimiser = mg.optim.SGD(model.parameters(), lr=0.1)\n"
        "x = mg.randn(16, 2)\nbatches = [(x, (x.data[:, 0] > 0).astype(int))] * 20\n"
        "other = mg.viz.GradientFlowRecorder(other_model, every=10)\n"
        "for xb, yb in batches:\n"
        "    other_loss = criterion(other_model(xb), yb)\n"
        "    other_loss.backward()\n"
        "    other.record(other_loss)\n")
    _run(prelude + snippet + "\nassert len(recorder.steps) == 2, recorder.steps\n", tmp_path)
    assert (tmp_path / "flow.html").stat().st_size > 10_000



def test_readme_taste_needs_retain_graph_to_draw(tmp_path):
    """The taste's comment: backward frees the graph as PyTorch's does, so the pass it draws
    keeps it (`retain_graph=True`). Without that argument, drawing is refused with an error
    that names the fix, rather than drawing a graph whose gradients are gone."""
    taste = _python_blocks(ROOT / "README.md")[0]
    kept = "loss.backward(retain_graph=True)\nmg.viz.render("
    assert kept in taste, "the taste no longer keeps the graph it draws with retain_graph"
    freed = taste.replace(kept, "loss.backward()\nmg.viz.render(")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", freed], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, "drawing a freed graph was not refused"
    assert "retain_graph=True" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "loss_graph.svg").exists()


def test_readme_recorder_snippet_last_step_needs_retain_graph(tmp_path):
    """The recorder snippet's last lines draw one step without a recorder: its backward keeps
    the graph (`retain_graph=True`); a plain `backward()` would free it, and `explore` says
    so."""
    snippet = _python_blocks(ROOT / "README.md")[1]
    last = snippet[snippet.index("\nloss = criterion(model(x), y)") + 1:]  # not the loop's
    assert "loss.backward(retain_graph=True)" in last and "mg.viz.explore(loss)" in last
    prelude = ("import minigrad as mg\nfrom minigrad import nn\nmg.manual_seed(0)\n"
               "model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), "
               "nn.Linear(8, 2))\ncriterion = nn.CrossEntropyLoss()\n"
               "x = mg.randn(16, 2)\ny = (x.data[:, 0] > 0).astype(int)\n")
    _run(prelude + last, tmp_path)  # as written: works
    freed = last.replace("loss.backward(retain_graph=True)", "loss.backward()")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", prelude + freed], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "retain_graph=True" in done.stderr, done.stderr[-2000:]


def test_every_python_block_of_the_docs_is_tested():
    """A new snippet in a README or docs page must get a test here (and run)."""
    counts = {doc.relative_to(ROOT).as_posix(): len(_python_blocks(doc)) for doc in DOCS}
    tested = {"README.md": 2, "tutorials/README.md": 1}
    assert {doc: n for doc, n in counts.items() if n} == tested, counts


def test_tutorials_readme_lesson_template_runs(tmp_path):
    """tutorials/README.md's "Writing a lesson" snippet, with the names it leaves to the
    lesson (a rule, its numbers, a figure), runs in quick mode with the helpers' real
    signatures, and writes what its comments say."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    snippet = _python_blocks(ROOT / "tutorials" / "README.md")[0]
    assert 'Results("07")' in snippet and "RULE.report" in snippet
    prelude = ("import matplotlib.pyplot as plt\nfrom _verdict import Rule\n"
               "RULE = Rule('X', 'a claim', 'reproduced if every ratio is > 1', "
               "lambda ratios: ('reproduced' if min(ratios) > 1 else 'not reproduced', "
               "f'ratios {ratios}'))\nratios = [1.5, 2.0]\nfig = plt.figure()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tutorials")]),
           "MPLBACKEND": "Agg", "MINIGRAD_TUTORIAL_QUICK": "1",
           "MINIGRAD_TUTORIAL_OUT": str(tmp_path)}
    env.pop("MINIGRAD_TUTORIAL_SEEDS", None)
    done = subprocess.run([sys.executable, "-c", prelude + snippet], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "VERDICT — X" in done.stdout
    import json

    recorded = json.loads((tmp_path / "07_results.json").read_text())
    assert recorded["verdicts"]["X"]["verdict"] == "reproduced"
    assert (tmp_path / "07_depth.png").stat().st_size > 0


def _readme_sentence(start: str) -> str:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert start in text, f"the README no longer says {start!r}"
    return text[text.index(start):][:400]


def test_readme_batchnorm_picture_numbers_are_what_it_draws():
    """"Inside bn1 the direct path through `centred` returns most of the gradient to the input
    (0.0154), while the mean and variance branches return far less (0.00166 and 0.00203)":
    the arrows' labels of `minigrad graph mlp-batchnorm`, from the graph's own source."""
    import minigrad as mg
    from minigrad.examples import build_graph

    sentence = _readme_sentence("the direct path through `centred`")
    direct = re.search(r"to the input \((\d\.\d+)\)", sentence).group(1)
    mean, variance = re.search(r"far less \((\d\.\d+) and (\d\.\d+)\)", sentence).groups()
    root, params = build_graph("mlp-batchnorm")
    source = mg.viz.draw_graph(root, params=params, rankdir="TB", compact=True).source
    # parent -> consumer [label="0.0154" ...]: the gradient sent back along that arrow
    labels = {(head, tail): label for head, tail, label in
              re.findall(r"(\w+) -> (\w+) \[label=\"([\d.e-]+)\"", source)}
    names = dict(re.findall(r"(\w+) \[[^\]]*?label=<[^>]*?<B>([^<]+)</B>", source))
    by_names = {(names.get(h, h), names.get(t, t)): v for (h, t), v in labels.items()}
    assert by_names.get(("linear", "centred")) == direct, by_names
    assert by_names.get(("linear", "mean")) == mean, by_names
    assert by_names.get(("centred", "squared")) == variance, by_names


def test_readme_explorer_numbers_are_what_the_example_records():
    """The explorer paragraph's figures: without BatchNorm the gradient RMS at each sigmoid's
    output shrinks about sevenfold per layer (medians over the run: 9e-4 at the tenth, 3e-11
    at the first); with it, between 7e-3 and 4e-2 at every layer."""
    import numpy as np

    from minigrad.examples import batchnorm_comparison

    sentence = _readme_sentence("at each sigmoid's output its RMS shrinks")
    tenth, first = re.search(r"median over the run (\S+) at the tenth, (\S+) at the first",
                             sentence).groups()
    low, high = re.search(r"stays between (\S+) and (\S+) at every layer", sentence).groups()
    medians = {}
    for label, recorder in batchnorm_comparison().items():
        rms = recorder.series("grad_rms")
        sigmoids = [i for i, box in enumerate(recorder.structure.boxes) if box.op == "sigmoid"]
        medians[label] = [float(np.median(rms[:, i])) for i in sigmoids]
    plain, with_bn = medians["without BatchNorm"], medians["with BatchNorm"]
    assert f"{plain[-1]:.0e}".replace("e-0", "e-") == tenth, plain
    assert f"{plain[0]:.0e}".replace("e-0", "e-") == first, plain
    steps = np.array(plain[1:]) / np.array(plain[:-1])
    assert 5 <= np.exp(np.log(steps).mean()) <= 9, steps  # "about sevenfold"
    assert float(low) * 0.9 <= min(with_bn) and max(with_bn) <= float(high), with_bn


def test_readme_recorder_memory_per_step_is_what_it_holds():
    """"about 7 KB per recorded step for the demo's model, 6 KB of it the statistics' arrays":
    measured with tracemalloc on the demo's model (BatchNormMLP 2-32-32-3, fused)."""
    import tracemalloc

    import numpy as np

    import minigrad as mg
    from minigrad import nn
    from minigrad.examples import BatchNormMLP

    sentence = _readme_sentence("never with tensor sizes (about")
    total, arrays = map(float, re.search(r"about (\d+) KB per recorded step for the demo's "
                                         r"model, (\d+) KB of it", sentence).groups())
    mg.manual_seed(0)
    model = BatchNormMLP(2, 32, 3, implementation="fused")
    loss = nn.CrossEntropyLoss()(model(mg.randn(64, 2)), np.arange(64) % 3)
    loss.backward(retain_graph=True)  # each record() recomputes the gradients from it
    recorder = mg.viz.GradientFlowRecorder(model)
    recorder.record(loss)  # the first call also lays out the structure
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            recorder.record(loss)
        per_step = (tracemalloc.get_traced_memory()[0] - before) / 200
    finally:
        tracemalloc.stop()
    assert abs(per_step / 1000 - total) <= 0.2 * total, per_step
    # The arrays one step keeps (the histograms and the statistics are views of one array
    # each: count their bases once).
    step = 100
    kept = [recorder.box_stats[step], recorder.value_hist[step], recorder.grad_hist[step],
            recorder.arrow_norm[step], recorder.grad_data[step], recorder.update_data[step]]
    bases = {id(a.base if a.base is not None else a): a.base if a.base is not None else a
             for a in kept}
    payload = sum(array.nbytes for array in bases.values())
    assert abs(payload / 1000 - arrays) <= 0.2 * arrays, payload
