"""Datasets: shapes, classes, determinism, the keras.datasets loader offline, CSV validation."""

from __future__ import annotations

import gzip
import sys

import numpy as np
import pytest

from superconv.data import DATASETS, DatasetUnavailable, load_dataset, make_shapes, read_csv_dataset, split_sizes


@pytest.mark.parametrize("name, shape, classes, total", [
    ("digits", (8, 8, 1), 10, 1797),
    ("spirals", (2,), 3, 1500),
    ("blobs", (10,), 4, 2000),
    ("shapes", (28, 28, 1), 4, 2000),
])
def test_offline_datasets(name, shape, classes, total):
    ds = load_dataset(name, seed=3)
    assert ds.input_shape == shape and ds.num_classes == classes == len(ds.class_names)
    assert ds.num_train + ds.num_val == total
    assert ds.num_val == round(total * 0.2)
    assert ds.x_train.shape == (ds.num_train, *shape) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int32 and set(np.unique(ds.y_train)) == set(range(classes))
    assert np.isfinite(ds.x_train).all()
    again = load_dataset(name, seed=3)
    np.testing.assert_array_equal(ds.x_val, again.x_val)  # same seed, same split


def test_digits_scaling_and_stratified_split():
    ds = load_dataset("digits", val_fraction=0.25, max_samples=400, seed=1)
    assert ds.num_train + ds.num_val == 400 and ds.num_val == 100
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert np.bincount(ds.y_val).min() >= 8  # every class is in the validation set


def test_shapes_are_distinguishable():
    x, y = make_shapes(40, seed=0)
    # Each class has its own mean pixel mass (rings/outlines vs filled shapes).
    masses = [x[y == k].mean() for k in range(4)]
    assert len({round(float(m), 3) for m in masses}) == 4


def test_pipelines_batch_sizes():
    ds = load_dataset("spirals")
    batches = [len(b[1]) for b in ds.train_pipeline(500, seed=0)]
    assert batches == [500, 500, 200]
    first = next(iter(ds.train_pipeline(1200, seed=0)))[1].numpy()
    second = next(iter(ds.train_pipeline(1200, seed=0)))[1].numpy()
    np.testing.assert_array_equal(first, second)             # seeded shuffle
    assert not np.array_equal(first, ds.y_train)             # ...that does shuffle
    assert [len(b[1]) for b in ds.val_pipeline(128)] == [128, 128, 44]


def test_unknown_and_val_fraction():
    with pytest.raises(ValueError, match="dataset must be one of .*received dataset='imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\); received val_fraction=1.5"):
        load_dataset("spirals", val_fraction=1.5)
    assert set(DATASETS) >= {"digits", "spirals", "blobs", "shapes", "mnist", "fashion_mnist", "cifar10", "csv"}


def test_module_import_does_not_import_tensorflow():
    import subprocess

    code = "import sys, superconv.data, superconv.models, superconv.config, superconv.store, superconv.jobs, " \
           "superconv.worker, superconv.commands.train, superconv.commands.runs; " \
           "print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- keras.datasets loaders
@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    # Any download attempt goes to a closed local port and fails at once: never the network.
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def test_mnist_from_cache(keras_home):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    np.savez(keras_home / "mnist.npz", x_train=x_train, y_train=np.arange(30) % 10,
             x_test=x_test, y_test=np.arange(10) % 10)
    ds = load_dataset("mnist")
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10
    assert (ds.num_train, ds.num_val) == (30, 10)
    np.testing.assert_allclose(ds.x_train[..., 0], x_train / 255.0, rtol=1e-6)
    assert ds.y_val.tolist() == list(range(10))


def test_fashion_mnist_from_cache(keras_home):
    folder = keras_home / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)

    def write(name, header, payload):
        with gzip.open(folder / name, "wb") as fh:
            fh.write(bytes(header) + payload.tobytes())

    write("train-labels-idx1-ubyte.gz", [0] * 8, (np.arange(20) % 10).astype(np.uint8))
    write("train-images-idx3-ubyte.gz", [0] * 16, rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
    write("t10k-labels-idx1-ubyte.gz", [0] * 8, (np.arange(10) % 10).astype(np.uint8))
    write("t10k-images-idx3-ubyte.gz", [0] * 16, rng.integers(0, 256, (10, 28, 28), dtype=np.uint8))
    ds = load_dataset("fashion_mnist")
    assert (ds.num_train, ds.num_val, ds.input_shape) == (20, 10, (28, 28, 1))
    assert ds.class_names[9] == "Ankle boot"


def test_network_dataset_offline_message(keras_home):
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("mnist")
    text = str(info.value)
    assert "dataset='mnist' is not cached in" in text and str(keras_home) in text
    assert "copy mnist.npz into" in text and "digits" in text
    assert not (keras_home / "mnist.npz").exists()


def test_corrupt_cached_mnist(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a valid mnist.npz"):
        load_dataset("mnist")


def test_pickled_npz_is_refused(keras_home):
    obj = np.empty(1, dtype=object)
    obj[0] = {"x": 1}
    np.savez(keras_home / "mnist.npz", x_train=obj, y_train=obj, x_test=obj, y_test=obj)
    with pytest.raises(ValueError, match="is not a valid mnist.npz.*allow_pickle"):
        load_dataset("mnist")


# --------------------------------------------------------------------------- CSV upload
def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def _rows(n, label=lambda i: i % 2):
    return "".join(f"{i * 0.5},{(i * 7) % 5},{label(i)}\n" for i in range(n))


def test_csv_loads_and_standardises(tmp_path):
    path = _csv(tmp_path, "f1,f2,label\n" + _rows(50, lambda i: ["cat", "dog", "eel"][i % 3]))
    ds = load_dataset("csv", csv_path=path)
    assert ds.input_shape == (2,) and ds.num_classes == 3 and ds.class_names == ["cat", "dog", "eel"]
    assert ds.num_train == 40
    np.testing.assert_allclose(ds.x_train.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(0), 1.0, atol=1e-4)


def test_csv_other_label_column(tmp_path):
    path = _csv(tmp_path, "target,a,b\n" + "".join(f"{i % 2},{i},{i * i}\n" for i in range(20)))
    x, y, names = read_csv_dataset(path, label_column="target")
    assert x.shape == (20, 2) and names == ["0", "1"] and y.tolist()[:3] == [0, 1, 0]


@pytest.mark.parametrize("content, message", [
    ("f1,f2,klass\n" + _rows(20), "label_column 'label' is not a column of the CSV; columns are ['f1', 'f2', 'klass']"),
    ("f1,f2,label\n" + _rows(5), "the CSV has too few rows: 5; at least 10 are needed"),
    ("f1,f2,label\n" + _rows(20, lambda i: 1), "label column 'label' has a single class ('1')"),
    ("f1,f2,label\n" + _rows(12) + "abc,1,0\n", "column 'f1' must be numeric; received 'abc' at data row 13"),
    ("f1,f2,label\n" + _rows(12) + "1,,0\n", "column 'f2' has an empty value at data row 13"),
    ("label\n" + "1\n0\n" * 10, "the CSV needs at least one feature column"),
    ("f1,f2,label\n" + _rows(12) + '"unclosed,1,0\n', "is not a valid CSV"),
    ("", "is not a valid CSV"),
    (b"f1,label\n" + b"\xff\xfe1,0\n" * 12, "the CSV file must be UTF-8 text"),
    (b"PK\x03\x04\x00\x00binary", "is not a CSV text file"),
])
def test_csv_errors(tmp_path, content, message):
    path = _csv(tmp_path, content)
    with pytest.raises(ValueError) as info:
        load_dataset("csv", csv_path=path)
    assert message in str(info.value)


def test_csv_too_large(tmp_path, monkeypatch):
    import superconv.data as data

    monkeypatch.setattr(data, "CSV_MAX_BYTES", 100)
    path = _csv(tmp_path, "f1,f2,label\n" + _rows(20))
    with pytest.raises(ValueError, match=r"the CSV file is too large: 0\.0 MiB; the limit is 0 MiB"):
        load_dataset("csv", csv_path=path)


def test_csv_missing_file_and_path(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        load_dataset("csv", csv_path=tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="csv_path is required when dataset='csv'"):
        load_dataset("csv")


def test_csv_path_that_is_not_a_regular_file_is_refused_before_reading(tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would block forever
    for path, kind in [(tmp_path, "a directory"), (fifo, "a device, pipe or socket"),
                       ("/dev/zero", "a device, pipe or socket")]:  # /dev/zero would fill the memory
        message = f"csv_path '{path}' is not a regular file (it is {kind}); received csv_path='{path}'"
        for check in (lambda: load_dataset("csv", csv_path=path), lambda: split_sizes("csv", csv_path=path)):
            with pytest.raises(ValueError) as exc:
                check()
            assert str(exc.value) == message


@pytest.mark.parametrize("name", ["digits", "spirals", "blobs", "shapes"])
@pytest.mark.parametrize("val_fraction, max_samples", [(0.2, None), (0.1, None), (0.25, 400), (0.5, 37), (0.01, 60)])
def test_split_sizes_match_the_loaded_data(name, val_fraction, max_samples):
    ds = load_dataset(name, seed=2, val_fraction=val_fraction, max_samples=max_samples)
    assert split_sizes(name, val_fraction=val_fraction, max_samples=max_samples) == (
        ds.num_train, ds.num_val, ds.num_classes)


def test_split_sizes_of_fixed_splits_and_csv(tmp_path):
    assert split_sizes("mnist") == (60000, 10000, 10)
    assert split_sizes("cifar10", max_samples=500) == (500, 100, 10)
    path = _csv(tmp_path, "f1,f2,label\n" + _rows(50, lambda i: ["cat", "dog", "eel"][i % 3]))
    ds = load_dataset("csv", csv_path=path, val_fraction=0.3)
    assert split_sizes("csv", csv_path=path, val_fraction=0.3) == (ds.num_train, ds.num_val, 3) == (35, 15, 3)
    path.write_text("f1,f2,label\n" + _rows(80, lambda i: i % 2))  # a new version of the file is counted anew
    assert split_sizes("csv", csv_path=path) == (64, 16, 2)


def test_split_sizes_errors(tmp_path):
    with pytest.raises(ValueError, match=r"^dataset must be one of .*; received dataset='imagenet'$"):
        split_sizes("imagenet")
    with pytest.raises(ValueError) as info:
        split_sizes("digits", val_fraction=0.999)
    assert str(info.value) == (
        "the training split would have 2 samples, fewer than the 10 classes of dataset='digits' "
        "(1797 samples with max_samples=None, val_fraction=0.999): raise max_samples or lower val_fraction")
    with pytest.raises(ValueError, match=r"csv_path '.*missing.csv' cannot be read: No such file or directory"):
        split_sizes("csv", csv_path=tmp_path / "missing.csv")
