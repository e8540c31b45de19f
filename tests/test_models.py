"""Model zoo: every model builds for its inputs, uses BN momentum 0.9 and trains a step."""

from __future__ import annotations

import numpy as np
import pytest

from superconv.models import MODELS, build_model, default_width


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_build_and_train_one_step(name, shape):
    import keras

    model = build_model(name, shape, 5, seed=0, width=8)
    assert model.output_shape == (None, 5)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert bns and all(l.momentum == 0.9 for l in bns)
    x = np.random.default_rng(0).random((16, *shape), dtype=np.float32)
    y = np.arange(16) % 5
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_width_and_seed():
    small = build_model("cnn", (28, 28, 1), 10, width=8)
    big = build_model("cnn", (28, 28, 1), 10, width=16)
    assert big.count_params() > 3 * small.count_params()
    a = build_model("mlp", (2,), 3, seed=4, width=8).get_weights()
    b = build_model("mlp", (2,), 3, seed=4, width=8).get_weights()
    c = build_model("mlp", (2,), 3, seed=5, width=8).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    grey = build_model("resnet", (28, 28), 4, width=4)  # (H, W) images get a channel axis
    assert grey.output_shape == (None, 4)


def test_errors():
    with pytest.raises(ValueError, match=r"model 'cnn' needs image input .*received input_shape=\(2,\)"):
        build_model("cnn", (2,), 3)
    with pytest.raises(ValueError, match="model must be one of .*received model='vgg'"):
        build_model("vgg", (2,), 3)
    with pytest.raises(ValueError, match="num_classes must be >= 2; received num_classes=1"):
        build_model("mlp", (2,), 1)
    with pytest.raises(ValueError, match="width must be an integer >= 1; received width=0"):
        build_model("mlp", (2,), 3, width=0)
    assert default_width("resnet") == 16 and default_width("mlp", gpu=True) == 256
