"""Utilities around modules: the bridge to PyTorch (`to_torch`, `state_dict_to_torch`)."""

from minigrad.nn.utils.torch_bridge import state_dict_to_torch, to_torch

__all__ = ["state_dict_to_torch", "to_torch"]
