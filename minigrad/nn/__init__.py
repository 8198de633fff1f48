"""Neural-network building blocks: modules, layers, losses, normalisation, initialisers."""

from minigrad.nn import functional, init, utils  # noqa: F401
from minigrad.nn.containers import ModuleDict, ModuleList, ParameterList
from minigrad.nn.embedding import Embedding
from minigrad.nn.fold import fold_batchnorm
from minigrad.nn.layers import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from minigrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.module import Module, Parameter, Sequential
from minigrad.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm

__all__ = ["Identity", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh",
           "functional", "init"]
__all__ += ["AdaptiveAvgPool2d", "AvgPool2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten",
            "LeakyReLU", "LogSoftmax", "MSELoss", "MaxPool2d", "Softmax"]
__all__ += ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "fold_batchnorm"]
__all__ += ["BCELoss", "BCEWithLogitsLoss", "Embedding", "GELU", "ModuleDict", "ModuleList",
            "NLLLoss", "utils"]
__all__ += ["SiLU"]
__all__ += ["HuberLoss", "L1Loss", "ParameterList", "SmoothL1Loss"]
