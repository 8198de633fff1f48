"""minigrad: a small, readable autograd engine on NumPy, for learning deep learning.

    import minigrad as mg
    x = mg.tensor([[1.0, -2.0]], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()          # x.grad == 2 * x
"""

from minigrad import (
    allocator,  # noqa: E402
    cuda,  # noqa: E402  (mg.cuda.is_available(): False)
    data,  # noqa: E402  (mg.data.DataLoader, TensorDataset)
    nn,  # noqa: E402
    ops,  # noqa: E402  (attaches the op methods to Tensor)
    optim,  # noqa: E402
    viz,  # noqa: E402
)
from minigrad.autograd import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    retain_grads,
    set_grad_enabled,
)
from minigrad.device import device
from minigrad.dtypes import (  # noqa: F401 (mg.float, mg.int, mg.bool: see __all__)
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from minigrad.factories import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.grad_mode import inference_mode
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.ops import (
    abs,
    cat,
    chunk,
    clip,
    einsum,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    pad,
    relu,
    sigmoid,
    split,
    sqrt,
    stack,
    tanh,
    where,
)
from minigrad.ops.cumulative import cumsum, logsumexp  # PyTorch habits, round 12 (4 lines)
from minigrad.ops.ordering import argsort, flip, roll, sort, topk
from minigrad.ops.repeat_interleave import repeat_interleave
from minigrad.ops.triangular import tril, triu
from minigrad.serialization import load, save  # noqa: E402
from minigrad.tensor import Tensor, default_generator, manual_seed
from minigrad.value import Value

__version__ = "0.1.0"

# Importing minigrad changes nothing process-wide: the allocator setting that speeds up
# large training steps is opt-in, `minigrad.allocator.keep_freed_memory()`.

__all__ = [
    "AnomalyError", "GradcheckError", "Tensor", "Value", "abs", "allocator", "arange", "cat",
    "clip",
    "default_generator", "detect_anomaly", "enable_grad", "exp", "from_numpy", "full", "gradcheck",
    "is_grad_enabled", "log", "manual_seed", "matmul", "maximum", "minimum", "no_grad", "ones",
    "nn", "ones_like", "ops", "pad", "rand", "randn", "relu", "retain_grads", "set_grad_enabled",
    "sigmoid", "sqrt",
    "stack", "tanh",
    "tensor", "where", "zeros", "zeros_like", "__version__", "load", "optim", "save", "viz",
    "data", "cuda", "device", "einsum", "eye", "linspace", "randint", "split", "chunk",
    "full_like", "inference_mode",
    # dtypes (the unsized aliases mg.float, mg.int, mg.bool stay out of `import *`: they would
    # shadow Python's builtins)
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "double",
    "half", "long", "short",
    # PyTorch habits, round 12
    "argsort", "cumsum", "flip", "logsumexp", "repeat_interleave", "roll", "sort", "topk",
    "tril", "triu",
]
