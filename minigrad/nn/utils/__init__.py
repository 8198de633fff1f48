"""Utilities around modules: gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) and the
bridge to PyTorch (`to_torch`, `state_dict_to_torch`)."""

from minigrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from minigrad.nn.utils.torch_bridge import state_dict_to_torch, to_torch

__all__ = ["clip_grad_norm_", "clip_grad_value_", "state_dict_to_torch", "to_torch"]
