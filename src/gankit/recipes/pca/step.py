"""Probabilistic PCA's side of the loop: one phase that lands on the closed-form fit.

The fit is closed form (`gankit.game.pca.ppca_fit` on the fit set's moments, computed once
before the run claims its directory), yet it runs on the one loop like every family: each step's
``accumulate_gradients`` writes ``p.grad = p - p*`` for every parameter ``p`` and its target
``p*``, and the phase's optimizer is plain SGD at learning rate 1, so the loop's own
``optimizer.step`` (``p <- p - 1 * (p - p*)``) lands on ``p*`` (exactly from 0, to rounding
from elsewhere). The first step fits; later steps find a zero gradient, to rounding (the logged
``grad_norm`` is the size of the step's move). Logged: ``loss`` (minus
``train_log_likelihood``), ``train_log_likelihood`` (the fit set's mean exact log-density at the
fitted parameters, nats per example, `gankit.game.pca.gaussian_mean_log_likelihood`) and
``sigma2``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.eval import EvalState
from gankit.train.trainable import SingleModelTrainable


def closed_form_step(module: nn.Module, targets: dict[str, Tensor]) -> float:
    """Write ``p.grad = p - target`` for each of ``module``'s named parameters; returns the
    L2 distance still to go (what SGD at rate 1 then moves)."""
    total = 0.0
    for name, p in module.named_parameters():
        target = targets[name].to(p)
        p.grad = p.detach() - target
        total += float(p.grad.double().square().sum())
    return total**0.5


def rate_one_sgd(module: nn.Module) -> torch.optim.SGD:
    """The closed-form families' optimizer: SGD at rate 1, no momentum (see the module
    docstring)."""
    return torch.optim.SGD(module.parameters(), lr=1.0, momentum=0.0)


class PcaTrainable(SingleModelTrainable):
    """Probabilistic PCA ``model`` moved onto ``targets`` (its parameters' closed-form values)
    by the loop; ``train_log_likelihood``: the fit set's mean log-density there;
    ``heldout_metrics()``: the held-out ``log_likelihood`` of an evaluation."""

    progress = (("ll", "train_log_likelihood"),)

    def __init__(
        self, model, targets: dict[str, Tensor], train_log_likelihood, heldout_metrics, inputs
    ):
        self.model, self.targets = model, targets
        self.train_log_likelihood = torch.as_tensor(float(train_log_likelihood))
        self.heldout_metrics = heldout_metrics
        self.inputs = inputs  # an image run's shape: it loads without reading its data
        super().__init__(model, rate_one_sgd(model), 1.0, {}, name="pca")

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        closed_form_step(self.model, self.targets)
        ll = self.train_log_likelihood
        return {"loss": -ll, "train_log_likelihood": ll, "sigma2": self.targets["sigma2"].float()}

    def eval_state(self, step: int) -> EvalState:
        """Samples of the current parameters, and the held-out log-likelihood."""
        return EvalState(self.model.sample, step, family_metrics=self.heldout_metrics)
