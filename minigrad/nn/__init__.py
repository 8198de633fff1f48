"""Neural-network building blocks: modules, layers, losses, normalisation, initialisers."""

from minigrad.nn import functional, init  # noqa: F401
from minigrad.nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from minigrad.nn.module import Module, Parameter, Sequential

__all__ = ["Identity", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh",
           "functional", "init"]
