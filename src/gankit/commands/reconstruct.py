"""`gankit reconstruct RUN IMAGES.npy --out RECON.npy`: a BiGAN / ALI run's reconstructions.

``RECON.npy``: ``G(E(x))`` of every image of ``IMAGES.npy`` (``(N, C, H, W)`` float32 in [0, 1]
or uint8, the run's image shape), the same shape, float32 in [0, 1] (the layout `gankit sample`
writes), written whole or not at all. A run of another family is refused in one line naming
it. Reads and writes as `gankit encode` (`gankit.commands.encode.convert`).
"""

from __future__ import annotations

from gankit.commands.encode import add_io_arguments, convert

NAME = "reconstruct"
HELP = "a BiGAN / ALI run's reconstructions G(E(x)) of images in a .npy file"


def add_arguments(p):
    p.description = (
        "Reconstruct the images of IMAGES.npy ((N, C, H, W) float32 in [0, 1] or uint8, the "
        "layout `gankit sample` writes) through RUN, a BiGAN / ALI run (its newest intact "
        "checkpoint): G(E(x)), written to RECON.npy in the same layout, float32 in [0, 1]."
    )
    add_io_arguments(p, "RECON.npy", "where the reconstructions go")


def run(args) -> int:
    return convert(
        args, "reconstruct", lambda a: f"wrote {a.shape[0]} reconstructions, float32 {a.shape}"
    )
