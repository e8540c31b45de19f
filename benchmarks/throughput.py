"""Training throughput (samples/s) of each zoo model on the default and the synthetic datasets.

Every configuration is a real ``superconv.training.train_run`` (1cycle SGD, per-batch metrics
collected) with the model's default width. Epoch 0 carries the tracing and is left out; the figure
is training samples per second of wall time over the later epochs (their validation pass
included), so it is what a dashboard user sees. Image models are skipped on vector datasets.

Usage:
    python benchmarks/throughput.py                       # ~1-2 min on 2 CPU cores
    python benchmarks/throughput.py --epochs 5 --batch-size 256 --datasets digits shapes
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

IMAGE_DATASETS = {"digits", "shapes", "mnist", "fashion_mnist", "cifar10"}


def measure(model: str, dataset: str, epochs: int, batch_size: int, width: int | None) -> tuple[float, int, float]:
    """(samples/s over epochs 1.., training samples, final val accuracy) of one run."""
    from superconv.training import train_run

    epoch_rows = []
    result = train_run({"dataset": dataset, "model": model, "epochs": epochs, "batch_size": batch_size,
                        "width": width, "schedule": {"kind": "onecycle", "max_lr": 0.1}},
                       on_epoch=epoch_rows.append)
    if result.status != "finished":
        raise RuntimeError(f"{model} on {dataset} ended {result.status}: {result.error}")
    later = sum(r.seconds for r in epoch_rows[1:])
    n = result.final["num_train"]
    return n * (len(epoch_rows) - 1) / later, n, float(result.final["val_acc"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn", "resnet"])
    parser.add_argument("--datasets", nargs="+", default=["digits", "spirals", "blobs", "shapes"])
    parser.add_argument("--epochs", type=int, default=3, help=">= 2: epoch 0 is not timed")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=None, help="model width (default: each model's)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (epoch 0 is not timed)")

    import tensorflow as tf

    from superconv.training import describe_devices

    print(f"throughput: batch {args.batch_size}, {args.epochs} epochs (epoch 0 untimed), "
          f"device {describe_devices()}, TF {tf.__version__}")
    print(f"{'model':8} {'dataset':10} {'train':>6} {'samples/s':>10} {'val_acc':>8}")
    start = time.perf_counter()
    for dataset in args.datasets:
        for model in args.models:
            if model != "mlp" and dataset not in IMAGE_DATASETS:
                continue
            rate, n, acc = measure(model, dataset, args.epochs, args.batch_size, args.width)
            print(f"{model:8} {dataset:10} {n:6d} {rate:10.0f} {acc:8.3f}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
