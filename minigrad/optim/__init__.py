"""Optimisers: update parameters from their ``.grad`` (PyTorch's update rules, exactly).

    optimizer = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = minigrad.optim.lr_scheduler.StepLR(optimizer, step_size=30)
    for epoch in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        scheduler.step()

Parameters can be split into groups with their own settings, as in PyTorch:
``SGD([{"params": model[0].parameters(), "lr": 0.01}, {"params": model[2].parameters()}], lr=0.1)``.
Updates are made in place on each parameter's array, outside the graph; a large parameter is
updated block by block, so a step never allocates a temporary as large as a parameter
(``minigrad.optim.optimizer.blocks``).
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
