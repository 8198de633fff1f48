"""The exercises framework: every reference solution passes its checks, every untouched stub
fails every check, and ``python tutorials/check.py N`` exits 0 only when all pass."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
sys.path.insert(0, str(TUTORIALS))

import check  # noqa: E402
from _checks import checks_of  # noqa: E402

LESSONS = sorted(int(p.name[:2]) for p in (TUTORIALS / "exercises").glob("[0-9][0-9]_*.py"))


def test_every_lesson_with_exercises_has_a_solution_and_checks() -> None:
    assert LESSONS, "no exercises found"
    for number in LESSONS:
        assert check.exercise_file(number, "solutions").exists()
        assert len(checks_of(number)) >= 2, f"lesson {number}: fewer than two checks"


@pytest.mark.parametrize("number", LESSONS)
def test_the_solution_passes_every_check(number: int) -> None:
    out = io.StringIO()
    passed, total = check.run_checks(number, check.exercise_file(number, "solutions"), out)
    assert passed == total, out.getvalue()


@pytest.mark.parametrize("number", LESSONS)
def test_the_untouched_stub_fails_every_check(number: int) -> None:
    out = io.StringIO()
    passed, total = check.run_checks(number, check.exercise_file(number, "exercises"), out)
    assert passed == 0 and total > 0, out.getvalue()
    assert "not written yet" in out.getvalue()


def test_check_command_exit_status_and_advice(tmp_path: Path) -> None:
    command = [sys.executable, str(TUTORIALS / "check.py"), "1"]
    stub = subprocess.run(command, capture_output=True, text=True)
    assert stub.returncode == 1 and "TODO" in stub.stdout
    solved = subprocess.run(command + ["--solution"], capture_output=True, text=True)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    # A wrong answer is named, with where to look.
    wrong = tmp_path / "wrong.py"
    wrong.write_text((TUTORIALS / "solutions" / "01_autograd.py").read_text().replace(
        "grad_x = t + y * grad_u", "grad_x = t"))
    failed = subprocess.run(command + ["--file", str(wrong)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "FAIL" in failed.stdout and "how to look" in failed.stdout
    missing = subprocess.run([sys.executable, str(TUTORIALS / "check.py"), "99"],
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "no exercises" in missing.stderr


# Plausible wrong answers, each made from the reference solution by one edit: the checks must
# reject every one of them (a checker that accepts a wrong answer teaches it).
WRONG_ANSWERS = [
    # the running mean's old term dropped: right after one batch from zeros, wrong after two
    (4, "04_batchnorm.py", "new_mean = (1 - momentum) * running_mean + momentum *",
     "new_mean = momentum *"),
    # the biased batch variance in the running variance
    (4, "04_batchnorm.py", "x.var(axis=0, ddof=1)", "x.var(axis=0)"),
    # Value's own sigmoid instead of building it from Value operations
    (1, "01_autograd.py", "return (1 + (-v).exp()) ** -1", "return v.sigmoid()"),
    # the topological order not reversed (parents before their consumers)
    (1, "01_autograd.py", "return order[::-1]", "return order"),
    # the orthogonal matrix without QR's sign fix: orthogonal, not uniform
    (7, "07_deep.py", "return q * np.sign(np.diag(r))", "return q"),
    # the Jacobians multiplied in the wrong order
    (10, "10_recurrent.py", "product = product @ ((1 - h**2)[:, None] * w_h)",
     "product = ((1 - h**2)[:, None] * w_h) @ product"),
    # GroupNorm with the unbiased variance
    (8, "08_groupnorm.py", "(centred * centred).mean(axis=2, keepdims=True)",
     "(centred * centred).sum(axis=2, keepdims=True) / (grouped.shape[2] - 1)"),
    # softplus's derivative as eˣ/(1 + eˣ): right for small x, inf/inf = nan at x = 800
    (2, "02_tensors.py", "sigmoid = 0.5 * (1 + np.tanh(0.5 * self.x))",
     "sigmoid = np.exp(self.x) / (1 + np.exp(self.x))"),
    # softplus as log(1 + eˣ): overflows at x = 800
    (2, "02_tensors.py", "return np.logaddexp(0, x)", "return np.log(1 + np.exp(x))"),
    # the bias gradient as a mean over the batch instead of a sum
    (2, "02_tensors.py", "return grad_out.sum(axis=0)", "return grad_out.mean(axis=0)"),
    # He's fan-in of a convolution without the kernel's size
    (3, "03_init.py", "fan_in = int(np.prod(shape[1:]))", "fan_in = shape[1]"),
    # the variance 2/fan_in passed where rng.normal takes the standard deviation
    (3, "03_init.py", "math.sqrt(2.0 / fan_in), size=shape", "2.0 / fan_in, size=shape"),
    # the ReLU factor without its ½
    (3, "03_init.py", "(width * sigma**2 / 2) ** depth", "(width * sigma**2) ** depth"),
    # the broken layer judged on a linear scale (the hot layer wins, the cold one is missed)
    (5, "05_gradient_flow.py", "logs = np.log10(np.maximum(np.asarray(ratios, float), 1e-30))",
     "logs = np.asarray(ratios, float)"),
]


def _answer(folder: Path, solution: str, *edits: tuple[str, str]) -> Path:
    """tutorials/solutions/`solution` with each (old, new) of `edits` made, in `folder`."""
    source = (TUTORIALS / "solutions" / solution).read_text(encoding="utf-8")
    for old, new in edits:
        assert old in source, f"{solution} no longer holds {old!r}"
        source = source.replace(old, new)
    answer = folder / solution
    answer.write_text(source, encoding="utf-8")
    return answer


@pytest.mark.parametrize("number, name, right, wrong", WRONG_ANSWERS,
                         ids=[f"{n}:{w[:40]}" for n, _, _, w in WRONG_ANSWERS])
def test_a_wrong_answer_fails_a_check(number: int, name: str, right: str, wrong: str,
                                      tmp_path: Path) -> None:
    answer = _answer(tmp_path, name, (right, wrong))
    out = io.StringIO()
    passed, total = check.run_checks(number, answer, out)
    assert passed < total, f"a wrong answer passes every check:\n{out.getvalue()}"


def test_make_figures_quick_never_writes_over_the_committed_figures() -> None:
    import make_figures

    assert make_figures.output_folder(False, None) == TUTORIALS / "figures"
    assert make_figures.output_folder(True, None) == TUTORIALS / "out"  # git-ignored
    assert make_figures.output_folder(True, "elsewhere") == Path("elsewhere")


@pytest.mark.parametrize("where", ["in a function", "at import"])
def test_exit_left_in_the_answer_fails_with_a_message(where: str, tmp_path: Path) -> None:
    """A student's `exit()` (left from debugging) used to end check.py itself, with status 0
    and no check run: "exit status 0 only when all pass" must hold whatever the file does."""
    source = (TUTORIALS / "solutions" / "01_autograd.py").read_text(encoding="utf-8")
    if where == "at import":
        source += "\nimport sys\nsys.exit(0)\n"
    else:
        source = source.replace('    return {"x": grad_x, "y": grad_y}', "    exit()")
    answer = tmp_path / "01_autograd.py"
    answer.write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, str(TUTORIALS / "check.py"), "1", "--file",
                           str(answer)], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "exit()" in done.stdout, done.stdout
    if where == "in a function":  # the other checks still ran, and the line is named
        assert "3/4 checks pass" in done.stdout and "01_autograd.py:" in done.stdout


def test_make_figures_keeps_the_committed_files_when_a_lesson_fails(tmp_path: Path,
                                                                     monkeypatch) -> None:
    """A lesson that crashes half-way used to leave its results file emptied or half
    written in tutorials/figures/ (the lesson writes as it goes): now a lesson's files reach
    the output folder only when it finishes."""
    import make_figures

    lessons = tmp_path / "tutorials"
    (lessons / "figures").mkdir(parents=True)
    write = ("import os, pathlib, sys\n"
             "out = pathlib.Path(os.environ['MINIGRAD_TUTORIAL_OUT'])\n"
             "(out / '{n}_results.json').write_text('{{\"new\": 1}}')\n")
    (lessons / "01_works.py").write_text(write.format(n="01"))
    (lessons / "02_crashes.py").write_text(write.format(n="02") + "sys.exit('crashed')\n")
    for n in ("01", "02"):
        (lessons / "figures" / f"{n}_results.json").write_text('{"old": 1}')
    monkeypatch.setattr(make_figures, "TUTORIALS", lessons)
    assert make_figures.main([]) == 1
    assert (lessons / "figures" / "01_results.json").read_text() == '{"new": 1}'
    assert (lessons / "figures" / "02_results.json").read_text() == '{"old": 1}'


def test_make_figures_keeps_what_a_failed_lesson_measured(tmp_path: Path, monkeypatch,
                                                          capsys) -> None:
    """A full run that crashed in its last cell used to lose everything it had measured (its
    staging folder was a TemporaryDirectory, deleted on the way out) and printed no path: the
    staging folder now sits next to the output folder, is kept on failure and named."""
    import make_figures

    lessons = tmp_path / "tutorials"
    (lessons / "figures").mkdir(parents=True)
    write = ("import os, pathlib, sys\n"
             "out = pathlib.Path(os.environ['MINIGRAD_TUTORIAL_OUT'])\n"
             "(out / '{n}_results.json').write_text('{{\"measured\": {n}}}')\n")
    (lessons / "01_works.py").write_text(write.format(n="01"))
    (lessons / "02_crashes_last.py").write_text(write.format(n="02") + "sys.exit('late')\n")
    monkeypatch.setattr(make_figures, "TUTORIALS", lessons)
    assert make_figures.main([]) == 1
    printed = capsys.readouterr().out
    kept = [path for path in lessons.iterdir() if path.is_dir() and path.name != "figures"]
    assert [path.name.split(".")[1] for path in kept] == ["02_crashes_last"], kept  # 01's: gone
    assert (kept[0] / "02_results.json").read_text() == '{"measured": 02}'
    assert str(kept[0]) in printed and "rm -r" in printed, printed
    assert not (lessons / "figures" / "02_results.json").exists()


def test_check_file_that_is_not_a_file_is_named(tmp_path: Path) -> None:
    """`--file` pointing at a folder was reported as "your file called exit()"; a missing file
    as a FileNotFoundError traceback. Both now name the path and the fix, with status 2."""
    for wrong in (tmp_path, tmp_path / "missing.py"):
        done = subprocess.run([sys.executable, str(TUTORIALS / "check.py"), "1", "--file",
                               str(wrong)], capture_output=True, text=True)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "is not a file" in done.stderr and "exercises/01_autograd.py" in done.stderr
        assert "exit()" not in done.stdout + done.stderr


def test_make_figures_stages_next_to_an_output_folder_given_as_dot(tmp_path: Path,
                                                                  monkeypatch) -> None:
    """`--out .`: Path('.').name is '', so the staging folder was a hidden '.NN_x.unfinished_'
    one in the parent of the current folder; it is named after the folder itself."""
    import make_figures

    inner = tmp_path / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)
    staging = make_figures.stage(Path("."), Path("02_x.py"))
    try:
        assert staging.parent == tmp_path and staging.name.startswith("inner.02_x.unfinished_")
    finally:
        staging.rmdir()


# Answers a reviewer wrote as a student would: each is the reference solution with one
# mistake put in (`_answer`: the replaced text must be there, so a reworded solution makes
# the test fail rather than test the solution itself). Each wrong one used to pass every
# check; each must now fail the named check with a hint that points at its mistake.
# (The reference solutions pass: test_the_solution_passes_every_check.)


LINEAR_DISTANCE = (  # lesson 5: |ratio - median| instead of the log distance asked for
    """    logs = np.log10(np.maximum(np.asarray(ratios, float), 1e-30))
    distance = np.abs(logs - np.median(logs))
    worst = int(np.argmax(distance))
    return worst if distance[worst] >= np.log10(factor) else -1""",
    """    r = np.asarray(ratios, float)
    med = np.median(r)
    worst = int(np.argmax(np.abs(r - med)))
    far = max(r[worst] / med, med / r[worst])
    return worst if far >= factor else -1""")
NO_VISITED_SET = (  # lesson 1: every path walked, duplicates removed at the end
    ("""    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]""",
     """    order: list[Value] = []
    stack: list[tuple[Value, bool]] = [(root, False)]"""),
    ("""        elif id(node) not in visited:
            visited.add(id(node))
""", """        else:
"""),
    ("""            stack.extend((parent, False) for parent in node._parents
                         if id(parent) not in visited)
    return order[::-1]""", """            stack.extend((parent, False) for parent in node._parents)
    seen: set[int] = set()
    out = []
    for n in order:
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)
    return out[::-1]"""))


def _verdict(number: int, answer: Path) -> tuple[int, int, str]:
    out = io.StringIO()
    passed, total = check.run_checks(number, answer, out)
    return passed, total, out.getvalue()


def _failure(report: str, title: str) -> str:
    """The FAIL entry (title, what, hint) of the check whose title starts with `title`."""
    lines = report.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(f"FAIL  {title}"):
            return "\n".join(lines[i:i + 3])
    raise AssertionError(f"no FAIL for {title!r}:\n{report}")


def test_a_linear_distance_misses_the_cold_layer_beside_a_hot_one(tmp_path: Path) -> None:
    """Lesson 5: every picture had one outlier, so |ratio − median| found it as well as the
    log distance the exercise asks for. Ratios [1, 1, 1, 1e-4, 20]: by the stated rule layer
    3 (4 decades from the median 1) beats layer 4 (log10 20 = 1.3 decades)."""
    passed, total, report = _verdict(5, _answer(tmp_path, "05_gradient_flow.py", LINEAR_DISTANCE))
    assert passed == total - 1, report
    failure = _failure(report, "find_broken_layer weighs a cold and a hot layer")
    assert "returned 4" in failure and "log10" in failure


def test_group_norm_without_the_divisibility_check_is_caught_on_an_image(tmp_path: Path
                                                                         ) -> None:
    """Lesson 8: on (2, 6), NumPy's reshape raised by itself, so a group_norm without the
    check passed; on (2, 6, 2, 2) with 4 groups reshape succeeds, and only the check raises."""
    answer = _answer(tmp_path, "08_groupnorm.py", ("if channels % num_groups:", "if False:"))
    passed, total, report = _verdict(8, answer)
    assert passed == total - 1, report
    failure = _failure(report, "group_norm refuses")
    assert "did not raise" in failure and "% num_groups" in failure


def test_a_topological_order_without_a_visited_set_is_stopped_not_waited_for(tmp_path: Path
                                                                             ) -> None:
    """Lesson 1: a walk without a visited set is right but exponential on shared nodes; the
    doubling graph (2⁴⁰ paths) stops it by counting its reads of _parents. A subprocess with
    a timeout, so that a regression shows as a failure rather than a hung test run."""
    done = subprocess.run([sys.executable, str(TUTORIALS / "check.py"), "1", "--file",
                           str(_answer(tmp_path, "01_autograd.py", *NO_VISITED_SET))],
                          capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    failure = _failure(done.stdout, "topological_order expands each node once")
    assert "was stopped" in failure and "visited" in failure
    assert "3/4 checks pass" in done.stdout, done.stdout


def test_the_doubling_graph_allows_a_correct_walk_and_leaves_no_budget_behind() -> None:
    import _checks.checks_01 as checks_01

    solution = check.load(check.exercise_file(1, "solutions"))
    checks_01.check_topological_order_visits_each_node_once(solution)
    assert checks_01._CountingValue.reads_left is None  # other graphs are not counted
    root = checks_01._doubling_graph(3)
    assert [node.data for node in solution.topological_order(root)] == [8.0, 4.0, 2.0, 1.0]


def test_wrong_batchnorm_values_point_at_the_formula_not_the_shapes(tmp_path: Path) -> None:
    """Lesson 4: a dx without its −Σdy term got "the shapes must be those of the inputs",
    though its shapes were right. The shape hint is kept for a wrong shape (which the engine
    would sum away: .grad always has the input's shape, so the check asks backward itself)."""
    answer = _answer(tmp_path, "04_batchnorm.py", ("(n * grad_output - dbeta - self.x_hat",
                                                   "(n * grad_output - self.x_hat"))
    passed, _, report = _verdict(4, answer)
    failure = _failure(report, "its gradients equal those of minigrad's fused BatchNorm")
    assert "dx differs" in failure and "§2" in failure and "Σdy" in failure
    assert "shape (6, 4) is right" in failure and "each gradient has its input's shape" \
        not in failure


def test_a_batchnorm_gradient_of_the_wrong_shape_gets_the_shape_hint(tmp_path: Path) -> None:
    answer = _answer(tmp_path, "04_batchnorm.py", (  # dgamma copied per sample: summed N-fold
        "return dx, dgamma, dbeta", "return dx, np.broadcast_to(dgamma, dx.shape), dbeta"))
    _, _, report = _verdict(4, answer)
    failure = _failure(report, "its gradients equal those of minigrad's fused BatchNorm")
    assert "dgamma differs" in failure and "shape (6, 4), its input has shape (4,)" in failure
    assert "each gradient has its input's shape" in failure


def test_softplus_is_judged_on_its_values_not_on_numpys_warnings(tmp_path: Path) -> None:
    """Lesson 2: a Softplus through np.where, right everywhere, failed with "exp(800)
    overflows" because the branch np.where throws away overflowed under errstate(raise).
    Values are judged (finite, right); an overflow that reaches the result still fails."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning escapes the check
        passed, total, report = _verdict(2, _answer(tmp_path, "02_tensors.py", (
            "return np.logaddexp(0, x)",
            "return np.where(x > 0, x + np.log1p(np.exp(-x)), np.log1p(np.exp(x)))")))
    assert passed == total, report


def test_an_overflowing_softplus_is_named_not_finite(tmp_path: Path) -> None:
    answer = _answer(tmp_path, "02_tensors.py",
                     ("return np.logaddexp(0, x)", "return np.log(1 + np.exp(x))"))
    _, _, report = _verdict(2, answer)
    failure = _failure(report, "Softplus")
    assert "not finite at x = [800.]" in failure and "np.logaddexp(0, x)" in failure
