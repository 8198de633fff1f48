"""Learning-rate schedulers: PyTorch's values step by step, by hand and against PyTorch."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import lr_scheduler


def optimizer(lr=0.1, kind="SGD", groups=1, **options):
    params = [{"params": [mg.nn.Parameter(np.zeros(2))]} for _ in range(groups)]
    return getattr(mg.optim, kind)(params, lr=lr, **options)


def lrs(scheduler, steps):
    """The learning rate of the first group before each of `steps` epochs."""
    values = []
    for _ in range(steps):
        values.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return values


def test_step_lr_by_hand():
    scheduler = lr_scheduler.StepLR(optimizer(0.1), step_size=3, gamma=0.5)
    np.testing.assert_allclose(lrs(scheduler, 8), [0.1] * 3 + [0.05] * 3 + [0.025] * 2)
    assert scheduler.optimizer.param_groups[0]["initial_lr"] == 0.1


def test_multistep_lr_by_hand_with_a_repeated_milestone():
    scheduler = lr_scheduler.MultiStepLR(optimizer(1.0), milestones=[2, 4, 4], gamma=0.1)
    np.testing.assert_allclose(lrs(scheduler, 6), [1, 1, 0.1, 0.1, 0.001, 0.001])


def test_lambda_lr_by_hand_one_function_per_group():
    opt = optimizer(0.5, groups=2)
    scheduler = lr_scheduler.LambdaLR(opt, [lambda e: 0.9**e, lambda e: 1 / (e + 1)])
    for epoch in range(4):
        np.testing.assert_allclose(scheduler.get_last_lr(), [0.5 * 0.9**epoch, 0.5 / (epoch + 1)])
        scheduler.step()


def test_cosine_annealing_by_hand():
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer(0.1), T_max=4, eta_min=0.01)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    np.testing.assert_allclose(lrs(scheduler, 9), expected)
    assert expected[4] == pytest.approx(0.01) and expected[8] == pytest.approx(0.1)


def test_one_cycle_by_hand_lr_and_momentum():
    opt = optimizer(0.1, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3,
                                        anneal_strategy="linear")
    # phase 1: steps 0..2 from 1/25 to 1; phase 2: steps 2..9 from 1 to 1/25/1e4.
    low, floor = 1 / 25, 1 / 25 / 1e4
    expected = [low + (1 - low) * t / 2 for t in range(3)]
    expected += [1 + (floor - 1) * (t - 2) / 7 for t in range(3, 10)]
    momenta = []
    got = []
    for _ in range(10):
        got.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(got) < 10:
            scheduler.step()
    np.testing.assert_allclose(got, expected)
    assert momenta[0] == pytest.approx(0.95) and momenta[2] == pytest.approx(0.85)
    assert momenta[9] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="tried to step 11 times"):
        scheduler.step()
        scheduler.step()


def test_one_cycle_cycles_adams_beta1_and_refuses_no_momentum():
    opt = optimizer(0.1, kind="Adam")
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="either total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)


def test_state_dict_resumes_the_schedule():
    opt = optimizer(0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs(scheduler, 3)
    saved_scheduler, saved_optimizer = scheduler.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_scheduler and saved_scheduler["last_epoch"] == 3
    resumed_opt = optimizer(0.1)
    resumed_opt.load_state_dict(saved_optimizer)
    resumed = lr_scheduler.StepLR(resumed_opt, step_size=2, gamma=0.5, last_epoch=2)
    resumed.load_state_dict(saved_scheduler)
    assert lrs(resumed, 4) == lrs(scheduler, 4)


def test_resuming_without_initial_lr_is_a_clear_error():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optimizer(0.1), step_size=2, last_epoch=4)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        lr_scheduler.StepLR(optimizer(0.1), step_size=0)


SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.3}, "SGD"),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.5}, "SGD"),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.8**epoch + 0.01 * epoch}, "SGD"),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.001}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20}, "SGD"),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "total_steps": 20, "three_phase": True,
                    "anneal_strategy": "linear", "pct_start": 0.25}, "Adam"),
]


@pytest.mark.parametrize("name, options, kind", SCHEDULES)
def test_schedules_match_pytorch_step_by_step(name, options, kind):
    torch = pytest.importorskip("torch")
    extra = {"momentum": 0.9} if kind == "SGD" else {}
    ours_opt = optimizer(0.1, kind, groups=2, **extra)
    theirs_opt = getattr(torch.optim, kind)(
        [{"params": [torch.zeros(2, requires_grad=True)]} for _ in range(2)], lr=0.1, **extra)
    ours = getattr(lr_scheduler, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **options)
    momentum_key = "betas" if kind == "Adam" else "momentum"
    for _ in range(19):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-9)
        for ours_group, theirs_group in zip(ours_opt.param_groups, theirs_opt.param_groups):
            np.testing.assert_allclose(ours_group[momentum_key], theirs_group[momentum_key])
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("name, options", [("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
                                           ("StepLR", {"step_size": 2, "gamma": 0.5})])
def test_resuming_as_pytorch_documents_keeps_the_learning_rate(name, options):
    # PyTorch's recipe: load the optimiser, build the scheduler as before (last_epoch=-1),
    # load its state. Building it must not put the lr back to initial_lr, or the first epoch
    # after a resume trains at the starting lr (PyTorch's chainable schedules keep the lr).
    opt = optimizer(0.1)
    scheduler = getattr(lr_scheduler, name)(opt, **options)
    lrs(scheduler, 3)
    saved_scheduler, saved_optimizer = scheduler.state_dict(), opt.state_dict()
    resumed_opt = optimizer(0.1)
    resumed_opt.load_state_dict(saved_optimizer)
    resumed = getattr(lr_scheduler, name)(resumed_opt, **options)
    resumed.load_state_dict(saved_scheduler)
    # the lr the next optimizer.step() uses (get_last_lr() is restored by load_state_dict)
    assert resumed_opt.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    assert lrs(resumed, 4) == pytest.approx(lrs(scheduler, 4), rel=1e-12)


def resumed_lrs(name, options, kind, trained, last_epoch, steps=8):
    """The uninterrupted run's lrs after `trained` epochs, and those of a scheduler built
    with `last_epoch` over an optimiser loaded from that run's state after them."""
    extra = {"momentum": 0.9} if kind == "SGD" else {}
    opt = optimizer(0.1, kind, groups=2, **extra)
    scheduler = getattr(lr_scheduler, name)(opt, **options)
    lrs(scheduler, trained)
    saved = opt.state_dict()
    resumed_opt = optimizer(0.1, kind, groups=2, **extra)
    resumed_opt.load_state_dict(saved)
    resumed = getattr(lr_scheduler, name)(resumed_opt, last_epoch=last_epoch, **options)
    return lrs(scheduler, steps), lrs(resumed, steps)


@pytest.mark.parametrize("name, options, kind", SCHEDULES)
@pytest.mark.parametrize("trained", [1, 2, 3, 5, 6])
def test_building_with_last_epoch_resumes_where_the_run_stopped(name, options, kind, trained):
    # last_epoch is the index of the last epoch trained (the saved last_epoch minus one).
    # StepLR and MultiStepLR multiplied the loaded lr, already decayed at a milestone, by
    # gamma once more: every later epoch trained at gamma times the schedule's lr.
    uninterrupted, resumed = resumed_lrs(name, options, kind, trained, trained - 1)
    assert resumed == pytest.approx(uninterrupted, rel=1e-12)


@pytest.mark.parametrize("name, options, kind", SCHEDULES[:4])
@pytest.mark.parametrize("last_epoch", [0, 2, 3, 5])
def test_building_with_last_epoch_sets_the_schedules_next_value(name, options, kind,
                                                                 last_epoch):
    # Whatever lr the group holds (here initial_lr, set by hand). PyTorch's StepLR and
    # MultiStepLR multiply it, so the milestones already passed are lost; its
    # CosineAnnealingLR keeps it and scales it by ratios of cosines (at last_epoch=5 the
    # lr climbs to 10 x initial_lr).
    fresh = lrs(getattr(lr_scheduler, name)(optimizer(0.1), **options), last_epoch + 9)
    opt = optimizer(0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    resumed = getattr(lr_scheduler, name)(opt, last_epoch=last_epoch, **options)
    assert resumed.last_epoch == last_epoch + 1
    assert lrs(resumed, 8) == pytest.approx(fresh[last_epoch + 1:], rel=1e-12)


def test_pytorch_decays_twice_when_resuming_a_step_lr_at_a_milestone():
    # The documented difference (module docstring), pinned so that a PyTorch that changes
    # it is noticed: the run trained 3 epochs (lr 0.05 from epoch 3), resumed at last_epoch=2.
    torch = pytest.importorskip("torch")
    uninterrupted, ours = resumed_lrs("StepLR", {"step_size": 3, "gamma": 0.5}, "SGD", 3, 2,
                                      steps=3)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)
    opt.param_groups[0]["initial_lr"] = 0.1
    theirs = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5, last_epoch=2)
    assert uninterrupted == pytest.approx([0.05] * 3) and ours == pytest.approx(uninterrupted)
    assert theirs.get_last_lr() == pytest.approx([0.025])


@pytest.mark.parametrize("name, options, kind", SCHEDULES)
def test_pytorchs_resume_recipe_resumes_every_schedule(name, options, kind):
    # The module docstring's recipe: build both as for a new run, then load their states.
    extra = {"momentum": 0.9} if kind == "SGD" else {}
    opt = optimizer(0.1, kind, groups=2, **extra)
    scheduler = getattr(lr_scheduler, name)(opt, **options)
    lrs(scheduler, 4)
    saved_optimizer, saved_scheduler = opt.state_dict(), scheduler.state_dict()
    resumed_opt = optimizer(0.1, kind, groups=2, **extra)
    resumed = getattr(lr_scheduler, name)(resumed_opt, **options)
    resumed_opt.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    assert lrs(resumed, 8) == pytest.approx(lrs(scheduler, 8), rel=1e-12)
