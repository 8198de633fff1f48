"""Tests of minigrad.nn.init: distributions, fans and gains, errors, and LSUV.

Statistical tests use fixed seeds and the Kolmogorov–Smirnov statistic D against the exact
CDF. The threshold 1.63/√n is the asymptotic critical value for α ≈ 0.01, so a correct
sampler fails a given seed with probability about 1%, while a wrong std or shape of the
distribution (e.g. 5% off in std on n ≈ 20,000 samples) gives D several times larger.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

KS_CRITICAL = 1.63  # √n·D exceeds this with probability ≈ 0.01 under the null hypothesis
SHAPES = [(256, 128), (64, 32, 3, 3)]  # a Linear weight and a Conv2d weight
FANS = {(256, 128): (128, 256), (64, 32, 3, 3): (32 * 9, 64 * 9)}  # (fan_in, fan_out) by hand

_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(x, mean=0.0, std=1.0):
    z = (np.asarray(x, np.float64) - mean) / (std * math.sqrt(2))
    return 0.5 * (1 + np.asarray(_erf(z), np.float64))


def uniform_cdf(x, a, b):
    return np.clip((np.asarray(x, np.float64) - a) / (b - a), 0, 1)


def assert_ks(samples, cdf, what=""):
    x = np.sort(np.asarray(samples, np.float64).ravel())
    n = x.size
    cdf_values = cdf(x)
    ranks = np.arange(1, n + 1)
    d = max(np.max(ranks / n - cdf_values), np.max(cdf_values - (ranks - 1) / n))
    assert d < KS_CRITICAL / math.sqrt(n), f"{what}: KS D = {d:.4f} with n = {n}"


def assert_moments(samples, std, kurtosis):
    """Mean 0 and std `std` within 5 standard errors: SE(mean) = σ/√n and
    SE(std) ≈ σ·√((κ − 1)/(4n)) for kurtosis κ (3 for a normal, 1.8 for a uniform)."""
    x = np.asarray(samples, np.float64).ravel()
    n = x.size
    assert abs(x.mean()) < 5 * std / math.sqrt(n)
    assert abs(x.std() - std) < 5 * std * math.sqrt((kurtosis - 1) / (4 * n))


def rng(seed=0):
    return np.random.default_rng(seed)


# -- fans and gains -------------------------------------------------------------------------

@pytest.mark.parametrize("shape, fans", [((3, 5), (5, 3)), ((4, 3, 2), (6, 8)),
                                         ((8, 4, 3, 5), (60, 120)), ((2, 3, 1, 2, 2), (12, 8))])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(mg.zeros(shape)) == fans


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dimensions(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.zeros(shape))


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"])
def test_gain_one(name):
    assert init.calculate_gain(name) == 1


@pytest.mark.parametrize("name, param, gain", [
    ("tanh", None, 5 / 3), ("relu", None, 1.4142135623730951), ("selu", None, 0.75),
    ("leaky_relu", None, 1.4141428569978354),  # √(2/1.0001)
    ("leaky_relu", 0.2, 1.3867504905630728),  # √(2/1.04)
    ("leaky_relu", 0, 1.4142135623730951), ("leaky_relu", 1, 1.0),
    ("leaky_relu", math.sqrt(5), 0.5773502691896258),  # √(2/6): PyTorch's Linear default
])
def test_gains(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-12)


@pytest.mark.parametrize("name, param, message", [
    ("swish", None, "Unsupported nonlinearity swish"), ("ReLU", None, "Unsupported"),
    ("leaky_relu", "0.1", "not a valid number"), ("leaky_relu", True, "not a valid number")])
def test_gain_errors(name, param, message):
    with pytest.raises(ValueError, match=message):
        init.calculate_gain(name, param)


# -- distributions --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_and_normal(shape):
    t = init.uniform_(mg.zeros(shape), -0.5, 1.5, generator=rng(1))
    assert_ks(t.data, lambda x: uniform_cdf(x, -0.5, 1.5), "uniform_")
    t = init.normal_(mg.zeros(shape), 0.3, 2.0, generator=rng(2))
    assert_ks(t.data, lambda x: normal_cdf(x, 0.3, 2.0), "normal_")
    assert_moments(t.data - 0.3, 2.0, kurtosis=3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(shape, gain):
    fan_in, fan_out = FANS[shape]
    std = gain * math.sqrt(2 / (fan_in + fan_out))  # Glorot & Bengio 2010, eq. 16
    bound = math.sqrt(3) * std
    t = init.xavier_uniform_(mg.zeros(shape), gain=gain, generator=rng(3))
    assert np.abs(t.data).max() <= bound
    assert_ks(t.data, lambda x: uniform_cdf(x, -bound, bound), "xavier_uniform_")
    assert_moments(t.data, std, kurtosis=1.8)
    t = init.xavier_normal_(mg.zeros(shape), gain=gain, generator=rng(4))
    assert_ks(t.data, lambda x: normal_cdf(x, 0, std), "xavier_normal_")
    assert_moments(t.data, std, kurtosis=3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a, mode, nonlinearity, gain", [
    (0, "fan_in", "leaky_relu", math.sqrt(2)), (0, "fan_in", "relu", math.sqrt(2)),
    (0.2, "fan_out", "leaky_relu", math.sqrt(2 / 1.04)), (0, "FAN_OUT", "tanh", 5 / 3),
    (math.sqrt(5), "fan_in", "leaky_relu", math.sqrt(1 / 3))])
def test_kaiming(shape, a, mode, nonlinearity, gain):
    fan_in, fan_out = FANS[shape]
    std = gain / math.sqrt(fan_in if mode.lower() == "fan_in" else fan_out)  # He et al., eq. 10
    bound = math.sqrt(3) * std
    t = init.kaiming_uniform_(mg.zeros(shape), a, mode, nonlinearity, generator=rng(5))
    assert np.abs(t.data).max() <= bound
    assert_ks(t.data, lambda x: uniform_cdf(x, -bound, bound), "kaiming_uniform_")
    assert_moments(t.data, std, kurtosis=1.8)
    t = init.kaiming_normal_(mg.zeros(shape), a, mode, nonlinearity, generator=rng(6))
    assert_ks(t.data, lambda x: normal_cdf(x, 0, std), "kaiming_normal_")
    assert_moments(t.data, std, kurtosis=3)


def test_linear_default_init_is_kaiming_uniform_sqrt5():
    layer = nn.Linear(300, 20)
    bound = 1 / math.sqrt(300)
    assert np.abs(layer.weight.data).max() <= bound
    assert_ks(layer.weight.data, lambda x: uniform_cdf(x, -bound, bound), "Linear default")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 0.0, 3.0), (0.0, 1.0, 4.0, 6.0),  # far upper tail
    (2.0, 3.0, -25.0, -13.0), (0.0, 0.02, -math.inf, 0.01)])
def test_trunc_normal(shape, mean, std, a, b):
    t = init.trunc_normal_(mg.zeros(shape, dtype=np.float64), mean, std, a, b, generator=rng(7))
    assert t.data.min() >= a and t.data.max() <= b
    low, high = normal_cdf(a, mean, std), normal_cdf(b, mean, std)
    assert_ks(t.data, lambda x: (normal_cdf(x, mean, std) - low) / (high - low), "trunc_normal_")


def test_trunc_normal_deep_tail():
    # Φ(9) and Φ(10) both round to 1.0 in double precision: only the tail form
    # S(z) = erfc(z/√2)/2 can describe [9, 10], for the sampler and for this reference CDF.
    tail = np.frompyfunc(lambda z: 0.5 * math.erfc(z / math.sqrt(2)), 1, 1)
    t = init.trunc_normal_(mg.zeros(20000, dtype=np.float64), a=9.0, b=10.0, generator=rng(19))
    assert t.data.min() >= 9.0 and t.data.max() <= 10.0
    s_a, s_b = tail(9.0), tail(10.0)
    assert_ks(t.data, lambda x: np.asarray((s_a - tail(x)) / (s_a - s_b), np.float64), "tail")


def test_trunc_normal_float32_stays_in_bounds():
    t = init.trunc_normal_(mg.zeros(64, 64), std=3.0, a=-1.0, b=0.5, generator=rng(8))
    assert t.dtype == np.float32 and t.data.min() >= -1.0 and t.data.max() <= 0.5


# -- orthogonal -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(40, 10), (10, 40), (16, 16), (8, 4, 3, 3), (64, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2)])
@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_orthogonal_is_orthogonal(shape, gain, dtype, atol):
    t = init.orthogonal_(mg.zeros(shape, dtype=dtype), gain=gain, generator=rng(9))
    q = t.data.reshape(shape[0], -1).astype(np.float64)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T  # QᵀQ (tall) or QQᵀ (wide)
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=atol)


@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 3), (2, 3, 1, 1)])
def test_orthogonal_is_uniformly_distributed(shape):
    # A column (or row) of length 3 of a Haar-random orthogonal matrix is uniform on the
    # sphere S², and a coordinate of a uniform point on S² is U(−1, 1) (Archimedes).
    # Without the sign correction of diag(R), QR's convention makes entry 0 one-signed.
    generator = rng(10)
    first = np.array([init.orthogonal_(mg.zeros(shape, dtype=np.float64), gain=2.0,
                                       generator=generator).data.flat[0] for _ in range(1500)])
    assert_ks(first, lambda x: uniform_cdf(x, -2.0, 2.0), f"orthogonal_ {shape}")


# -- sparse, eye, dirac, constants ------------------------------------------------------------

def test_sparse_zeros_per_column_and_values():
    rows, cols, sparsity, std = 200, 300, 0.25, 0.05
    t = init.sparse_(mg.zeros(rows, cols, dtype=np.float64), sparsity, std, generator=rng(11))
    assert ((t.data == 0).sum(axis=0) == math.ceil(sparsity * rows)).all()
    nonzero = t.data[t.data != 0]
    assert_ks(nonzero, lambda x: normal_cdf(x, 0, std), "sparse_ nonzero values")
    assert_moments(nonzero, std, kurtosis=3)


def test_sparse_zero_rows_are_uniform_over_rows():
    # Each row is zeroed in a column with probability k/rows, independently across columns:
    # its count over the columns is Binomial(cols, k/rows). 5 σ for each of 20 rows.
    rows, cols, sparsity = 20, 4000, 0.3
    t = init.sparse_(mg.zeros(rows, cols), sparsity, generator=rng(12))
    p = math.ceil(sparsity * rows) / rows
    counts = (t.data == 0).sum(axis=1)
    assert np.abs(counts - cols * p).max() < 5 * math.sqrt(cols * p * (1 - p))


@pytest.mark.parametrize("sparsity, zeros", [(0.0, 0), (0.1, 3), (1.0, 25)])
def test_sparse_count_is_ceil(sparsity, zeros):
    t = init.sparse_(mg.zeros(25, 7), sparsity, generator=rng(13))
    assert ((t.data == 0).sum(axis=0) == zeros).all()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye(shape):
    np.testing.assert_array_equal(init.eye_(mg.ones(shape)).data, np.eye(*shape))


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((6, 2, 3), 2), ((2, 4, 5, 3), 1),
                                           ((6, 3, 3, 3), 3), ((4, 2, 3, 3, 3), 1)])
def test_dirac_positions(shape, groups):
    t = init.dirac_(mg.ones(shape), groups)
    expected = np.zeros(shape)
    per_group = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            expected[(g * per_group + d, d) + centre] = 1
    np.testing.assert_array_equal(t.data, expected)


@pytest.mark.parametrize("groups", [1, 2])
def test_dirac_convolution_is_identity(groups):
    channels = 4
    weight = init.dirac_(mg.zeros(channels, channels // groups, 3, 3), groups)
    x = mg.randn(2, channels, 5, 6, generator=rng(14))
    per_group = channels // groups
    outputs = [mg.ops.conv2d(mg.tensor(x.data[:, g * per_group:(g + 1) * per_group]),
                             mg.tensor(weight.data[g * per_group:(g + 1) * per_group]), padding=1)
               for g in range(groups)]
    np.testing.assert_allclose(np.concatenate([o.data for o in outputs], axis=1), x.data, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_constants(dtype):
    t = mg.tensor(np.full((3, 4), 7, dtype=dtype))
    assert (init.zeros_(t).data == 0).all() and t.dtype == dtype
    assert (init.ones_(t).data == 1).all() and t.dtype == dtype
    assert (init.constant_(t, 3).data == 3).all() and t.dtype == dtype
    assert (init.constant_(mg.zeros(2, 3, 4), 0.37).data == np.float32(0.37)).all()


# -- common behaviour of every initialiser ----------------------------------------------------

RANDOM_INITS = {
    "uniform_": lambda t, g: init.uniform_(t, generator=g),
    "normal_": lambda t, g: init.normal_(t, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
    "sparse_": lambda t, g: init.sparse_(t, 0.5, generator=g),
}
ALL_INITS = {**RANDOM_INITS, "constant_": lambda t, g: init.constant_(t, 0.5),
             "ones_": lambda t, g: init.ones_(t), "zeros_": lambda t, g: init.zeros_(t),
             "eye_": lambda t, g: init.eye_(t), "dirac_": lambda t, g: init.dirac_(t)}


@pytest.mark.parametrize("name", ALL_INITS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_keeps_dtype_and_records_no_graph(name, dtype):
    shape = (6, 3, 3) if name == "dirac_" else (6, 5)
    parameter = nn.Parameter(np.full(shape, 9.0, dtype=dtype))
    array, view = parameter.data, parameter.detach()
    returned = ALL_INITS[name](parameter, rng(15))
    assert returned is parameter and parameter.data is array  # written in place
    assert parameter.dtype == dtype and parameter.shape == shape
    assert (view.data == parameter.data).all() and not (parameter.data == 9).all()
    assert parameter.requires_grad and parameter._op is None and parameter.grad is None


@pytest.mark.parametrize("name", ALL_INITS)
def test_a_graph_that_saved_the_old_values_refuses_its_backward(name):
    # As PyTorch's version counter: initialising between forward and backward used to give
    # gradients computed from the new values, silently.
    shape = (4, 3, 1, 1) if name == "dirac_" else (4, 3)
    weight = nn.Parameter(np.full(shape, 9.0, np.float32))
    x = mg.randn(2, 4, requires_grad=True)
    out = (x @ weight.reshape(4, 3)).sum()
    ALL_INITS[name](weight, rng(17))
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


@pytest.mark.parametrize("name", RANDOM_INITS)
def test_generator_reproducibility(name):
    first = RANDOM_INITS[name](mg.zeros(8, 6), rng(16)).data
    assert np.array_equal(first, RANDOM_INITS[name](mg.zeros(8, 6), rng(16)).data)
    assert not np.array_equal(first, RANDOM_INITS[name](mg.zeros(8, 6), rng(17)).data)
    mg.manual_seed(18)
    default = RANDOM_INITS[name](mg.zeros(8, 6), None).data
    mg.manual_seed(18)
    assert np.array_equal(default, RANDOM_INITS[name](mg.zeros(8, 6), None).data)


@pytest.mark.parametrize("name", RANDOM_INITS)
def test_random_init_argument_errors(name):
    with pytest.raises(TypeError, match="Tensor"):
        RANDOM_INITS[name](np.zeros((4, 4)), None)
    with pytest.raises(TypeError, match="floating-point"):
        RANDOM_INITS[name](mg.tensor(np.zeros((4, 4), dtype=np.int64)), None)
    with pytest.raises(TypeError, match="Generator"):
        RANDOM_INITS[name](mg.zeros(4, 4), 42)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.xavier_uniform_(mg.zeros(5)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.xavier_normal_(mg.zeros(5)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.kaiming_normal_(mg.zeros(5)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.kaiming_uniform_(mg.zeros(3, 3), mode="fan_avg"), ValueError,
     r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"),
    (lambda: init.kaiming_normal_(mg.zeros(3, 3), mode="in"), ValueError, "fan_in.*fan_out"),
    (lambda: init.kaiming_uniform_(mg.zeros(3, 3), nonlinearity="gelu"), ValueError,
     "Unsupported nonlinearity gelu"),
    (lambda: init.kaiming_normal_(mg.zeros(3, 3), a="x"), ValueError, "not a valid number"),
    (lambda: init.orthogonal_(mg.zeros(5)), ValueError, "2 or more dimensions"),
    (lambda: init.eye_(mg.zeros(2, 2, 2)), ValueError, "Only tensors with 2 dimensions"),
    (lambda: init.sparse_(mg.zeros(4, 3, 3), 0.5), ValueError, "Only tensors with 2 dimensions"),
    (lambda: init.sparse_(mg.zeros(4, 3), 1.5), ValueError, "sparsity"),
    (lambda: init.dirac_(mg.zeros(3, 3)), ValueError, "3, 4, or 5 dimensions"),
    (lambda: init.dirac_(mg.zeros(5, 2, 3), groups=2), ValueError, "divisible by groups"),
    (lambda: init.dirac_(mg.zeros(4, 2, 3), groups=0), ValueError, "groups"),
    (lambda: init.uniform_(mg.zeros(3), 1.0, 0.0), ValueError, "a <= b"),
    (lambda: init.normal_(mg.zeros(3), std=-1.0), ValueError, "std"),
    (lambda: init.trunc_normal_(mg.zeros(3), std=0.0), ValueError, "std"),
    (lambda: init.trunc_normal_(mg.zeros(3), a=1.0, b=1.0), ValueError, "a < b"),
    (lambda: init.trunc_normal_(mg.zeros(3), a=60.0, b=61.0), ValueError, "probability 0"),
    (lambda: init.constant_([1.0, 2.0], 0.0), TypeError, "Tensor"),
])
def test_documented_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_kaiming_zero_element_tensor_is_a_no_op():
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(mg.zeros(0, 3)).shape == (0, 3)
