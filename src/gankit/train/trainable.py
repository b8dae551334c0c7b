"""What a model family hands the loop: a `Trainable`, its state and its phases.

The loop (`gankit.train.loop.Loop`) knows no player. A family (the GAN's Algorithm 1, the VAE's
ELBO, a classifier's cross-entropy) supplies a `Trainable`:

* ``modules``, ``optimizers`` and ``rngs``: what a checkpoint holds, by name (the names are the
  checkpoint's tensor prefixes, so they never change for a family once runs exist);
* ``phases``: the optimizer updates of one training step, in order, each ``repeats`` times (the
  GAN's k D-updates then one G-update; a VAE's one update);
* ``accumulate_gradients(phase, log)``: the family's objective for that phase, which computes
  its loss and calls ``backward`` itself (stylegan2-ada's ``accumulate_gradients(phase)``
  pattern: lazy regularisation, gradient penalties and double backward stay the objective's
  business); the loop zeroes the gradients before, and steps the phase's optimizer after;
* ``after_update(phase, step)``: what follows an update (weight clipping, an EMA);
* ``progress``: which keys of the logged row the progress line shows.

Only the loop calls an optimizer's ``step`` (`tests/train/test_one_loop.py` checks the package).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor, nn

from gankit.data.batch import Batch


@dataclass
class Phase:
    """One optimizer update of a training step.

    ``name`` (``"D"``, ``"G"``, ``"model"``): what `Trainable.accumulate_gradients` is asked
    for; ``optimizer`` and its base learning rate ``lr`` (times the schedule's factor, logged as
    ``lr_key``); ``module``: whose gradient norm a logged step records as ``grad_key``;
    ``repeats``: updates per training step (Algorithm 1's k)."""

    name: str
    optimizer: torch.optim.Optimizer
    module: nn.Module
    lr: float
    lr_key: str = "lr"
    grad_key: str = "grad_norm"
    repeats: int = 1


class Trainable(Protocol):
    """A model family's side of the loop (see the module docstring)."""

    #: the keys of the logged row the progress line shows, as ``(label, key)``
    progress: tuple[tuple[str, str], ...]
    #: the statistics whose non-finite value is a divergence, checked at every step on the CPU
    loss_keys: tuple[str, ...]

    #: optional: what the nets were built for (``source_inputs``), saved in every checkpoint
    #: so that a run loads for sampling without reading its data
    inputs: dict
    #: the random streams by name (each on the device of what it draws)
    rngs: dict[str, torch.Generator]
    #: the optimizer updates of one step, in order
    phases: tuple[Phase, ...]

    @property
    def modules(self) -> dict[str, nn.Module]: ...

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    def begin(self, step: int) -> None:
        """Before the step's first phase (``step`` 0-based): schedules of the objective."""

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        """The phase's loss, its ``backward`` called; returns its statistics (tensors)."""

    def after_update(self, phase: str, step: int) -> None:
        """After the phase's optimizer step (``step`` 0-based, of the step in flight)."""

    def extra_row(self) -> dict[str, float]:
        """Numbers a logged row adds after the statistics (small nets' parameters)."""

    def train(self, mode: bool = True) -> None:
        """Every module in training (or eval) mode."""


class Source(Protocol):
    """What minibatches are drawn from (`gankit.data.sources`); ``device`` (optional, default
    the CPU): where it draws, and so where the stream that draws from it must live."""

    def batch(self, n: int, generator: torch.Generator) -> Batch: ...


def source_device(source) -> torch.device:
    """Where ``source`` draws its minibatches (the CPU unless it says otherwise)."""
    return getattr(source, "device", torch.device("cpu"))


def stream(seed: int, index: int, device) -> torch.Generator:
    """The ``index``-th named random stream of a run of ``seed``, on ``device``: each family
    names its streams in a fixed order, and a checkpoint saves them by name."""
    return torch.Generator(device=device).manual_seed(seed * 7919 + index)


def source_inputs(source) -> dict:
    """What nets built for ``source`` depend on, where it is a dataset of images: ``{"shape":
    [C, H, W], "num_classes": K}``; ``{}`` for points (toys draw cheaply, nothing to spare)."""
    shape = getattr(source, "shape", None)
    if shape is None:
        return {}
    return {"shape": [int(v) for v in shape], "num_classes": int(source.num_classes)}


class SingleModelTrainable:
    """A `Trainable` of one module updated by one optimizer in one phase (a VAE, a feature
    classifier, AdaGAN's ratio classifier): its state, as a checkpoint names it, and the hooks
    such a family leaves empty. A subclass writes `accumulate_gradients`, and `begin` where its
    objective follows a schedule."""

    progress: tuple[tuple[str, str], ...] = (("loss", "loss"),)
    loss_keys: tuple[str, ...] = ("loss",)

    def __init__(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        lr: float,
        rngs: dict[str, torch.Generator],
        name: str = "model",
        phase: str = "model",
    ):
        self.module, self.opt, self.rngs, self.name = module, optimizer, rngs, name
        self.phases = (Phase(phase, optimizer, module, lr),)

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {self.name: self.module}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}

    def train(self, mode: bool = True) -> None:
        self.module.train(mode)

    def begin(self, step: int) -> None:
        pass

    def after_update(self, phase: str, step: int) -> None:
        pass

    def extra_row(self) -> dict[str, float]:
        return {}
