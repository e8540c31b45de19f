"""Named datasets behind one interface: numpy arrays plus ``tf.data`` train/val pipelines.

- ``digits`` (the offline default): scikit-learn's bundled 8x8 handwritten digits (1,797 images,
  10 classes). Always available, real images, hard enough that the schedule matters and small
  enough that a 10-epoch run takes seconds on two CPU cores.
- ``spirals``, ``blobs``, ``shapes``: generated in code from the seed (tests, demos, speed).
- ``mnist``, ``fashion_mnist``, ``cifar10``: through Keras' dataset cache (``$KERAS_HOME/datasets``,
  default ``~/.keras/datasets``); downloaded once when a network is reachable, a clear error when not.
- ``csv``: a user file, features plus a label column, validated; never executed (pandas parser only).

Importing this module does not import TensorFlow (only the pipelines do).

Example:
    >>> ds = load_dataset("spirals", seed=1)
    >>> ds.input_shape, ds.num_classes, ds.num_train + len(ds.y_val)
    ((2,), 3, 1500)
    >>> ds.x_train.dtype.name, ds.y_train.dtype.name
    ('float32', 'int32')
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

DATASETS: dict[str, str] = {
    "digits": "scikit-learn's 8x8 handwritten digits, 1,797 images, 10 classes (offline default)",
    "spirals": "three interleaved 2-D spirals, 1,500 points (synthetic)",
    "blobs": "four Gaussian blobs in 10-D, 2,000 points (synthetic)",
    "shapes": "28x28 images of circles, squares, triangles and crosses, 2,000 images (synthetic)",
    "mnist": "MNIST handwritten digits, 28x28, 70,000 images (keras.datasets; network once, cached)",
    "fashion_mnist": "Fashion-MNIST clothing, 28x28, 70,000 images (keras.datasets; network once, cached)",
    "cifar10": "CIFAR-10 colour images, 32x32x3, 60,000 images (keras.datasets; network once, cached)",
    "csv": "your CSV file: numeric feature columns and a label column",
}

OFFLINE_DATASETS = ("digits", "spirals", "blobs", "shapes", "csv")

INPUT_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "digits": ((8, 8, 1), 10), "spirals": ((2,), 3), "blobs": ((10,), 4), "shapes": ((28, 28, 1), 4),
    "mnist": ((28, 28, 1), 10), "fashion_mnist": ((28, 28, 1), 10), "cifar10": ((32, 32, 3), 10),
}
"""Sample shape and class count of each named dataset (``csv``: known only once the file is read)."""

CSV_MAX_BYTES = 50 * 1024 * 1024
CSV_MIN_ROWS = 10
CSV_MAX_CLASSES = 1000

_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_FASHION_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


class DatasetUnavailable(ValueError):
    """A network dataset is neither cached nor downloadable (offline)."""


@dataclasses.dataclass
class Dataset:
    """A classification dataset split into train and validation arrays.

    Attributes:
        name: Dataset name (a key of :data:`DATASETS`).
        x_train, y_train, x_val, y_val: float32 features (already scaled) and int32 labels.
        input_shape: Shape of one sample, e.g. ``(8, 8, 1)`` or ``(2,)``.
        num_classes: Number of classes; labels are ``0 .. num_classes-1``.
        class_names: Readable class names.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    input_shape: tuple
    num_classes: int
    class_names: list[str] = dataclasses.field(default_factory=list)

    @property
    def num_train(self) -> int:
        """Number of training samples."""
        return int(len(self.y_train))

    @property
    def num_val(self) -> int:
        """Number of validation samples."""
        return int(len(self.y_val))

    def train_pipeline(self, batch_size: int, seed: int = 0, shuffle: bool = True) -> Any:
        """``tf.data`` pipeline of shuffled (each epoch, from ``seed``) training batches; the last batch
        may be short (``ceil(num_train / batch_size)`` steps per epoch)."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.x_train, self.y_train))
        if shuffle:
            ds = ds.shuffle(self.num_train, seed=int(seed), reshuffle_each_iteration=True)
        return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)

    def val_pipeline(self, batch_size: int) -> Any:
        """``tf.data`` pipeline of validation batches in a fixed order."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.x_val, self.y_val))
        return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- helpers
def _val_count(n: int, val_fraction: float) -> int:
    """Validation samples that :func:`_split` holds out of ``n`` (at least one)."""
    return max(1, int(round(n * float(val_fraction))))


def _split(x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified train/val split (plain shuffle split if a class is too small to stratify)."""
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1); received val_fraction={val_fraction!r}")
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    n_val = _val_count(len(y), val_fraction)
    if stratify is not None and n_val < int((counts > 0).sum()):
        stratify = None
    return train_test_split(x, y, test_size=n_val, random_state=int(seed), stratify=stratify)


def _subsample(x: np.ndarray, y: np.ndarray, max_samples: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if max_samples is None or len(y) <= max_samples:
        return x, y
    if int(max_samples) < 2:
        raise ValueError(f"max_samples must be >= 2; received max_samples={max_samples!r}")
    idx = np.random.default_rng(seed).permutation(len(y))[: int(max_samples)]
    return x[np.sort(idx)], y[np.sort(idx)]


def _finish(name: str, x: np.ndarray, y: np.ndarray, *, seed: int, val_fraction: float,
            max_samples: int | None, class_names: list[str]) -> Dataset:
    x, y = _subsample(np.asarray(x, np.float32), np.asarray(y, np.int32), max_samples, seed)
    x_tr, x_va, y_tr, y_va = _split(x, y, val_fraction, seed)
    return Dataset(name, x_tr, y_tr.astype(np.int32), x_va, y_va.astype(np.int32), tuple(x.shape[1:]),
                   len(class_names), class_names)


def _fixed_split(name: str, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], *,
                 seed: int, max_samples: int | None, class_names: list[str]) -> Dataset:
    """Datasets with an official test split: scale to [0, 1], add a channel axis, keep the split."""
    def prep(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32) / 255.0
        return x[..., None] if x.ndim == 3 else x

    x_tr, y_tr = _subsample(prep(train[0]), np.asarray(train[1]).reshape(-1).astype(np.int32), max_samples, seed)
    n_val = None if max_samples is None else max(1, int(max_samples) // 5)
    x_va, y_va = _subsample(prep(test[0]), np.asarray(test[1]).reshape(-1).astype(np.int32), n_val, seed)
    return Dataset(name, x_tr, y_tr, x_va, y_va, tuple(x_tr.shape[1:]), len(class_names), class_names)


# --------------------------------------------------------------------------- offline sets
def _digits(seed: int, val_fraction: float, max_samples: int | None) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., None]
    return _finish("digits", x, bunch.target, seed=seed, val_fraction=val_fraction, max_samples=max_samples,
                   class_names=[str(i) for i in range(10)])


def make_spirals(n: int = 1500, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved 2-D spirals (``n`` points in all), float32 features in about [-1, 1].

    Example:
        >>> x, y = make_spirals(30, classes=3, seed=0)
        >>> x.shape, sorted(set(y.tolist()))
        ((30, 2), [0, 1, 2])
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = rng.uniform(0.05, 1.0, n)
    theta = r * 4.0 + y * (2 * np.pi / classes) + rng.normal(0.0, noise, n)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return x.astype(np.float32), y.astype(np.int32)


def _shape_mask(kind: int, size: int, cy: float, cx: float, r: float, angle: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    if kind == 0:  # circle (ring)
        d = np.sqrt(dx**2 + dy**2)
        return (d <= r) & (d >= r * 0.55)
    if kind == 1:  # square outline
        m = np.maximum(np.abs(u), np.abs(v))
        return (m <= r) & (m >= r * 0.6)
    if kind == 2:  # filled triangle
        return (v <= r * 0.6) & (v >= -r) & (np.abs(u) <= (v + r) * 0.6)
    w = r * 0.3  # cross
    return ((np.abs(u) <= w) & (np.abs(v) <= r)) | ((np.abs(v) <= w) & (np.abs(u) <= r))


def make_shapes(n: int = 2000, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` grey ``size``x``size`` images of 4 shapes (circle, square, triangle, cross) at random
    position, size and rotation, with pixel noise; returns ``(images[n, size, size, 1], labels)``.

    Example:
        >>> x, y = make_shapes(8, seed=0)
        >>> x.shape, float(x.min()) >= 0.0, float(x.max()) <= 1.0
        ((8, 28, 28, 1), True, True)
    """
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 4).astype(np.int32)
    rng.shuffle(y)
    x = np.empty((n, size, size), np.float32)
    for i in range(n):
        r = rng.uniform(size * 0.18, size * 0.32)
        cy, cx = rng.uniform(r, size - r, 2)
        mask = _shape_mask(int(y[i]), size, cy, cx, r, rng.uniform(0, np.pi / 2))
        img = mask.astype(np.float32) * rng.uniform(0.6, 1.0) + rng.normal(0.0, 0.1, (size, size))
        x[i] = np.clip(img, 0.0, 1.0)
    return x[..., None], y


# --------------------------------------------------------------------------- keras.datasets
def keras_cache_dir() -> Path:
    """Keras' dataset cache: ``$KERAS_HOME/datasets`` (read at call time), else ``~/.keras/datasets``.

    Example:
        >>> keras_cache_dir().name
        'datasets'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _fetch(fname: str, origin: str, *, file_hash: str | None = None, subdir: str = "", dataset: str) -> Path:
    """A file from Keras' cache, downloaded (and hash-checked) only when it is not cached yet."""
    cache = keras_cache_dir() / subdir if subdir else keras_cache_dir()
    target = cache / fname
    if target.exists():
        return target
    try:
        import keras

        path = keras.utils.get_file(fname, origin=origin, file_hash=file_hash,
                                    cache_dir=str(keras_cache_dir().parent),
                                    cache_subdir=str(Path("datasets") / subdir) if subdir else "datasets")
    except Exception as exc:  # noqa: BLE001 - urllib, SSL, HTTP and hash errors all mean "unavailable"
        raise DatasetUnavailable(
            f"dataset={dataset!r} is not cached in {cache} and could not be downloaded from {origin} "
            f"({type(exc).__name__}: {exc}). Connect to the network once, or copy {fname} into {cache}, "
            f"or pick an offline dataset: {', '.join(OFFLINE_DATASETS)}"
        ) from None
    return Path(path)


def _mnist(seed: int, max_samples: int | None) -> Dataset:
    path = _fetch("mnist.npz", _MNIST_URL, file_hash=_MNIST_SHA256, dataset="mnist")
    try:
        with np.load(path, allow_pickle=False) as f:
            train, test = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"dataset='mnist': cached file {path} is not a valid mnist.npz ({exc})") from None
    return _fixed_split("mnist", train, test, seed=seed, max_samples=max_samples,
                        class_names=[str(i) for i in range(10)])


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        return np.frombuffer(fh.read(), np.uint8, offset=offset)


def _fashion_mnist(seed: int, max_samples: int | None) -> Dataset:
    paths = [_fetch(f, _FASHION_URL + f, subdir="fashion-mnist", dataset="fashion_mnist") for f in _FASHION_FILES]
    try:
        y_tr, y_te = _read_idx(paths[0], 8), _read_idx(paths[2], 8)
        x_tr = _read_idx(paths[1], 16).reshape(len(y_tr), 28, 28)
        x_te = _read_idx(paths[3], 16).reshape(len(y_te), 28, 28)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"dataset='fashion_mnist': cached files in {paths[0].parent} are not valid ({exc})") from None
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    return _fixed_split("fashion_mnist", (x_tr, y_tr), (x_te, y_te), seed=seed, max_samples=max_samples,
                        class_names=names)


def _cifar10(seed: int, max_samples: int | None) -> Dataset:
    import keras

    try:
        train, test = keras.datasets.cifar10.load_data()
    except Exception as exc:  # noqa: BLE001
        raise DatasetUnavailable(
            f"dataset='cifar10' is not cached in Keras' cache and could not be downloaded "
            f"({type(exc).__name__}: {exc}). Connect to the network once, or pick an offline dataset: "
            f"{', '.join(OFFLINE_DATASETS)}"
        ) from None
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return _fixed_split("cifar10", train, test, seed=seed, max_samples=max_samples, class_names=names)


# --------------------------------------------------------------------------- sizes without loading
# Samples of each named dataset before any split; the three with an official test split as (train, test).
_SIZES = {"digits": 1797, "spirals": 1500, "blobs": 2000, "shapes": 2000}
_FIXED_SIZES = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000)}


def split_sizes(name: str, *, val_fraction: float = 0.2, max_samples: int | None = None,
                csv_path: str | os.PathLike[str] | None = None, label_column: str = "label") -> tuple[int, int, int]:
    """``(num_train, num_val, num_classes)`` that :func:`load_dataset` gives, without loading the data.

    Lets a run config be checked against its exact step count before anything is stored or downloaded.
    A CSV file is read (and validated) to count its rows and classes; the count is cached per file
    version.

    Args:
        name: Dataset name (a key of :data:`DATASETS`).
        val_fraction, max_samples, csv_path, label_column: As in :func:`load_dataset`.

    Raises:
        ValueError: for an unknown name, an unreadable or invalid CSV, or a split that leaves fewer
            training samples than classes (naming ``val_fraction`` and ``max_samples``).

    Example:
        >>> split_sizes("digits")
        (1438, 359, 10)
        >>> split_sizes("mnist", max_samples=1000)
        (1000, 200, 10)
        >>> split_sizes("digits", max_samples=10)
        Traceback (most recent call last):
        ...
        ValueError: the training split would have 8 samples, fewer than the 10 classes of dataset='digits' (10 samples with max_samples=10, val_fraction=0.2): raise max_samples or lower val_fraction
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}; received dataset={name!r}")
    if name in _FIXED_SIZES:
        n_train, n_test = _FIXED_SIZES[name]
        if max_samples is None:
            return n_train, n_test, INPUT_SHAPES[name][1]
        return min(n_train, int(max_samples)), min(n_test, max(1, int(max_samples) // 5)), INPUT_SHAPES[name][1]
    if name == "csv":
        if csv_path is None:
            raise ValueError("csv_path is required when dataset='csv'; received csv_path=None")
        n, classes = _csv_counts(str(Path(csv_path).resolve()), label_column, *_file_version(csv_path))
    else:
        n, classes = _SIZES[name], INPUT_SHAPES[name][1]
    if max_samples is not None:
        n = min(n, int(max_samples))
    n_val = _val_count(n, val_fraction)
    n_train = n - n_val
    if n_train < classes:
        raise ValueError(f"the training split would have {n_train} samples, fewer than the {classes} classes of "
                         f"dataset={name!r} ({n} samples with max_samples={max_samples}, val_fraction={val_fraction:g}): "
                         "raise max_samples or lower val_fraction")
    return n_train, n_val, classes


def _csv_stat(path: str | os.PathLike[str]) -> os.stat_result:
    """``stat`` of a CSV path that must be a regular file (not a directory, a device or a pipe)."""
    try:
        st = Path(path).stat()
    except OSError as exc:
        raise ValueError(f"csv_path {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise ValueError(f"csv_path {str(path)!r} is not a regular file (it is {kind}); "
                         f"received csv_path={str(path)!r}")
    return st


def _file_version(path: str | os.PathLike[str]) -> tuple[int, int]:
    st = _csv_stat(path)
    return st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _csv_counts(path: str, label_column: str, size: int, mtime_ns: int) -> tuple[int, int]:
    """Rows and classes of a CSV file; ``size`` and ``mtime_ns`` key the cache to the file's version."""
    _, y, names = read_csv_dataset(path, label_column)
    return int(len(y)), len(names)


# --------------------------------------------------------------------------- CSV upload
def read_csv_dataset(path: str | os.PathLike[str], label_column: str = "label") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read and validate a user CSV: numeric feature columns plus ``label_column``.

    Only pandas' CSV parser touches the file (nothing is unpickled or evaluated). Labels may be
    numbers or strings; they are mapped to ``0 .. k-1`` in sorted order. Features are returned
    as read (``load_dataset`` standardizes them with training statistics).

    Returns:
        ``(features float32 [n, d], labels int32 [n], class names)``.

    Raises:
        ValueError: too large, not UTF-8 text, not a CSV, missing label column, no feature column,
            non-numeric or empty feature values, too few rows, a single class.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "d.csv")
        >>> _ = open(p, "w").write("a,b,label\\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\\n" for i in range(12)))
        >>> x, y, names = read_csv_dataset(p)
        >>> x.shape, names, y[:4].tolist()
        ((12, 2), ['x', 'y'], [0, 1, 0, 1])
    """
    import pandas as pd

    path = Path(path)
    size = _csv_stat(path).st_size
    if size <= CSV_MAX_BYTES:
        try:
            with path.open("rb") as f:
                raw = f.read(CSV_MAX_BYTES + 1)  # never more than the limit, even if the file grew meanwhile
        except OSError as exc:
            raise ValueError(f"csv_path {str(path)!r} cannot be read: {exc.strerror or exc}") from None
        size = len(raw)
    if size > CSV_MAX_BYTES:
        raise ValueError(f"the CSV file is too large: {size / 2**20:.1f} MiB; the limit is "
                         f"{CSV_MAX_BYTES / 2**20:.0f} MiB (received csv_path={str(path)!r})")
    if b"\x00" in raw[:4096]:
        raise ValueError(f"the file is not a CSV text file (it contains binary data); received csv_path={str(path)!r}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the CSV file must be UTF-8 text; byte {exc.start} is not valid UTF-8 "
                         f"(received csv_path={str(path)!r})") from None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=",", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"the file is not a valid CSV ({str(exc).strip()}); received csv_path={str(path)!r}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if label_column not in frame.columns:
        raise ValueError(f"label_column {label_column!r} is not a column of the CSV; columns are "
                         f"{list(frame.columns)[:20]} (received label_column={label_column!r})")
    features = [c for c in frame.columns if c != label_column]
    if not features:
        raise ValueError(f"the CSV needs at least one feature column besides label_column={label_column!r}")
    if len(frame) < CSV_MIN_ROWS:
        raise ValueError(f"the CSV has too few rows: {len(frame)}; at least {CSV_MIN_ROWS} are needed")
    for col in features:
        numeric = pd.to_numeric(frame[col], errors="coerce")
        bad = numeric.isna() & frame[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"column {col!r} must be numeric; received {frame[col].iloc[row]!r} "
                             f"at data row {row + 1}")
        if numeric.isna().any():
            row = int(np.flatnonzero(numeric.isna().to_numpy())[0])
            raise ValueError(f"column {col!r} has an empty value at data row {row + 1}; fill or drop it")
        if not np.isfinite(numeric.to_numpy(np.float64)).all():
            raise ValueError(f"column {col!r} has an infinite value")
        frame[col] = numeric
    labels = frame[label_column]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise ValueError(f"label column {label_column!r} has an empty value at data row {row + 1}")
    names = sorted(labels.astype(str).unique().tolist(),
                   key=lambda s: (0, float(s)) if _is_number(s) else (1, s))
    if len(names) < 2:
        raise ValueError(f"label column {label_column!r} has a single class ({names[0]!r}); "
                         "classification needs at least 2")
    if len(names) > CSV_MAX_CLASSES:
        raise ValueError(f"label column {label_column!r} has {len(names)} distinct values; at most "
                         f"{CSV_MAX_CLASSES} classes are supported (is it a regression target?)")
    index = {name: i for i, name in enumerate(names)}
    y = labels.astype(str).map(index).to_numpy(np.int32)
    x = frame[features].to_numpy(np.float32)
    return x, y, names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv(path: str | os.PathLike[str], label_column: str, seed: int, val_fraction: float,
         max_samples: int | None) -> Dataset:
    x, y, names = read_csv_dataset(path, label_column)
    ds = _finish("csv", x, y, seed=seed, val_fraction=val_fraction, max_samples=max_samples, class_names=names)
    mean = ds.x_train.mean(axis=0)
    std = ds.x_train.std(axis=0)
    std[std == 0] = 1.0
    ds.x_train = ((ds.x_train - mean) / std).astype(np.float32)
    ds.x_val = ((ds.x_val - mean) / std).astype(np.float32)
    return ds


# --------------------------------------------------------------------------- entry point
def load_dataset(name: str, *, seed: int = 0, val_fraction: float = 0.2, csv_path: str | os.PathLike[str] | None = None,
                 label_column: str = "label", max_samples: int | None = None) -> Dataset:
    """Load a dataset by name (see :data:`DATASETS`).

    Args:
        name: Dataset name.
        seed: Seeds generation, subsampling and the train/val split.
        val_fraction: Held-out share (datasets with an official test split use it instead).
        csv_path, label_column: For ``name="csv"``.
        max_samples: Keep at most this many samples (drawn before the train/val split; quick runs).

    Raises:
        ValueError: unknown name or invalid data; :class:`DatasetUnavailable` (a ValueError) when a
            network dataset is not cached and cannot be downloaded.

    Example:
        >>> ds = load_dataset("digits")
        >>> ds.input_shape, ds.num_classes, ds.num_train, ds.num_val
        ((8, 8, 1), 10, 1438, 359)
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}; received dataset={name!r}")
    if name == "digits":
        return _digits(seed, val_fraction, max_samples)
    if name == "spirals":
        x, y = make_spirals(1500, 3, seed=seed)
        return _finish("spirals", x, y, seed=seed, val_fraction=val_fraction, max_samples=max_samples,
                       class_names=["spiral 0", "spiral 1", "spiral 2"])
    if name == "blobs":
        from sklearn.datasets import make_blobs

        x, y = make_blobs(n_samples=2000, n_features=10, centers=4, cluster_std=3.0, random_state=seed)
        x = (x - x.mean(0)) / x.std(0)
        return _finish("blobs", x, y, seed=seed, val_fraction=val_fraction, max_samples=max_samples,
                       class_names=[f"blob {i}" for i in range(4)])
    if name == "shapes":
        x, y = make_shapes(2000, seed=seed)
        return _finish("shapes", x, y, seed=seed, val_fraction=val_fraction, max_samples=max_samples,
                       class_names=["circle", "square", "triangle", "cross"])
    if name == "mnist":
        return _mnist(seed, max_samples)
    if name == "fashion_mnist":
        return _fashion_mnist(seed, max_samples)
    if name == "cifar10":
        return _cifar10(seed, max_samples)
    if csv_path is None:
        raise ValueError("csv_path is required when dataset='csv'; received csv_path=None")
    return _csv(csv_path, label_column, seed, val_fraction, max_samples)
