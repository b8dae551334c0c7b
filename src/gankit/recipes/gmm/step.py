"""The Gaussian mixture's side of the loop: one EM iteration a step (Dempster et al. 1977),
scikit-learn's (`sklearn.mixture.GaussianMixture` with ``warm_start`` and ``max_iter = 1``).

Each step rebuilds scikit-learn's estimator from the module's parameters (so that a resumed run
continues exactly: the checkpoint is the whole state), runs one E-step and M-step on the fit set
(the first step starts from scikit-learn's k-means initialisation, seeded by ``train.seed``),
and writes ``p.grad = p - p_new`` for every parameter: the phase's SGD at rate 1 then moves the
parameters onto the M-step's (`gankit.recipes.pca.step.closed_form_step`), the loop stepping
the optimizer as for every family. Logged: ``train_log_likelihood`` (the fit set's mean log-density
at the step's starting parameters, the E-step's, nats per example; never decreasing after the
first step, EM's guarantee) and ``loss`` (its negative).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import Tensor

from gankit.eval import EvalState
from gankit.nets.gmm import GaussianMixture
from gankit.recipes.pca.step import closed_form_step, rate_one_sgd
from gankit.train.trainable import SingleModelTrainable

#: scikit-learn's names of the parameters, in the module's
SKLEARN_NAMES = {
    "weights": "weights_",
    "means": "means_",
    "covariances": "covariances_",
    "precisions_cholesky": "precisions_cholesky_",
}


def em_iteration(
    model: GaussianMixture, x: np.ndarray, reg_covar: float, seed: int
) -> tuple[dict[str, Tensor], float]:
    """One EM iteration of scikit-learn's `GaussianMixture` from ``model``'s parameters (from
    k-means, seeded by ``seed``, while ``model.fitted`` is 0) on points ``x (N, D)`` float64:
    the M-step's parameters by the module's names, and the mean log-likelihood of ``x`` at the
    parameters the iteration started from."""
    from sklearn.exceptions import ConvergenceWarning  # heavy import (~1 s): only the mixture
    from sklearn.mixture import GaussianMixture as SkMixture  # heavy import: only the mixture

    gm = SkMixture(
        n_components=model.components,
        covariance_type=model.covariance,
        reg_covar=reg_covar,
        max_iter=1,
        tol=0.0,
        warm_start=True,
        random_state=seed,
    )
    if int(model.fitted):
        for name, attr in SKLEARN_NAMES.items():
            setattr(gm, attr, getattr(model, name).detach().cpu().numpy().copy())
        gm.precisions_ = None  # recomputed by the M-step; the E-step reads the Cholesky factors
        gm.converged_ = False
        gm.lower_bound_ = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one iteration never "converges"
        gm.fit(x)
    targets = {name: torch.from_numpy(getattr(gm, attr)) for name, attr in SKLEARN_NAMES.items()}
    return targets, float(gm.lower_bound_)


class GmmTrainable(SingleModelTrainable):
    """``model`` fitted by EM on ``points`` (flattened, float64), one iteration a step."""

    progress = (("ll", "train_log_likelihood"),)

    def __init__(self, model: GaussianMixture, points: np.ndarray, config, heldout_metrics, inputs):
        self.model, self.points = model, points
        self.reg_covar = config.section("gmm").reg_covar
        self.seed = config.train.seed
        self.heldout_metrics = heldout_metrics
        self.inputs = inputs  # an image run's shape: it loads without reading its data
        super().__init__(model, rate_one_sgd(model), 1.0, {}, name="gmm")

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        targets, ll = em_iteration(self.model, self.points, self.reg_covar, self.seed)
        closed_form_step(self.model, targets)
        self.model.fitted.fill_(1)
        value = torch.tensor(ll, dtype=torch.float64)
        return {"loss": -value, "train_log_likelihood": value}

    def eval_state(self, step: int) -> EvalState:
        """Samples of the current mixture, and the held-out log-likelihood."""
        return EvalState(self.model.sample, step, family_metrics=self.heldout_metrics)
