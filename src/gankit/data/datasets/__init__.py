"""Image datasets for training and evaluation: MNIST / Fashion-MNIST (IDX files), CIFAR-10
(python or binary batches), folders of images, ``.npy`` / ``.npz`` arrays, and scikit-learn's
digits, each loaded into an `ImageDataset` (``uint8`` or ``float32`` in [0, 1], ``(N, C, H,
W)``, optional labels) and served to training by an `ImageSource` (minibatches in [-1, 1]).

`load_splits` is the entry point by name (``data.name``): it returns ``(train, heldout)``.
Nothing here downloads anything, and nothing reads a file without checking it: every bad input
is one `GankitError` line naming the file.
"""

from gankit.data.datasets.arrays import load_array_dataset
from gankit.data.datasets.cifar import (
    CIFAR10_CLASSES,
    cifar10_class_names,
    load_cifar10_split,
    read_binary_batch,
    read_python_batch,
    restricted_loads,
)
from gankit.data.datasets.dataset import (
    RESIZE_FILTERS,
    ImageDataset,
    ImageSource,
    check_shape_options,
    conform,
)
from gankit.data.datasets.digits import (
    DIGITS_HELDOUT,
    digits_split_indices,
    load_digits_dataset,
    split_digits,
)
from gankit.data.datasets.folder import load_image_folder
from gankit.data.datasets.idx import idx_split_files, load_idx_split, read_idx
from gankit.data.datasets.registry import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    SplitOptions,
    dataset_names,
    load_splits,
    register_dataset,
    split_seeded,
)

__all__ = [
    "CIFAR10_CLASSES",
    "DIGITS_HELDOUT",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "RESIZE_FILTERS",
    "ImageDataset",
    "ImageSource",
    "SplitOptions",
    "check_shape_options",
    "cifar10_class_names",
    "conform",
    "dataset_names",
    "digits_split_indices",
    "idx_split_files",
    "load_array_dataset",
    "load_cifar10_split",
    "load_digits_dataset",
    "load_idx_split",
    "load_image_folder",
    "load_splits",
    "read_binary_batch",
    "read_idx",
    "read_python_batch",
    "register_dataset",
    "restricted_loads",
    "split_digits",
    "split_seeded",
]
