"""Samples/s of the zoo models on CPU vs GPU, float32 vs mixed precision, measured in one run.

Every configuration trains the same model on the same synthetic 28x28 "shapes" batches with the
1cycle ScheduledSGD optimizer; the first steps (tracing, warm-up) are not timed. Mixed precision is
float16 on a GPU (the engine's choice) and bfloat16 on the CPU. Rows for a GPU are skipped, with a
note, where TensorFlow sees none.

Usage:
    python benchmarks/gpu.py                      # all models, 40 timed steps each
    python benchmarks/gpu.py --models cnn --steps 200 --batch-size 512
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def samples_per_second(model_name: str, device: str, policy: str, x, y, batch: int, steps: int, warmup: int) -> float:
    """Train ``warmup`` untimed then ``steps`` timed batches; return timed samples per second."""
    import keras
    import tensorflow as tf

    from superconv import OneCycle
    from superconv.keras import one_cycle_optimizer
    from superconv.models import build_model, default_width

    keras.mixed_precision.set_global_policy(policy)
    try:
        with tf.device(device):
            model = build_model(model_name, x.shape[1:], int(y.max()) + 1, seed=0,
                                width=default_width(model_name, gpu=device.startswith("/GPU")))
            schedule = OneCycle(max_lr=0.05, total_steps=warmup + steps)
            model.compile(one_cycle_optimizer("sgd", schedule), "sparse_categorical_crossentropy")
            data = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch).prefetch(tf.data.AUTOTUNE)
            model.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0, shuffle=False)
            start = time.perf_counter()
            model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
            return steps * batch / (time.perf_counter() - start)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn", "resnet"])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    import tensorflow as tf

    from superconv.data import make_shapes

    x, y = make_shapes(n=4 * args.batch_size, seed=0)
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    devices = [("CPU", "/CPU:0", "mixed_bfloat16")] + [("GPU", "/GPU:0", "mixed_float16")] * bool(gpus)
    gpu_name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else None
    print(f"TensorFlow {tf.__version__}; CPU cores {os.cpu_count()}; GPU: {gpu_name or 'none visible'}")
    print(f"batch {args.batch_size}, {args.steps} timed steps after {args.warmup} warm-up steps\n")
    print(f"{'model':8} {'device':6} {'fp32 samples/s':>15} {'mixed samples/s':>16} {'mixed/fp32':>11} {'vs CPU fp32':>12}")
    for name in args.models:
        cpu_fp32 = None
        for label, device, mixed in devices:
            fp32 = samples_per_second(name, device, "float32", x, y, args.batch_size, args.steps, args.warmup)
            mp = samples_per_second(name, device, mixed, x, y, args.batch_size, args.steps, args.warmup)
            cpu_fp32 = cpu_fp32 or fp32
            print(f"{name:8} {label:6} {fp32:15.0f} {mp:16.0f} {mp / fp32:10.2f}x {fp32 / cpu_fp32:11.2f}x")
    if not gpus:
        print("\nNo GPU visible: GPU rows skipped. Run this on a machine with a GPU for the GPU figures.")


if __name__ == "__main__":
    main()
