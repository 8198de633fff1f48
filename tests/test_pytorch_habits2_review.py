"""Fixes from the review of the PyTorch habits (test_pytorch_habits2.py): silent wrong answers
of einsum on bools and small integers, randint on narrow dtypes, masked_fill with a 0-d
tensor value; `.to` and the factories with PyTorch's device names and keywords; error
hints that suggested invalid calls; linspace's edge cases; F.silu's warning at -inf.

Each test failed before its fix. The last tests compare with PyTorch itself, when installed."""

import math
import pickle
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

MASK = np.array([[True, True], [False, True]])


# -- 1. einsum on bools and integers: PyTorch's dtypes, not NumPy's -------------------------

def test_einsum_sum_of_bools_counts_in_int64():
    out = mg.einsum("ij->j", mg.tensor(MASK))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [1, 2])
    assert mg.einsum("ii->", mg.tensor(MASK)).item() == 2  # a trace is a sum too
    assert mg.einsum("ij->", mg.tensor(MASK)).item() == mg.tensor(MASK).sum().item() == 3


@pytest.mark.parametrize("dtype, value, count", [(np.uint8, 1, 300), (np.int8, 100, 3),
                                                 (np.int32, 2**30, 3), (np.int16, 30000, 3)])
def test_einsum_sum_of_small_integers_does_not_wrap(dtype, value, count):
    out = mg.einsum("i->", mg.tensor(np.full(count, value, dtype)))
    assert out.dtype == np.int64 and out.item() == value * count


def test_einsum_without_a_sum_keeps_the_dtype():
    assert mg.einsum("ij->ji", mg.tensor(MASK)).dtype == np.bool_
    assert mg.einsum("ii->i", mg.tensor(MASK)).dtype == np.bool_
    assert mg.einsum("ij->ij", mg.tensor(MASK.astype(np.int32))).dtype == np.int32
    outer = mg.einsum("i,j->ij", mg.tensor(MASK[0]), mg.tensor(MASK[1]))
    np.testing.assert_array_equal(outer.data, np.outer(MASK[0], MASK[1]))


def test_einsum_refuses_a_bool_contraction_of_several_operands():
    with pytest.raises(TypeError, match=r"einsum: 'i,i->' multiplies bool.*'i'.*\.long\(\)"):
        mg.einsum("i,i->", mg.tensor(MASK[0]), mg.tensor(MASK[1]))


def test_einsum_of_floats_is_unchanged():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert mg.gradcheck(lambda a: mg.einsum("ij->j", a), [x])


# -- 2. randint checks the range against the dtype ------------------------------------------

@pytest.mark.parametrize("low, high, dtype, words", [
    (0, 1000, mg.uint8, r"\[0, 1000\) does not fit dtype uint8.*0 to 255"),
    (-200, 0, mg.int8, r"\[-200, 0\) does not fit dtype int8.*-128 to 127"),
    (0, 5, mg.bool, r"\[0, 5\) does not fit dtype bool.*randint\(0, 2"),
    (-1, 5, mg.uint8, "does not fit dtype uint8"),
])
def test_randint_refuses_a_range_the_dtype_cannot_hold(low, high, dtype, words):
    with pytest.raises(ValueError, match="randint: .*" + words):
        mg.randint(low, high, (5,), dtype=dtype)


def test_randint_at_the_edges_of_a_dtype_draws_inside_it():
    mg.manual_seed(0)
    draws = mg.randint(0, 256, (2000,), dtype=mg.uint8).data
    assert draws.dtype == np.uint8 and draws.max() > 200
    flags = mg.randint(0, 2, (100,), dtype=mg.bool).data
    assert flags.dtype == np.bool_ and flags.any() and not flags.all()
    assert mg.randint(-128, 128, (5,), dtype=mg.int8).dtype == np.int8


def test_randint_beyond_int64_names_the_range():
    with pytest.raises(ValueError, match=r"randint: the range \[0, 18446744073709551616\) "
                                         r"does not fit int64.*high <= 2\*\*63"):
        mg.randint(0, 2**64, (2,))


# -- 3. masked_fill: a 0-d tensor value is checked; integers compared exactly ---------------

def test_masked_fill_checks_a_tensor_value_too():
    x = mg.ones(2, dtype=mg.float16)
    mask = mg.tensor([True, False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="masked_fill: the value 100000 .*float16"):
            x.masked_fill(mask, mg.tensor(100000))
        with pytest.raises(ValueError, match="masked_fill: the value nan .*int64"):
            mg.tensor([1, 2]).masked_fill(mask, mg.tensor(float("nan")))
        np.testing.assert_array_equal(x.masked_fill(mask, mg.tensor(float("inf"))).data,
                                      [np.inf, 1])


def test_masked_fill_takes_the_largest_integers_exactly():
    mask = mg.tensor([True, False])
    assert mg.tensor([1, 2]).masked_fill(mask, 2**63 - 1).data[0] == 2**63 - 1
    big = mg.tensor(np.array([1, 2], np.uint64)).masked_fill(mask, 2**64 - 1)
    assert big.data[0] == 2**64 - 1
    with pytest.raises(ValueError, match="masked_fill: the value 9223372036854775808"):
        mg.tensor([1, 2]).masked_fill(mask, 2**63)


def test_masked_fill_refuses_a_huge_integer_clearly():
    with pytest.raises(ValueError, match="masked_fill: the value 1000.* float32 without "
                                         "overflow"):
        mg.tensor([1.0, 2.0]).masked_fill(mg.tensor([True, False]), 10**400)
    out = mg.tensor([1.0, 2.0]).masked_fill(mg.tensor([True, False]), 2**70)
    assert out.dtype == np.float32 and out.data[0] == np.float32(2.0**70)


# -- 4. .to with device names, non_blocking and copy ----------------------------------------

@pytest.mark.parametrize("where", ["cpu:0", "cpu:3", mg.device("cpu", 0), mg.device("cpu:1")])
def test_to_accepts_every_cpu_device_name(where):
    x = mg.ones(2)
    assert x.to(where) is x
    assert x.to(where, mg.float64).dtype == np.float64
    assert x.to(device=where) is x
    model = nn.Linear(2, 2)
    assert model.to(where) is model and model.weight.dtype == np.float32


def test_to_accepts_non_blocking_and_copy():
    x = mg.ones(2)
    assert x.to("cpu", non_blocking=True) is x
    assert x.to(mg.float64, non_blocking=True).dtype == np.float64
    assert x.to(mg.float64, True).dtype == np.float64  # PyTorch's positions: non_blocking
    copied = x.to(mg.float32, False, True)  # ... then copy
    assert copied is not x and not np.shares_memory(copied.data, x.data)
    model = nn.Linear(2, 2)
    assert model.to("cpu:0", non_blocking=True) is model
    with pytest.raises(TypeError, match="Module.to: does not accept a copy argument"):
        model.to("cpu", copy=True)


@pytest.mark.parametrize("where", ["cuda:0", "mps", mg.device("cuda", 1), 0])
def test_to_refuses_other_devices_with_the_cpu_only_message(where):
    with pytest.raises(ValueError, match="to: minigrad runs on the CPU only"):
        mg.ones(2).to(where)
    with pytest.raises(ValueError, match="to: minigrad runs on the CPU only"):
        nn.Linear(2, 2).to(where)


# -- 5. factories take device= ---------------------------------------------------------------

x2 = mg.ones(2)
FACTORIES = {
    "zeros": lambda d: mg.zeros(2, device=d), "ones": lambda d: mg.ones(2, device=d),
    "full": lambda d: mg.full((2,), 1.0, device=d), "randn": lambda d: mg.randn(2, device=d),
    "rand": lambda d: mg.rand(2, device=d), "tensor": lambda d: mg.tensor([1.0], device=d),
    "arange": lambda d: mg.arange(3, device=d), "linspace": lambda d: mg.linspace(0, 1, 3,
                                                                               device=d),
    "eye": lambda d: mg.eye(2, device=d), "randint": lambda d: mg.randint(0, 3, (2,), device=d),
    "zeros_like": lambda d: mg.zeros_like(x2, device=d),
    "ones_like": lambda d: mg.ones_like(x2, device=d),
    "new_zeros": lambda d: x2.new_zeros(2, device=d),
    "new_ones": lambda d: x2.new_ones(2, device=d),
    "new_empty": lambda d: x2.new_empty(2, device=d),
    "new_full": lambda d: x2.new_full((2,), 1.0, device=d),
    "new_tensor": lambda d: x2.new_tensor([1.0], device=d),
}


@pytest.mark.parametrize("op", sorted(FACTORIES))
def test_factories_take_a_cpu_device_and_refuse_others(op):
    for where in (None, "cpu", "cpu:0", mg.device("cpu"), mg.device("cpu", 1)):
        assert FACTORIES[op](where).device == "cpu"
    for where in ("cuda", "cuda:0", mg.device("mps"), 0):
        with pytest.raises(ValueError, match=f"{op}: minigrad runs on the CPU only"):
            FACTORIES[op](where)
    with pytest.raises(ValueError, match=f"{op}: device: expected one of cpu"):
        FACTORIES[op]("tpu")


# -- 6. fix hints that suggested invalid calls ----------------------------------------------

def test_repeat_hint_suggests_a_valid_call():
    with pytest.raises(TypeError, match=r"repeat: sizes must be ints.*x\.repeat\(2, 1\)"):
        mg.ones(2).repeat(2, 1.5)
    assert mg.ones(2).repeat(2, 1).shape == (2, 2)  # the suggested call works


def test_randint_shape_hint_suggests_a_valid_call():
    with pytest.raises(ValueError, match=r"randint: .*Fix: e\.g\. randint\(0, 10, \(3,\)\)"):
        mg.randint(0, 10, (-1,))
    assert mg.randint(0, 10, (3,)).shape == (3,)


def test_full_and_new_shape_hints_suggest_valid_calls():
    with pytest.raises(ValueError, match=r"full: .*Fix: e\.g\. full\(\(2, 3\), 0\.5\)"):
        mg.full(-1, 0.5)
    with pytest.raises(ValueError, match=r"new_zeros: .*Fix: e\.g\. x\.new_zeros\(2, 3\)"):
        mg.ones(2).new_zeros(-1)


def test_device_with_the_index_twice_says_so():
    with pytest.raises(ValueError, match=r"device: the type string 'cuda:0' already includes "
                                         r"an index, and index=0 was passed as well"):
        mg.device("cuda:0", 0)
    assert mg.device("cpu", 0) == "cpu:0" and mg.device(mg.device("cpu"), 2).index == 2
    assert pickle.loads(pickle.dumps(mg.device("cpu", 0))) == "cpu:0"


# -- 7. keywords PyTorch accepts ---------------------------------------------------------------

def test_split_and_chunk_keywords_and_module_functions():
    x = mg.tensor(np.arange(5.0))
    assert [p.shape for p in x.split(split_size=2)] == [(2,), (2,), (1,)]
    assert [p.shape for p in mg.split(x, split_size_or_sections=[1, 4])] == [(1,), (4,)]
    assert [p.shape for p in mg.chunk(x, chunks=2, dim=0)] == [(3,), (2,)]
    assert "split" in mg.__all__ and "chunk" in mg.__all__
    with pytest.raises(TypeError, match="split: expected the piece size .* both"):
        x.split(2, split_size=2)


def test_randint_keywords():
    assert mg.randint(low=0, high=10, size=(3,)).shape == (3,)
    assert mg.randint(high=10, size=(3,)).data.max() < 10
    draws = mg.randint(5, high=7, size=(50,)).data
    assert draws.min() >= 5 and draws.max() <= 6
    with pytest.raises(TypeError, match="randint: low and high given more than once"):
        mg.randint(0, 10, high=10, size=(3,))


def test_new_and_factories_take_size_by_keyword():
    x = mg.ones(2, dtype=mg.float64)
    assert x.new_zeros(size=(2, 3)).shape == (2, 3) and x.new_zeros(size=(2, 3)).dtype == x.dtype
    assert x.new_ones(size=[1, 2]).shape == (1, 2) and x.new_empty(size=(4,)).shape == (4,)
    assert mg.zeros(size=(2, 3)).shape == (2, 3) and mg.randn(size=(2,)).shape == (2,)
    with pytest.raises(TypeError, match="zeros: the shape was given twice"):
        mg.zeros(2, size=(2,))


# -- 8. linspace's ends; silu at -inf ----------------------------------------------------------

def test_linspace_refuses_ends_the_dtype_cannot_hold():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="linspace: end=1e\\+40 cannot be converted to "
                                             "float32 without overflow"):
            mg.linspace(0, 1e40, 3)
        with pytest.raises(ValueError, match="linspace: end=300.* uint8"):
            mg.linspace(0, 300, 3, dtype=mg.uint8)
        assert mg.linspace(0, 1e40, 3, dtype=mg.float64).data[-1] == 1e40


@pytest.mark.parametrize("start, end", [(0, float("inf")), (float("-inf"), 0),
                                        (0, float("nan"))])
def test_linspace_refuses_non_finite_ends(start, end):
    with pytest.raises(ValueError, match="linspace: (start|end) must be finite"):
        mg.linspace(start, end, 3)


def test_silu_at_minus_inf_is_nan_without_a_warning():
    x = mg.tensor([-np.inf, np.inf, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.silu(x)
        out.sum().backward()
    assert np.isnan(out.data[0]) and out.data[1] == np.inf
    assert np.isnan(x.grad[0]) and np.isnan(x.grad[1])


# -- against PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("equation, dtype", [("ij->j", "bool"), ("ij->", "uint8"),
                                             ("ij->i", "int32"), ("ii->", "bool"),
                                             ("ij->ji", "bool"), ("ij->ji", "int32"),
                                             ("ij->j", "int8")])
def test_einsum_dtypes_match_pytorch(equation, dtype):
    torch = pytest.importorskip("torch")
    data = (MASK * 100).astype(dtype)
    ours = mg.einsum(equation, mg.tensor(data))
    theirs = torch.einsum(equation, torch.from_numpy(data))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_randint_refusals_match_pytorch():
    torch = pytest.importorskip("torch")
    for low, high, ours, theirs in [(0, 1000, mg.uint8, torch.uint8),
                                    (-200, 0, mg.int8, torch.int8),
                                    (0, 5, mg.bool, torch.bool)]:
        with pytest.raises(RuntimeError, match="out of bounds"):
            torch.randint(low, high, (5,), dtype=theirs)
        with pytest.raises(ValueError, match="does not fit"):
            mg.randint(low, high, (5,), dtype=ours)
    assert torch.randint(0, 256, (2,), dtype=torch.uint8).dtype == torch.uint8


def test_devices_match_pytorch():
    torch = pytest.importorskip("torch")
    x = mg.ones(2)
    for where in (torch.device("cpu"), torch.device("cpu", 0), "cpu:0"):
        assert torch.ones(2).to(where).device.type == "cpu"
        assert x.to(where) is x and mg.zeros(2, device=where).device == "cpu"
        assert mg.device(where).type == "cpu"
    assert nn.Linear(2, 2).to(torch.device("cpu"), non_blocking=True).weight.dtype == np.float32
    with pytest.raises(ValueError, match="to: minigrad runs on the CPU only"):
        x.to(torch.device("cuda"))
    with pytest.raises(ValueError, match="zeros: minigrad runs on the CPU only"):
        mg.zeros(2, device=torch.device("cuda", 0))
    with pytest.raises(RuntimeError, match="must not include an index"):
        torch.device("cuda:0", 0)
    with pytest.raises(RuntimeError, match="does not accept copy"):
        torch.nn.Linear(2, 2).to("cpu", copy=True)


def test_keywords_match_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.arange(5.0)
    assert [p.shape[0] for p in t.split(split_size=2)] == [2, 2, 1]
    assert [p.shape[0] for p in torch.split(t, split_size_or_sections=2)] == [2, 2, 1]
    assert torch.randint(low=0, high=10, size=(3,)).shape == (3,)
    assert torch.randint(high=10, size=(3,)).shape == (3,)
    assert t.new_zeros(size=(2, 3)).shape == (2, 3)


def test_masked_fill_and_linspace_match_pytorch():
    torch = pytest.importorskip("torch")
    mask = torch.tensor([True, False])
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.ones(2, dtype=torch.float16).masked_fill(mask, torch.tensor(100000))
    assert torch.tensor([1, 2]).masked_fill(mask, 2**63 - 1)[0] == 2**63 - 1
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.linspace(0, 1e40, 3)
    assert torch.isnan(torch.linspace(0, float("inf"), 3)).all()  # we refuse this instead
    ours = F.silu(mg.tensor([-np.inf, 0.5]))
    theirs = torch.nn.functional.silu(torch.tensor([-np.inf, 0.5]))
    np.testing.assert_allclose(ours.data, theirs.numpy(), equal_nan=True)


@pytest.mark.parametrize("value", [127.9, 127.5, -128.5, -128.9, 255.5])
def test_a_value_that_fits_only_once_truncated_is_refused_as_by_pytorch(value):
    # Regression: masked_fill truncated first (127.9 -> 127 fits int8) and so wrote 127
    # where PyTorch refuses ("value cannot be converted to type int8_t without overflow"),
    # as fill_ already did; linspace's ends follow the same rule
    x = mg.zeros(2, dtype=mg.int8)
    with pytest.raises(ValueError, match="masked_fill: the value .* int8 without overflow"):
        x.masked_fill(mg.tensor([True, False]), value)
    with pytest.raises(ValueError, match="fill_: .* does not fit the tensor's dtype int8"):
        x.fill_(value)
    with pytest.raises(ValueError, match="linspace: end=.* int8 without overflow"):
        mg.linspace(0, value, 3, dtype=mg.int8)
    assert x.masked_fill(mg.tensor([True, False]), math.trunc(value) if abs(value) < 128
                         else 0).dtype == np.int8  # the whole numbers in range still fit
    assert x.masked_fill(mg.tensor([True, False]), 127.0).tolist() == [127, 0]
    assert mg.zeros(2, dtype=mg.int8).fill_(-128.0).tolist() == [-128, -128]
