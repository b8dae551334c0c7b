"""What flows through the pipeline: a `Batch` of data and a `Latent` of the generator's input.

Sources return a `Batch`; the loop's families, the `~gankit.game.game.Game` and the evaluators
pass batches and latents through untouched, so that a model family which needs labels (the
conditional GAN's ``y``) adds terms and heads, not a second code path. Toy sources return
``Batch(x)``. A field exists once a family reads it: InfoGAN's codes, the semi-supervised GAN's
labelled mask and pix2pix's paired input join with their families (issue 24), each with a
test of the family that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor


def _to(t: Tensor | None, device, non_blocking: bool) -> Tensor | None:
    return None if t is None else t.to(device, non_blocking=non_blocking)


def _check_rows(obj, first: str) -> None:
    n = getattr(obj, first).shape[0]
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is not None and value.shape[0] != n:
            raise ValueError(
                f"{type(obj).__name__}.{f.name}: {value.shape[0]} rows, but {first} has {n}"
            )


@dataclass(frozen=True)
class Batch:
    """A minibatch of examples.

    ``x``: ``(n, dim)`` points or ``(n, C, H, W)`` images (pixels in [-1, 1] inside the nets);
    ``y``: ``(n,)`` int64 class labels, where the data has them; ``source_x``: pix2pix's paired
    input ``(n, C, H, W)`` in [-1, 1] whose translation ``x`` is (`gankit.data.paired`), None
    for every other source. Every field has the same number of rows."""

    x: Tensor
    y: Tensor | None = None
    source_x: Tensor | None = None

    def __post_init__(self) -> None:
        _check_rows(self, "x")

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        return Batch(*(_to(getattr(self, f.name), device, non_blocking) for f in fields(self)))

    def with_x(self, x: Tensor) -> Batch:
        """The same examples with other ``x`` (noisy, augmented, ...): labels stay attached."""
        return replace(self, x=x)


@dataclass(frozen=True)
class Latent:
    """The generator's input: noise ``z (n, noise_dim)``, and optionally the class ``y (n,)``
    a conditional generator is asked for."""

    z: Tensor
    y: Tensor | None = None

    def __post_init__(self) -> None:
        _check_rows(self, "z")

    def __len__(self) -> int:
        return self.z.shape[0]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Latent:
        return Latent(*(_to(getattr(self, f.name), device, non_blocking) for f in fields(self)))
