"""The `minigrad` command: demo, graph, help and version."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.__main__ import ScalarMLP, main
from minigrad.examples import GRAPH_EXAMPLES
from minigrad.versions import FREED_GRAPH

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


def test_the_demo_keeps_the_graphs_it_draws_or_records_and_frees_the_others(
        capsys, tmp_path, monkeypatch):
    """backward() frees each training step's graph, so training's memory stays low; the
    one step the demo draws keeps its graph (backward(retain_graph=True)), and so do the
    steps the explorer page's recorders keep (they watch those passes)."""
    backward, kept = mg.Tensor.backward, []

    def watched(self, *args, **kwargs):
        backward(self, *args, **kwargs)
        kept.append(not any(parent._parents is FREED_GRAPH for parent in self._parents))

    monkeypatch.setattr(mg.Tensor, "backward", watched)
    steps = 60  # the page records every max(1, steps // 30)-th step: every second one
    code, _, _ = run(capsys, "demo", "--steps", str(steps), "--out", str(tmp_path))
    assert code == 0
    recorded = [step % 2 == 0 for step in range(steps)]
    assert kept == [False] * steps + [True] + recorded * 2  # (without, with BatchNorm)


def test_scalar_demo_is_kept(capsys):
    code, out, _ = run(capsys, "demo", "--scalar", "--steps", "1")
    assert code == 0 and out.startswith("step   0")
    model = ScalarMLP(2, [4, 1])
    assert isinstance(model([mg.Value(1.0), mg.Value(-1.0)]), mg.Value)


# -- options are checked and explained -----------------------------------------------------------

@pytest.mark.parametrize("name,expected", [("x.png", b"\x89PNG"), ("x.pdf", b"%PDF"),
                                           ("x.svg", b"<?xml"), ("x.dot", b"digraph")])
def test_graph_format_comes_from_the_out_suffix(capsys, tmp_path, name, expected):
    if name != "x.dot" and shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' not installed")
    code, out, err = run(capsys, "graph", "expression", "--out", str(tmp_path / name))
    assert code == 0, err
    assert (tmp_path / name).read_bytes().startswith(expected)
    assert len(list(tmp_path.iterdir())) == 1  # no x.png.svg next to it


def test_graph_format_and_suffix_must_agree_and_be_known(capsys, tmp_path):
    code, _, err = run(capsys, "graph", "expression", "--out", str(tmp_path / "x.jpg"))
    assert code == 2 and ".jpg is not one of .svg, .png, .pdf, .dot" in err
    code, _, err = run(capsys, "graph", "expression", "--format", "svg",
                       "--out", str(tmp_path / "x.png"))
    assert code == 2 and "ends in .png but the format is 'svg'" in err
    assert not list(tmp_path.iterdir())
    # an explicit --format decides when the name has no suffix
    code, out, _ = run(capsys, "graph", "expression", "--format", "dot",
                       "--out", str(tmp_path / "plain"))
    assert code == 0 and (tmp_path / "plain.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("argv", [
    ["demo", "--steps", "-3"], ["demo", "--steps", "0"], ["demo", "--lr", "-1"],
    ["demo", "--lr", "nan"], ["demo", "--batch-size", "0"], ["demo", "--steps", "two"],
    ["graph", "mlp", "--max-nodes", "0"], ["graph", "mlp", "--timeout", "-5"],
])
def test_numbers_must_be_positive(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[-2]}" in err and ("greater than 0" in err or "positive" in err)


def test_demo_batch_size_is_used_and_bounded(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--steps", "2", "--batch-size", "100",
                       "--out", str(tmp_path))
    assert code == 0 and "batch 100" in out
    code, _, err = run(capsys, "demo", "--steps", "2", "--batch-size", "301",
                       "--out", str(tmp_path))
    assert code == 2 and "batch_size must be between 2" in err


def test_unknown_collapse_names_list_the_modules(capsys, tmp_path):
    code, _, err = run(capsys, "graph", "mlp-batchnorm", "--collapse", "nosuch",
                       "--out", str(tmp_path / "g.dot"))
    assert code == 2
    assert "'nosuch' matches no module" in err and "bn1 (BatchNorm1d)" in err
    assert "BatchNorm1d" in err and not (tmp_path / "g.dot").exists()


def test_every_option_has_help(capsys):
    from minigrad.__main__ import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, f"minigrad {name} {action.option_strings} has no help"


def test_no_command_prints_usage_to_stderr_and_fails(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: minigrad") and "choose a command: demo, graph, explore" in err


def test_demo_log_dir_writes_tensorboard_events(capsys, tmp_path):
    pytest.importorskip("tensorboardX", reason="the [tensorboard] extra is not installed: "
                                               "pip install 'minigrad[tensorboard]'")
    code, _, err = run(capsys, "demo", "--steps", "3", "--out", str(tmp_path / "out"),
                       "--log-dir", str(tmp_path / "runs" / "demo"))
    assert code == 0, err
    events = list((tmp_path / "runs" / "demo").glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 1000


def test_an_output_path_that_cannot_be_written_is_a_message_not_a_traceback(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    # demo: --out names a file, found before any training step.
    code, out, err = run(capsys, "demo", "--steps", "2", "--out", str(blocker))
    assert code == 2 and "is a file" in err and "Traceback" not in err
    assert "step" not in out and blocker.read_text() == "keep me"
    # graph: a file is in the way of the folder to create.
    code, _, err = run(capsys, "graph", "mlp", "--out", str(blocker / "g.dot"))
    assert code == 1 and "cannot write" in err and str(blocker) in err
    assert err.count("minigrad graph:") == 1


def test_explore_into_a_folder_names_the_fix(capsys, tmp_path):
    code, _, err = run(capsys, "explore", "--out", str(tmp_path), "--steps", "1")
    assert code == 2 and "is a folder" in err and str(tmp_path / "flow.html") in err


def test_messages_name_the_command_once(capsys, tmp_path):
    code, _, err = run(capsys, "graph", "mlp", "--out", str(tmp_path / "g.txt"))
    assert code == 2 and err.count("minigrad graph:") == 1 and "cannot tell a format" in err
    code, _, err = run(capsys, "demo", "--steps", "2", "--batch-size", "301",
                       "--out", str(tmp_path))
    assert code == 2 and err.startswith("minigrad demo: batch_size must be between 2")


def test_a_graphviz_timeout_in_the_demo_is_a_note_not_cannot_write(capsys, tmp_path,
                                                                  monkeypatch):
    """GraphvizTimeoutError is a TimeoutError, an OSError: it was reported as 'cannot
    write ... choose another --out'. The demo notes it and writes its other files."""
    from minigrad import viz

    def too_slow(*args, **kwargs):
        raise viz.GraphvizTimeoutError("draw_graph: Graphviz did not finish drawing this "
                                       "graph within 60 s, and was stopped.")

    monkeypatch.setattr(viz, "save", too_slow)
    code, out, err = run(capsys, "demo", "--steps", "2", "--out", str(tmp_path))
    assert code == 0 and "cannot write" not in err and "--out" not in err
    assert "did not finish drawing" in err and "accuracy" in out


def test_output_paths_are_checked_before_training(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    # demo: the folder to make is inside a file.
    code, out, err = run(capsys, "demo", "--steps", "2", "--out", str(blocker / "sub"))
    assert code == 2 and "is a file" in err and str(blocker) in err
    assert "training" not in out and "step" not in out
    # explore: an existing folder as the page, or a missing folder for it.
    for page in (tmp_path, tmp_path / "missing" / "flow.html"):
        code, out, err = run(capsys, "explore", "--out", str(page), "--steps", "1")
        assert code == 2 and "training" not in out and err.count("minigrad explore:") == 1


def test_an_output_folder_is_refused_not_written_beside_or_a_pathlib_traceback(
        capsys, tmp_path, monkeypatch):
    """graph --out . raised "PosixPath('.') has an empty name"; --out results or results/
    wrote results.svg beside the folder. Each names the fix instead."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    for out in (".", "results", "results/", "missing/"):
        code, _, err = run(capsys, "graph", "mlp", "--out", out)
        assert code == 2 and "is a folder, not a file" in err and "Fix: name the file" in err
        assert err.count("minigrad graph:") == 1 and "PosixPath" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    assert not any((tmp_path / "results").iterdir())


def test_explore_writes_only_an_html_file_never_over_a_script(capsys, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('my training script')")
    for out, fix in ((script, "train.html"), (tmp_path / "flow", "flow.html")):
        code, stdout, err = run(capsys, "explore", "--out", str(out), "--steps", "1")
        assert code == 2 and "does not end in .html" in err and fix in err
        assert "training" not in stdout
    assert script.read_text() == "print('my training script')"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


def test_the_scalar_demo_refuses_the_options_it_would_ignore(capsys, tmp_path):
    """--scalar trains micrograd's MLP with its own settings and writes no files: --lr,
    --batch-size, --out and --log-dir were silently ignored."""
    for option, value in (("--lr", "5"), ("--batch-size", "8"), ("--out", str(tmp_path)),
                          ("--log-dir", str(tmp_path / "runs"))):
        code, out, err = run(capsys, "demo", "--scalar", "--steps", "1", option, value)
        assert code == 2 and f"--scalar does not use {option}:" in err and "Fix:" in err
        assert "step" not in out
    assert not any(tmp_path.iterdir())
    code, out, _ = run(capsys, "demo", "--scalar", "--steps", "1", "--seed", "3")
    assert code == 0 and "step   0" in out


@pytest.mark.parametrize("argv", [["demo", "--scalar", "--steps", "8"],
                                  ["demo", "--steps", "40", "--out", "OUT"]])
def test_output_piped_into_head_stops_quietly(tmp_path, argv):
    """`minigrad demo --scalar | head -1` ended in a BrokenPipeError traceback, and `minigrad
    demo | head -1` said "cannot write: Broken pipe. Fix: choose another --out"."""
    import os
    import subprocess
    import sys

    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-m", "minigrad", *argv], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline()  # as head -1 reads
    child.stdout.close()  # ...and leaves: the next line written finds no reader
    _, err = child.communicate(timeout=120)
    assert child.returncode == 1 and err.decode() == ""


def test_a_log_dir_in_the_way_of_a_file_names_log_dir_before_training(capsys, tmp_path):
    """It said "cannot write afile/events...: Not a directory. Fix: choose another --out"."""
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    for log_dir in (blocker, blocker / "runs"):
        code, out, err = run(capsys, "demo", "--steps", "2", "--out", str(tmp_path / "out"),
                             "--log-dir", str(log_dir))
        assert code == 2 and "the TensorBoard folder" in err and str(blocker) in err
        assert "Fix: choose another --log-dir" in err and "--out" not in err
        assert "training" not in out
    assert blocker.read_text() == "keep me"


@needs_dot
def test_a_graphviz_timeout_names_the_commands_options(capsys, tmp_path, monkeypatch):
    """The fix named draw_graph's keywords (collapse=[...], max_nodes=, timeout=), which
    a command line does not take."""
    import subprocess

    def too_slow(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", too_slow)
    code, _, err = run(capsys, "graph", "cnn-batchnorm", "--timeout", "2",
                       "--out", str(tmp_path / "g.svg"))
    assert code == 1 and err.startswith("minigrad graph: Graphviz did not finish drawing")
    assert "within 2 s" in err and "--max-nodes" in err and "--timeout SECONDS" in err
    assert "max_nodes=" not in err and "timeout=" not in err
    assert not (tmp_path / "g.svg").exists()
    # A module the graph has (it suggested --collapse BatchNorm1d to every graph), or none.
    assert "e.g. --collapse BatchNorm2d;" in err and "BatchNorm1d" not in err
    code, _, err = run(capsys, "graph", "expression", "--timeout", "2",
                       "--out", str(tmp_path / "g.svg"))
    assert code == 1 and "Fix: draw less of it (no module to fold that would help: a " \
        "smaller --max-nodes; --hide-parameters; --hide-constants)" in err
    assert "--collapse" not in err


@pytest.mark.parametrize("seconds", ["1e300", "2147484"])
def test_a_timeout_longer_than_the_system_waits_is_refused_by_the_parser(capsys, seconds):
    """--timeout 1e300 passed the parser, then subprocess's wait overflowed: a traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "expression", "--timeout", seconds])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"argument --timeout: must be at most 2,147,483 seconds (about 24 days), got "
        f"{seconds}\n")


# -- bad input is refused before any training, naming the option and the fix --------------------

@pytest.mark.parametrize("argv", [["demo", "--seed", "-1"], ["demo", "--scalar", "--seed", "-1"],
                                  ["demo", "--seed", "1.5"]])
def test_a_seed_must_be_a_whole_number_from_zero_up(capsys, argv):
    """--seed -1 was NumPy's "expected non-negative integer" (naming neither --seed nor a
    fix), and with --scalar a NumPy traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert "argument --seed: " in err and "whole number >= 0" in err
    assert "Fix: e.g. --seed 1" in err and "Traceback" not in err and "step" not in out


@pytest.fixture
def unwritable_folder(tmp_path):
    """An existing folder no file can be made in, not even by root: /proc on Linux, else a
    folder without write permission (skipped when that does not stop this user)."""
    if os.path.isdir("/proc/self"):
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        pytest.skip("this user may write in a read-only folder")
    return folder


def test_an_output_folder_no_file_can_be_made_in_is_refused_before_training(
        capsys, tmp_path, unwritable_folder):
    """demo --out /proc/xx and explore --out /proc/a.html trained first, then said "cannot
    write"."""
    for argv in (["demo", "--out", str(unwritable_folder / "xx")],
                 ["demo", "--out", str(unwritable_folder)],
                 ["explore", "--out", str(unwritable_folder / "a.html")]):
        code, out, err = run(capsys, *argv, "--steps", "2")
        assert code == 2 and "training" not in out and "step" not in out
        assert f"'{unwritable_folder}'" in err and "no file can be made in" in err
        assert "Fix: choose another --out" in err and err.count(f"minigrad {argv[0]}:") == 1


def test_a_log_dir_no_file_can_be_made_in_names_log_dir_before_training(
        capsys, tmp_path, unwritable_folder):
    code, out, err = run(capsys, "demo", "--steps", "2", "--out", str(tmp_path / "out"),
                         "--log-dir", str(unwritable_folder / "yy"))
    assert code == 2 and "training" not in out
    assert "the TensorBoard folder" in err and "Fix: choose another --log-dir" in err
    assert "--out" not in err and not (tmp_path / "out").exists()


def test_a_log_dir_that_fails_to_be_written_is_named_not_out(capsys, tmp_path, monkeypatch):
    """A --log-dir that could not be written was reported as "Fix: choose another --out"."""
    from minigrad.viz import tensorboard

    log_dir = tmp_path / "runs"

    def refused(folder, caller):
        raise PermissionError(13, "Permission denied", str(log_dir / "events.out.tfevents.1"))

    monkeypatch.setattr(tensorboard, "_summary_writer", refused)
    code, _, err = run(capsys, "demo", "--steps", "2", "--out", str(tmp_path / "out"),
                       "--log-dir", str(log_dir))
    assert code == 1 and f"cannot write {log_dir}" in err
    assert "Fix: choose another --log-dir." in err and "--out" not in err


def test_a_page_that_may_not_be_replaced_is_refused_before_training(capsys, tmp_path,
                                                                    monkeypatch):
    page = tmp_path / "flow.html"
    page.write_text("an old page")
    page.chmod(0o444)
    if os.access(page, os.W_OK):  # root writes it anyway: stand for a read-only disk
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: False
                            if Path(path) == page else access(path, mode, **kwargs))
    code, out, err = run(capsys, "explore", "--out", str(page), "--steps", "1")
    assert code == 2 and "training" not in out
    assert "cannot be replaced" in err and "Fix: choose another --out" in err


def test_explore_without_graphviz_fails_before_training(capsys, tmp_path, monkeypatch):
    """explore trained both networks, then found 'dot' missing."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # 'dot' cannot be found
    code, out, err = run(capsys, "explore", "--out", str(tmp_path / "flow.html"), "--steps", "2")
    assert code == 1 and "training" not in out and "apt-get install graphviz" in err
    assert err.startswith("minigrad explore: the Graphviz program 'dot' was not found")
    assert not (tmp_path / "flow.html").exists()


def test_the_demo_without_graphviz_lists_every_file_it_wrote_and_trains_no_page(
        capsys, tmp_path, monkeypatch):
    """Without 'dot' the demo trained the explorer page's two networks, then found 'dot'
    missing; and its list of files written left out gradient_flow.dot, which it wrote."""
    import minigrad.examples

    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # 'dot' cannot be found
    trained = []
    record = minigrad.examples.record_example
    monkeypatch.setattr(minigrad.examples, "record_example",
                        lambda *args, **kwargs: trained.append(args) or record(*args, **kwargs))
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "demo", "--steps", "3", "--out", str(out_dir))
    assert code == 0 and not trained and "explorer page" in err
    listed = out.split(f"files to {out_dir.resolve()}/:\n")[1].split()
    assert "gradient_flow.dot" in listed
    assert sorted(listed) == sorted(path.name for path in out_dir.iterdir())  # no probe left
    assert f"wrote {len(listed)} files" in out
