"""Unrolled GANs (Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled generative adversarial
networks"): G's loss is taken against the discriminator *after* k further optimisation steps of D,
and differentiated through those steps, so that G sees how D would react to its move (a
surrogate of ``max_D`` in the minimax game) and is discouraged from hopping between modes.

The unrolled steps run functionally: D's parameters are tensors passed to
``torch.func.functional_call``, each step's gradient is taken with ``create_graph=True``, and the
updated tensors depend on G through the generated samples of every unrolled minibatch. The real
D and its optimizer are never changed (the start point is a detached copy of D's parameters).

Update rules:

* ``adam`` (what Metz et al. unroll; used when D's optimizer is Adam): Adam's update with the
  optimizer's moment estimates and step count copied, then evolved along the unrolled steps.
  ``sqrt(v_hat)`` is taken of ``v_hat`` clamped at 1e-30 so that a zero gradient does not make
  the second-order gradient infinite; otherwise the same update as ``torch.optim.Adam``.
* ``sgd`` (any other optimizer): plain gradient descent with D's current learning rate, no
  momentum: ``theta <- theta - lr_d * grad``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.func import functional_call

Params = dict[str, Tensor]


class _Method(nn.Module):
    """``forward`` calls ``module.<name>``, so that ``functional_call`` can run any method."""

    def __init__(self, module: nn.Module, name: str):
        super().__init__()
        self.inner = module
        self.name = name

    def forward(self, *args):
        return getattr(self.inner, self.name)(*args)


class FunctionalDiscriminator:
    """D with its parameters replaced by ``params`` (name -> tensor, as ``named_parameters``).

    Callable like D (``(n, dim) -> (n', 1)``) and, where D has them, ``features``, ``score`` and
    ``identity``; buffers (e.g. ``standardize``'s shift and scale) are D's own."""

    def __init__(self, module: nn.Module, params: Params):
        self.module = module
        self.params = params
        self.standardize = getattr(module, "standardize", None)
        self._prefixed = {f"inner.{k}": v for k, v in params.items()}
        self._methods: dict[str, _Method] = {}

    def __call__(self, x: Tensor) -> Tensor:
        return functional_call(self.module, self.params, (x,))

    def _call(self, name: str, *args) -> Tensor:
        if not hasattr(self.module, name):
            raise AttributeError(f"the discriminator has no '{name}' method")
        if name not in self._methods:
            self._methods[name] = _Method(self.module, name)
        return functional_call(self._methods[name], self._prefixed, args)

    def features(self, x: Tensor) -> Tensor:
        return self._call("features", x)

    def score(self, features: Tensor) -> Tensor:
        return self._call("score", features)

    def identity(self, features: Tensor) -> Tensor:
        return self._call("identity", features)


@dataclass
class UpdateRule:
    """How an unrolled step moves D's parameters: ``kind`` "sgd" or "adam", the learning rate,
    and for Adam its betas, eps and per-parameter state (``exp_avg``, ``exp_avg_sq``, ``step``)."""

    kind: str
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    state: dict[str, dict[str, Tensor]] = field(default_factory=dict)


def sgd_update(params: Params, grads: Params, lr: float) -> Params:
    """``theta - lr * grad`` for every parameter."""
    return {k: p - lr * grads[k] for k, p in params.items()}


def adam_update(
    params: Params,
    grads: Params,
    state: dict[str, dict[str, Tensor]],
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> tuple[Params, dict[str, dict[str, Tensor]]]:
    """One Adam step (Kingma & Ba 2015, Algorithm 1, bias-corrected as ``torch.optim.Adam``);
    differentiable in ``params`` and ``grads``. Missing state starts at zero moments, step 0.
    Returns the new parameters and the new state (the given state is not modified)."""
    b1, b2 = betas
    new_params, new_state = {}, {}
    for k, p in params.items():
        g = grads[k]
        s = state.get(k, {})
        m = s.get("exp_avg", torch.zeros_like(p).detach())
        v = s.get("exp_avg_sq", torch.zeros_like(p).detach())
        t = float(s["step"]) + 1.0 if "step" in s else 1.0
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        new_params[k] = p - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps)
        new_state[k] = {"exp_avg": m, "exp_avg_sq": v, "step": torch.tensor(t)}
    return new_params, new_state


def rule_from_optimizer(optimizer: torch.optim.Optimizer, module: nn.Module) -> UpdateRule:
    """The unrolled update matching D's optimizer at its current learning rate: Adam with its
    state copied (detached), anything else plain SGD."""
    group = optimizer.param_groups[0]
    lr = float(group["lr"])
    if not isinstance(optimizer, torch.optim.Adam):
        return UpdateRule("sgd", lr)
    state = {}
    for name, p in module.named_parameters():
        s = optimizer.state.get(p, {})
        if s:
            state[name] = {k: v.detach().clone() for k, v in s.items() if torch.is_tensor(v)}
    return UpdateRule("adam", lr, tuple(group["betas"]), float(group["eps"]), state)


DLossFn = Callable[[FunctionalDiscriminator, Tensor, Tensor], Tensor]


def unroll(
    d_loss: DLossFn,
    discriminator: nn.Module,
    batches: Sequence[tuple[Tensor, Tensor]],
    rule: UpdateRule,
    clip: float | None = None,
) -> FunctionalDiscriminator:
    """D after ``len(batches)`` unrolled steps, as a `FunctionalDiscriminator`.

    ``d_loss(d, real, fake)`` is D's scalar loss for the view ``d`` (the `Game`'s, with ``fake``
    not detached); ``batches`` are ``(real, fake)`` minibatches, one fresh pair per step, whose
    ``fake`` carries G's graph; ``clip`` clamps the parameters after each step (WGAN). With no
    batches the view has D's current parameters (detached)."""
    params = {
        k: p.detach().requires_grad_(p.requires_grad) for k, p in discriminator.named_parameters()
    }
    names = [k for k, p in params.items() if p.requires_grad]
    state = rule.state
    for real, fake in batches:
        view = FunctionalDiscriminator(discriminator, params)
        loss = d_loss(view, real, fake)
        grads = torch.autograd.grad(
            loss, [params[k] for k in names], create_graph=True, allow_unused=True
        )
        # as torch.optim does, a parameter without a gradient (an unused head) is left alone
        grads = {k: g for k, g in zip(names, grads) if g is not None}
        trainable = {k: params[k] for k in grads}
        if rule.kind == "adam":
            trainable, moved = adam_update(trainable, grads, state, rule.lr, rule.betas, rule.eps)
            state = {**state, **moved}
        elif rule.kind == "sgd":
            trainable = sgd_update(trainable, grads, rule.lr)
        else:
            raise ValueError(f"unknown unrolled update rule '{rule.kind}'; known: sgd, adam")
        if clip is not None:
            trainable = {k: p.clamp(-clip, clip) for k, p in trainable.items()}
        params = {**params, **trainable}
    return FunctionalDiscriminator(discriminator, params)
