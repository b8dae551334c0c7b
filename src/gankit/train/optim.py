"""The players' optimizers (Algorithm 1 allows any gradient-based rule)."""

from __future__ import annotations

import torch
from torch import nn

from gankit.config import OptimConfig


def make_optimizer(params, lr: float, cfg: OptimConfig) -> torch.optim.Optimizer:
    """SGD with momentum, Adam or RMSprop (``optim.name``), at base learning rate ``lr``."""
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=cfg.beta2)
    raise ValueError(f"unknown optimizer '{cfg.name}'")


def grad_norm(module: nn.Module) -> float:
    """The L2 norm of all of ``module``'s gradients together (0 when it has none)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))
