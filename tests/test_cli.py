"""The `minigrad` command: demo, graph, help and version."""

from __future__ import annotations

import re
import shutil

import pytest

import minigrad as mg
from minigrad.__main__ import ScalarMLP, main
from minigrad.examples import GRAPH_EXAMPLES

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert mg.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "demo" in text and "graph" in text
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in GRAPH_EXAMPLES)


def test_unknown_example_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "resnet"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("example,cluster", [
    ("expression", None), ("mlp", "fc1 (Linear)"), ("mlp-batchnorm", "bn1 (BatchNorm1d)"),
    ("cnn-batchnorm", "bn1 (BatchNorm2d)"),
])
def test_graph_writes_each_example(capsys, tmp_path, example, cluster):
    target = tmp_path / f"{example}.dot"
    code, out, _ = run(capsys, "graph", example, "--format", "dot", "--out", str(target))
    assert code == 0 and str(target) in out
    source = target.read_text(encoding="utf-8")
    assert source.startswith("digraph") and "grad" in source  # drawn after backward
    clusters = re.findall(r"label=<<B>([^<]*)</B>>", source)
    assert (cluster in clusters) if cluster else not clusters


def test_graph_collapse_option(capsys, tmp_path):
    target = tmp_path / "collapsed.dot"
    run(capsys, "graph", "mlp-batchnorm", "--format", "dot", "--out", str(target),
        "--collapse", "BatchNorm1d")
    source = target.read_text(encoding="utf-8")
    assert "bn1 (BatchNorm1d)</B><BR" in source  # a box's label, not a cluster's
    assert "x_hat" not in source


@needs_dot
def test_graph_default_output_is_svg_in_minigrad_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "graph", "mlp")
    assert code == 0
    assert (tmp_path / "minigrad-out" / "mlp.svg").read_text().lstrip().startswith("<?xml")


def test_graph_without_graphviz_saves_dot_and_fails(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # 'dot' cannot be found
    code, _, err = run(capsys, "graph", "expression", "--format", "png",
                       "--out", str(tmp_path / "e.png"))
    assert code == 1 and "apt-get install graphviz" in err
    assert (tmp_path / "e.dot").exists() and not (tmp_path / "e.png").exists()


def test_demo_trains_reports_and_draws(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--steps", "12", "--out", str(tmp_path))
    assert code == 0
    assert "step   12/12" in out and "accuracy" in out
    assert "Layers (last forward and backward pass)" in out and "bn1.weight" in out
    if shutil.which("dot"):
        assert (tmp_path / "gradient_flow.svg").exists()
        assert (tmp_path / "gradient_flow.png").read_bytes()[:4] == b"\x89PNG"
        assert str(tmp_path.resolve()) in out
        page = (tmp_path / "gradient_flow_explorer.html").read_text(encoding="utf-8")
        assert '"without BatchNorm"' in page and '"with BatchNorm"' in page
    else:
        assert (tmp_path / "gradient_flow.dot").exists() and "install" in err


def test_scalar_demo_is_kept(capsys):
    code, out, _ = run(capsys, "demo", "--scalar", "--steps", "1")
    assert code == 0 and out.startswith("step   0")
    model = ScalarMLP(2, [4, 1])
    assert isinstance(model([mg.Value(1.0), mg.Value(-1.0)]), mg.Value)
