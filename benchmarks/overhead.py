"""Cost of the instrumented training run vs a plain Keras fit, measured in one run.

Instrumented: ``superconv.training.train_run`` (in-graph 1cycle LR and momentum via ScheduledSGD,
ScheduleGuard, true per-batch loss, applied LR/momentum read back every batch, every row written
to a SQLite run store in batches, per-epoch validation). Plain: the same model, data pipelines,
validation and epochs with ``keras.optimizers.SGD(learning_rate=const, momentum=0.9)`` and no
callbacks (a timer that only implements ``on_epoch_end``, which leaves Keras' batch loop
untouched). Epoch k (k >= 1; epoch 0 carries the tracing) is timed between the ends of epochs k-1
and k, in wall-clock seconds and in process CPU seconds (all threads); the CPU figure is the one
to trust on a machine shared with other work. Runs alternate plain/instrumented; the ratios
compare the fastest epochs (least disturbed) and the median epochs of each side.

Usage:
    python benchmarks/overhead.py                         # small CNN on shapes (28x28), ~1-2 min on 2 cores
    python benchmarks/overhead.py --model mlp --dataset digits --epochs 10 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def plain_fit_seconds(cfg: dict, ds) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of epochs 1.. of a plain ``fit`` (constant LR, Keras SGD, no per-batch callbacks)."""
    import keras

    from superconv.models import build_model

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_epoch_end(self, epoch, logs=None):
            self.stamps.append((time.perf_counter(), time.process_time()))

    keras.utils.set_random_seed(cfg["seed"])
    model = build_model(cfg["model"], ds.input_shape, ds.num_classes, seed=cfg["seed"], width=cfg.get("width"))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = Timer()
    model.fit(ds.train_pipeline(cfg["batch_size"], seed=cfg["seed"]), validation_data=ds.val_pipeline(max(256, cfg["batch_size"])),
              epochs=cfg["epochs"], verbose=0, shuffle=False, callbacks=[timer])
    return _deltas(timer.stamps)


def _deltas(stamps: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of epochs 1.. from the (wall, cpu) stamps taken at each epoch end."""
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(stamps, stamps[1:])]


def instrumented_seconds(cfg: dict, store) -> tuple[list[tuple[float, float]], int]:
    """(wall, cpu) seconds of epochs 1.. of ``train_run`` writing every metric to ``store``; rows written."""
    from superconv.training import train_run

    from superconv.store import MetricsWriter

    run_id = store.create_run(cfg, name="overhead benchmark")
    stamps = []
    with MetricsWriter(store, run_id) as writer:   # as the worker and the CLI write them

        def on_epoch(row):
            writer.add_epoch(row)
            stamps.append((time.perf_counter(), time.process_time()))

        result = train_run(cfg, on_batch=writer.add_batches, on_epoch=on_epoch)
    if result.status != "finished":
        raise RuntimeError(f"instrumented run ended {result.status}: {result.error}")
    store.set_status(run_id, result.status, final=result.final, device=result.device)
    return _deltas(stamps), len(store.batch_metrics(run_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", choices=["mlp", "cnn", "resnet"])
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="plain/instrumented pairs")
    parser.add_argument("--width", type=int, default=None)
    args = parser.parse_args()

    import tensorflow as tf

    from superconv.data import load_dataset
    from superconv.store import RunStore
    from superconv.training import describe_devices

    cfg = {"dataset": args.dataset, "model": args.model, "epochs": args.epochs, "batch_size": args.batch_size,
           "width": args.width, "seed": 0, "optimizer": "sgd",
           "schedule": {"kind": "onecycle", "max_lr": 0.05}}
    ds = load_dataset(args.dataset, seed=0)
    store = RunStore(os.path.join(tempfile.mkdtemp(), "bench.sqlite"))
    print(f"overhead: {args.model} on {args.dataset} ({ds.num_train} train, {ds.num_val} val), "
          f"{args.epochs} epochs x batch {args.batch_size}, device {describe_devices()}, TF {tf.__version__}")
    plain_epochs, our_epochs = [], []
    for i in range(args.repeats):
        plain = plain_fit_seconds(cfg, ds)
        ours, rows = instrumented_seconds(cfg, store)
        plain_epochs += plain
        our_epochs += ours
        show = lambda xs: " ".join(f"{w:.2f}/{c:.2f}" for w, c in xs)  # noqa: E731
        print(f"  run {i + 1}: wall/cpu s per epoch: plain {show(plain)} | instrumented {show(ours)} "
              f"({rows} batch rows stored)")
    for k, label in ((0, "wall"), (1, "cpu")):
        p = [e[k] for e in plain_epochs]
        o = [e[k] for e in our_epochs]
        print(f"ratio instrumented/plain ({label} time): fastest epochs {min(o) / min(p):.3f}, "
              f"median epochs {statistics.median(o) / statistics.median(p):.3f} (target <= 1.05)")
    print(f"plain fastest epoch {min(e[0] for e in plain_epochs):.2f} s wall = "
          f"{ds.num_train / min(e[0] for e in plain_epochs):.0f} samples/s (train + validation pass)")


if __name__ == "__main__":
    main()
