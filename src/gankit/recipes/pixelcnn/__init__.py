"""The PixelCNN family: its config section (`gankit.recipes.pixelcnn.config`), its `Trainable`
(maximum likelihood on binarised images, `gankit.recipes.pixelcnn.step`) and its recipe
(`gankit.recipes.pixelcnn.recipe`)."""

from gankit.recipes.pixelcnn.config import PixelCnnConfig
from gankit.recipes.pixelcnn.recipe import PixelCnnRecipe, PixelCnnRun, build_pixelcnn_for
from gankit.recipes.pixelcnn.step import PixelCnnTrainable, pixelcnn_samples

__all__ = [
    "PixelCnnConfig",
    "PixelCnnRecipe",
    "PixelCnnRun",
    "PixelCnnTrainable",
    "build_pixelcnn_for",
    "pixelcnn_samples",
]
