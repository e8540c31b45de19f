"""A small model zoo sized for two CPU cores, wider on a GPU via ``width``.

Every model ends in a float32 softmax (safe under mixed precision), so compile with
``loss="sparse_categorical_crossentropy"``. BatchNormalization uses momentum 0.9: Keras'
default 0.99 averages over ~100 steps, too slow for the short, high-LR runs of super-convergence
(the paper used 0.95); with 0.99 the validation curves of short runs lag badly.

Importing this module does not import TensorFlow.

Example:
    >>> sorted(MODELS)
    ['cnn', 'mlp', 'resnet']
    >>> default_width("cnn"), default_width("cnn", gpu=True)
    (32, 64)
"""

from __future__ import annotations

from typing import Any, Sequence

MODELS: dict[str, str] = {
    "mlp": "multilayer perceptron: 2 hidden Dense layers (width units, default 128) with BatchNorm",
    "cnn": "small CNN: 3 conv blocks (width, width, 2*width filters, default 32) with BatchNorm, global pooling",
    "resnet": "small ResNet: stem + 3 stages of basic residual blocks (width, 2*width, 4*width, default 16)",
}

BN_MOMENTUM = 0.9

_WIDTH = {"mlp": 128, "cnn": 32, "resnet": 16}


def default_width(name: str, gpu: bool = False) -> int:
    """The width ``build_model`` uses when ``width=None`` (doubled when ``gpu`` is true)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; received model={name!r}")
    return _WIDTH[name] * (2 if gpu else 1)


MAX_PARAMS = 100_000_000
"""Largest model the zoo builds (~1.6 GB to train with SGD: weights, gradients, momentum, float32)."""


def estimate_params(name: str, input_shape: Sequence[int], num_classes: int, width: int) -> int:
    """Parameter count of ``build_model(name, input_shape, num_classes, width=width)`` without building
    it (no TensorFlow); BatchNorm's moving statistics included, as Keras' ``count_params`` counts them.

    Example:
        >>> estimate_params("mlp", (8, 8, 1), 10, 128)
        26890
        >>> estimate_params("resnet", (32, 32, 3), 10, 4096) > MAX_PARAMS
        True
    """
    w, classes = int(width), int(num_classes)
    shape = tuple(int(s) for s in input_shape)
    if name == "mlp":
        n_in = 1
        for s in shape:
            n_in *= s
        return n_in * w + 4 * w + w * w + 4 * w + w * classes + classes
    channels = shape[2] if len(shape) == 3 else 1
    if name == "cnn":
        total, c_in = 0, channels
        for f in (w, w, 2 * w):
            total += 9 * c_in * f + 4 * f
            c_in = f
        return total + c_in * classes + classes
    if name == "resnet":
        total, c_in = 9 * channels * w + 4 * w, w
        for stage, f in enumerate((w, 2 * w, 4 * w)):
            total += 9 * c_in * f + 4 * f + 9 * f * f + 4 * f
            if stage > 0 or c_in != f:
                total += c_in * f + 4 * f
            c_in = f
        return total + c_in * classes + classes
    raise ValueError(f"model must be one of {sorted(MODELS)}; received model={name!r}")


def check_model_size(name: str, input_shape: Sequence[int], num_classes: int, width: int) -> int:
    """Refuse a model too big to train (more than :data:`MAX_PARAMS` parameters) before any memory is
    allocated; returns the parameter count.

    Example:
        >>> check_model_size("cnn", (28, 28, 1), 10, 4096)
        Traceback (most recent call last):
        ...
        ValueError: width=4096 makes a cnn of 453,169,162 parameters; the limit is 100,000,000: lower width (received width=4096)
    """
    params = estimate_params(name, input_shape, num_classes, width)
    if params > MAX_PARAMS:
        raise ValueError(f"width={width} makes a {name} of {params:,} parameters; the limit is {MAX_PARAMS:,}: "
                         f"lower width (received width={width})")
    return params


def _image_shape(name: str, input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"model {name!r} needs image input (height, width, channels); "
                         f"received input_shape={tuple(input_shape)} (use model='mlp' for vectors)")
    return shape  # type: ignore[return-value]


def _mlp(keras: Any, x: Any, width: int) -> Any:
    x = keras.layers.Flatten()(x)
    for i in range(2):
        x = keras.layers.Dense(width, use_bias=False, name=f"dense_{i}")(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn_{i}")(x)
        x = keras.layers.Activation("relu")(x)
    return x


def _conv_bn(keras: Any, x: Any, filters: int, stride: int = 1, name: str = "") -> Any:
    x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)


def _cnn(keras: Any, x: Any, width: int, size: int) -> Any:
    for i, filters in enumerate((width, width, 2 * width)):
        x = keras.layers.Activation("relu")(_conv_bn(keras, x, filters, name=f"block{i}"))
        if size >= 4:  # pool while the feature map is large enough
            x = keras.layers.MaxPooling2D(2)(x)
            size //= 2
    return keras.layers.GlobalAveragePooling2D()(x)


def _resnet(keras: Any, x: Any, width: int, size: int) -> Any:
    x = keras.layers.Activation("relu")(_conv_bn(keras, x, width, name="stem"))
    for stage, filters in enumerate((width, 2 * width, 4 * width)):
        stride = 2 if stage > 0 and size >= 4 else 1
        size = (size + 1) // 2 if stride == 2 else size
        y = keras.layers.Activation("relu")(_conv_bn(keras, x, filters, stride, name=f"s{stage}_a"))
        y = _conv_bn(keras, y, filters, name=f"s{stage}_b")
        if stride != 1 or x.shape[-1] != filters:
            x = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"s{stage}_proj")(x)
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"s{stage}_proj_bn")(x)
        x = keras.layers.Activation("relu")(keras.layers.Add()([x, y]))
    return keras.layers.GlobalAveragePooling2D()(x)


def build_model(name: str, input_shape: Sequence[int], num_classes: int, *, seed: int = 0,
                width: int | None = None) -> Any:
    """Build an uncompiled Keras model of the zoo.

    Args:
        name: ``"mlp"``, ``"cnn"`` or ``"resnet"``.
        input_shape: Shape of one sample; CNN/ResNet need ``(H, W)`` or ``(H, W, C)``.
        num_classes: Number of output classes (>= 2).
        seed: Seeds the weight initialization (calls ``keras.utils.set_random_seed``).
        width: Hidden units (MLP) or base filters (CNN, ResNet); ``None`` uses :func:`default_width`.

    Returns:
        A ``keras.Model`` mapping inputs to class probabilities (float32 softmax).

    Example:
        >>> build_model("cnn", (2,), 3)   # checked before TensorFlow is imported
        Traceback (most recent call last):
        ...
        ValueError: model 'cnn' needs image input (height, width, channels); received input_shape=(2,) (use model='mlp' for vectors)

        ``build_model("cnn", (28, 28, 1), 10).output_shape`` is ``(None, 10)``.
    """
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; received model={name!r}")
    if int(num_classes) < 2:
        raise ValueError(f"num_classes must be >= 2; received num_classes={num_classes!r}")
    if width is None:
        width = default_width(name)
    if int(width) < 1:
        raise ValueError(f"width must be an integer >= 1; received width={width!r}")
    width = int(width)
    shape = tuple(int(s) for s in input_shape)
    if name != "mlp":
        shape = _image_shape(name, shape)
    check_model_size(name, shape, int(num_classes), width)  # before TensorFlow allocates anything

    import keras

    keras.utils.set_random_seed(int(seed))
    inputs = keras.Input(shape=tuple(int(s) for s in input_shape), name="inputs")
    x = inputs
    if name != "mlp" and len(tuple(input_shape)) == 2:
        x = keras.layers.Reshape(shape)(x)
    if name == "mlp":
        x = _mlp(keras, x, width)
    elif name == "cnn":
        x = _cnn(keras, x, width, min(shape[:2]))
    else:
        x = _resnet(keras, x, width, min(shape[:2]))
    x = keras.layers.Dense(int(num_classes), name="logits")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name=name)
