"""Paired images for pix2pix (Isola et al. 2017), built from a labelled image dataset with no
extra data: each image ``x`` (the target) gets an input ``source_x`` made from it by a task.

Tasks (``pix2pix.task``), pure functions of ``(n, C, H, W)`` images in [-1, 1] (the nets'
range, where the background of the digits and MNIST is -1):

* ``lower-half``: the image with its lower ``H - H // 2`` rows set to the background value -1
  (0 in [0, 1] files): the net completes a digit from its upper half;
* ``edges``: the Sobel gradient magnitude of the image read in [0, 1] (zero padding: the
  background is 0 there), divided by each image's largest magnitude (a flat image gives 0), so
  that every edge map spans [0, 1], then mapped to [-1, 1]; with C > 1 each channel separately.

`PairedSource` wraps an image dataset's training source: ``Batch(x = target, y = its label,
source_x = task(target))``; the labels stay so that a translation's class can be checked.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.data.batch import Batch
from gankit.errors import GankitError

#: the background of the digits and MNIST in the nets' range [-1, 1] (0 in [0, 1] files)
BACKGROUND = -1.0

Task = Callable[[Tensor], Tensor]


def lower_half_blanked(x: Tensor) -> Tensor:
    """``x (n, C, H, W)`` in [-1, 1] with rows ``H // 2 ..`` set to `BACKGROUND`: the upper half
    kept, the lower half (the larger half where H is odd) blank."""
    out = x.clone()
    out[..., x.shape[-2] // 2 :, :] = BACKGROUND
    return out


#: Sobel's horizontal derivative kernel; its transpose is the vertical one
SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_magnitude(images01: Tensor) -> Tensor:
    """``(n, C, H, W)`` ``sqrt(gx^2 + gy^2)`` of Sobel's derivatives of each channel of images
    in [0, 1], zero-padded (same size out)."""
    n, c, h, w = images01.shape
    kx = SOBEL_X.to(images01.device, images01.dtype)
    kernels = torch.stack([kx, kx.T]).unsqueeze(1)  # (2, 1, 3, 3)
    grads = F.conv2d(images01.reshape(n * c, 1, h, w), kernels, padding=1)
    return grads.pow(2).sum(1).sqrt().reshape(n, c, h, w)


def edge_map(x: Tensor) -> Tensor:
    """The edge map of ``x (n, C, H, W)`` in [-1, 1], in [-1, 1]: Sobel's gradient magnitude
    of ``(x + 1) / 2`` over its per-image, per-channel maximum (0 where the image is flat)."""
    magnitude = sobel_magnitude((x + 1.0) / 2.0)
    peak = magnitude.amax(dim=(-2, -1), keepdim=True)
    normalised = torch.where(peak > 0, magnitude / peak.clamp_min(1e-12), 0.0)
    return normalised * 2.0 - 1.0


TASKS: dict[str, Task] = {"lower-half": lower_half_blanked, "edges": edge_map}


def task_input(task: str, x: Tensor) -> Tensor:
    """The paired input of the targets ``x (n, C, H, W)`` in [-1, 1] under ``task``."""
    if task not in TASKS:
        raise GankitError(f"pix2pix.task: {task!r} is not one of {', '.join(TASKS)}")
    return TASKS[task](x)


class PairedSource:
    """An image training source whose batches carry their task's input: ``batch(n, g) =
    Batch(x, y, source_x = task(x))``, drawing exactly what the wrapped source draws."""

    kind = "images"

    def __init__(self, source, task: str):
        task_input(task, torch.zeros(1, 1, 2, 2))  # the name, checked once
        self.source = source
        self.task = task

    @property
    def device(self) -> torch.device:
        return getattr(self.source, "device", torch.device("cpu"))

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.source.shape

    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    def batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        real = self.source.batch(n, generator)
        return Batch(real.x, y=real.y, source_x=task_input(self.task, real.x))
