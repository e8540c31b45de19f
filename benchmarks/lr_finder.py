"""Benchmark: a 100-step LR range test vs 100 plain training steps of the same model.

Default: the digits dataset and the zoo's small CNN, SGD, batch size 64, on whatever device TF
picks. Both sides start from a freshly built model, so the cold numbers include building and
tracing the train step (what a user waits for); the warm numbers repeat the same 100 steps with
the step already traced. Plain training is ``model.fit`` on the engine's ``train_pipeline`` (the
path a training run takes). Rounds alternate the order; the medians are compared.

Run:
    python benchmarks/lr_finder.py [--model cnn] [--dataset digits] [--steps 100] [--rounds 5]

Prints one line per measurement and the ratios (range test / plain training).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits")
    p.add_argument("--model", default="cnn")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)

    import keras
    import tensorflow as tf

    from superconv.data import load_dataset
    from superconv.lr_finder import LRFinder
    from superconv.models import build_model

    data = load_dataset(args.dataset, seed=0)
    n = args.steps

    def fresh_model():
        return build_model(args.model, data.input_shape, data.num_classes, seed=0)

    def plain_fit():
        model = fresh_model()
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
        ds = data.train_pipeline(args.batch_size, seed=0).repeat()
        t0 = time.perf_counter()
        model.fit(ds, steps_per_epoch=n, epochs=1, verbose=0)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.fit(ds, steps_per_epoch=n, epochs=1, verbose=0)
        return cold, time.perf_counter() - t0

    def range_test():
        model = fresh_model()
        t0 = time.perf_counter()
        finder = LRFinder(model, "sgd", momentum=0.9)
        # end_lr kept below divergence so every round runs all n steps
        kw = dict(batch_size=args.batch_size, start_lr=1e-5, end_lr=0.1, num_iter=n, diverge_th=1e9)
        r = finder.range_test((data.x_train, data.y_train), **kw)
        cold = time.perf_counter() - t0
        assert r.num_iter_done == n, r.stop_reason
        t0 = time.perf_counter()
        finder.range_test((data.x_train, data.y_train), **kw)
        return cold, time.perf_counter() - t0

    plain_fit(), range_test()  # warm up TF itself (first op, thread pools)
    fits, tests = [], []
    for i in range(args.rounds):
        order = (plain_fit, range_test) if i % 2 == 0 else (range_test, plain_fit)
        for fn in order:
            (fits if fn is plain_fit else tests).append(fn())
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    print(f"{args.dataset} / {args.model}, batch {args.batch_size}, {n} steps, {args.rounds} rounds, {device}")
    print(f"plain training (model.fit), cold: {med(fits, 0):.3f} s   warm: {med(fits, 1):.3f} s")
    print(f"LR range test,              cold: {med(tests, 0):.3f} s   warm: {med(tests, 1):.3f} s")
    print(f"ratio range test / plain training: cold {med(tests, 0) / med(fits, 0):.2f}x, "
          f"warm {med(tests, 1) / med(fits, 1):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
