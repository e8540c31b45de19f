"""Epochs to a target accuracy when every schedule may also pick its epoch budget (a budget sweep).

The class-demo race gives every lane one budget. 1cycle and step decay are shaped by the budget, so a
lane may reach the target sooner in a shorter run (its annealing comes earlier). This script trains
each candidate schedule at several budgets and seeds and reports, per lane, the fewest epochs after
which the mean validation accuracy over the seeds has reached the target in a run of any budget of the
grid (the time-to-accuracy measure of DAWNBench and of the super-convergence paper's tables), the
final accuracy at each budget, and the 1cycle / best-baseline ratio of those epoch counts.

Three ways to train:

* ``digits`` (default): the class-demo preset's data, model, batch size and optimizer, trained through
  the engine (:func:`superconv.training.train_run`).
* ``mnist1d``: MNIST-1D (40-step 1-D signals, 4,000 train / 1,000 test, 10 classes; generated offline by
  the ``mnist1d`` package with its default arguments), a 3-layer 1-D CNN with BatchNorm, SGD (Nesterov),
  batch 128, trained with plain ``model.fit`` and the superconv optimizers. Needs
  ``pip install mnist1d==0.0.2.post1``.
* ``digits`` with a variant flag (``--optimizer adam``, ``--no-batchnorm``, ``--label-noise``,
  ``--train-samples``, ``--weight-decay``...): the same split and MLP width, trained with plain
  ``model.fit`` and the superconv optimizers so that the variants the engine does not offer (an MLP
  without BatchNorm, flipped training labels, a smaller training set) can be measured. The LR grids are the ``variant`` grids, multiplied by
  ``--lr-scale``.

Usage::

    python benchmarks/demo_budgets.py                         # digits, 3 seeds (about 15 minutes on 2 cores)
    python benchmarks/demo_budgets.py --data mnist1d          # about 15 minutes
    python benchmarks/demo_budgets.py --data mnist1d --weight-decay 5e-4 --targets 0.96,0.965
    python benchmarks/demo_budgets.py --label-noise 0.2          # variants: about 6 minutes each
    python benchmarks/demo_budgets.py --no-batchnorm --depth 3 --lr-scale 0.3
    python benchmarks/demo_budgets.py --optimizer adam [--no-batchnorm]
    python benchmarks/demo_budgets.py --train-samples 400 --batch-size 100
    python benchmarks/demo_budgets.py --weight-decay 5e-4
    python benchmarks/demo_budgets.py --augment 1             # random 1-pixel shifts
    python benchmarks/demo_budgets.py --depth 4 --weight-decay 5e-4   # a deeper MLP with BatchNorm
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from superconv.demo import epochs_to_target  # noqa: E402


def onecycle(lr: float, pct: float) -> dict:
    return {"kind": "onecycle", "max_lr": lr, "pct_start": pct, "div_factor": 10.0, "final_div_factor": 1e4,
            "anneal": "cos", "base_momentum": 0.85, "max_momentum": 0.95}


def constant(lr: float) -> dict:
    return {"kind": "constant", "lr": lr, "momentum": 0.9}


def step(lr: float) -> dict:
    return {"kind": "step", "lr": lr, "boundaries": [0.5, 0.75], "factor": 0.1, "momentum": 0.9}


# lane -> [(schedule, budgets)]. A constant LR does not depend on the budget: one long run gives every budget.
GRIDS = {
    "digits": {
        "1cycle": [(onecycle(lr, pct), (4, 5, 6, 8, 10, 12, 16, 20)) for lr in (0.5, 1.0, 2.0) for pct in (0.1, 0.2, 0.3)]
        + [(onecycle(lr, pct), (6, 7, 8, 9, 10)) for lr in (0.7, 1.5) for pct in (0.2, 0.3)],
        "constant": [(constant(lr), (30,)) for lr in (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)],
        "step decay": [(step(lr), (4, 5, 6, 8, 10, 12, 16, 20)) for lr in (0.3, 0.5, 1.0)]
        + [(step(lr), (8, 10, 12, 14, 16, 20, 24)) for lr in (0.2, 0.4)],
    },
    "mnist1d": {
        "1cycle": [(onecycle(lr, 0.2), (10, 15, 20)) for lr in (0.3, 0.5, 1.0)],
        "constant": [(constant(lr), (40,)) for lr in (0.03, 0.1, 0.3)],
        "step decay": [(step(lr), (20, 40)) for lr in (0.1, 0.3)],
    },
}
# The digits variants (plain model.fit); the LRs are multiplied by --lr-scale.
VARIANT_LRS = {"sgd": {"1cycle": (0.5, 1.0, 2.0), "constant": (0.1, 0.3, 1.0), "step decay": (0.3, 1.0)},
               "adam": {"1cycle": (3e-3, 1e-2, 3e-2), "constant": (1e-3, 3e-3, 1e-2), "step decay": (3e-3, 1e-2)}}


def variant_grid(optimizer: str, scale: float) -> dict:
    lrs = {lane: [lr * scale for lr in values] for lane, values in VARIANT_LRS[optimizer].items()}
    return {"1cycle": [(onecycle(lr, 0.1), (5, 8, 12, 20)) for lr in lrs["1cycle"]]
            + [(onecycle(lrs["1cycle"][1], 0.3), (5, 8, 12, 20))],
            "constant": [(constant(lr), (40,)) for lr in lrs["constant"]],
            "step decay": [(step(lr), (8, 12, 16, 24, 40)) for lr in lrs["step decay"]]}


def digits_curve(schedule: dict, epochs: int, seed: int, weight_decay: float) -> list[float]:
    from superconv.demo import RaceSchedule, get_preset, race_configs
    from superconv.training import train_run

    preset = dataclasses.replace(get_preset("digits"), schedules=(RaceSchedule("lane", schedule),),
                                 weight_decay=weight_decay)
    rows: list = []
    train_run(race_configs(preset, seeds=[seed], epochs=epochs)[0], on_epoch=rows.append)
    return [float(r.val_acc) for r in rows]


_MNIST1D: dict = {}


def mnist1d_curve(schedule: dict, epochs: int, seed: int, weight_decay: float) -> list[float]:
    import keras

    if not _MNIST1D:
        try:
            from mnist1d.data import get_dataset_args, make_dataset
        except ImportError as exc:
            raise SystemExit("--data mnist1d needs the mnist1d package: pip install mnist1d==0.0.2.post1") from exc
        d = make_dataset(get_dataset_args())
        _MNIST1D.update(x=d["x"].astype("float32"), y=d["y"].astype("int64"),
                        xv=d["x_test"].astype("float32"), yv=d["y_test"].astype("int64"))
    x, y, xv, yv = (_MNIST1D[k] for k in ("x", "y", "xv", "yv"))
    batch = 128
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((x.shape[1],))
    h = keras.layers.Reshape((x.shape[1], 1))(inputs)
    for i in range(3):
        h = keras.layers.Conv1D(32, 5, strides=2 if i else 1, padding="same", use_bias=False)(h)
        h = keras.layers.BatchNormalization(momentum=0.9)(h)
        h = keras.layers.Activation("relu")(h)
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(h)))
    return fit_val_accuracy(model, schedule, (x, y, xv, yv), batch=batch, epochs=epochs, optimizer="sgd",
                            weight_decay=weight_decay)


def fit_val_accuracy(model, schedule: dict, arrays: tuple, *, batch: int, epochs: int, optimizer: str,
                     weight_decay: float) -> list[float]:
    """Train ``model`` (10 logits) with ``model.fit`` under ``schedule``; validation accuracy per epoch.

    An epoch whose training loss or validation accuracy is not finite (a diverged run) counts as 0.0.
    """
    import keras
    from superconv.keras import one_cycle_optimizer
    from superconv.schedules import schedule_from_dict

    x, y, xv, yv = arrays
    kwargs = {"nesterov": True} if optimizer == "sgd" else {}
    if weight_decay:
        kwargs["weight_decay"] = weight_decay
    total = -(-len(x) // batch) * epochs
    opt = one_cycle_optimizer(optimizer, schedule_from_dict(dict(schedule, total_steps=total)), **kwargs)
    model.compile(opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=(xv, yv), verbose=0)
    return [float(v) if np.isfinite(v) and np.isfinite(loss) else 0.0
            for v, loss in zip(hist.history["val_accuracy"], hist.history["loss"])]


_DIGITS: dict = {}


def digits_variant_curve(schedule: dict, epochs: int, seed: int, args: argparse.Namespace) -> list[float]:
    """Digits as the class-demo preset splits it, with the variant flags applied, trained with model.fit."""
    import keras
    from superconv.data import load_dataset
    from superconv.demo import get_preset

    preset = get_preset("digits")
    if seed not in _DIGITS:
        ds = load_dataset("digits", seed=seed, val_fraction=preset.val_fraction)
        x, y = ds.x_train.reshape(len(ds.x_train), -1), ds.y_train.astype("int64")
        if args.train_samples:
            x, y = x[: args.train_samples], y[: args.train_samples]
        if args.label_noise:  # flip a share of the training labels to another class; validation stays clean
            rng = np.random.default_rng(1000 + seed)
            flip = rng.random(len(y)) < args.label_noise
            y = y.copy()
            y[flip] = (y[flip] + rng.integers(1, 10, int(flip.sum()))) % 10
        _DIGITS[seed] = (x, y, ds.x_val.reshape(len(ds.x_val), -1), ds.y_val.astype("int64"))
    x, y, xv, yv = _DIGITS[seed]
    batch = args.batch_size or preset.batch_size
    keras.utils.set_random_seed(seed)
    h = inputs = keras.Input((x.shape[1],))
    if args.augment:  # random shifts of the 8x8 image, active in training only
        side = int(round(x.shape[1] ** 0.5))
        h = keras.layers.Reshape((side, side, 1))(h)
        h = keras.layers.RandomTranslation(args.augment / side, args.augment / side, fill_mode="constant",
                                           interpolation="nearest", seed=seed)(h)
        h = keras.layers.Flatten()(h)
    for _ in range(args.depth):
        if args.no_batchnorm:
            h = keras.layers.Dense(preset.width, activation="relu")(h)
        else:
            h = keras.layers.BatchNormalization(momentum=0.9)(keras.layers.Dense(preset.width, use_bias=False)(h))
            h = keras.layers.Activation("relu")(h)
    model = keras.Model(inputs, keras.layers.Dense(10)(h))
    return fit_val_accuracy(model, schedule, (x, y, xv, yv), batch=batch, epochs=epochs,
                            optimizer=args.optimizer, weight_decay=args.weight_decay)


def describe(schedule: dict) -> str:
    if schedule["kind"] == "onecycle":
        return f"peak {schedule['max_lr']:g}, warm-up {schedule['pct_start']:.0%}"
    return f"LR {schedule['lr']:g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=sorted(GRIDS), default="digits")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--targets", default=None, help="comma-separated target accuracies")
    variant = parser.add_argument_group("digits variants (plain model.fit)")
    variant_flags = [
        variant.add_argument("--optimizer", choices=sorted(VARIANT_LRS), default="sgd"),
        variant.add_argument("--no-batchnorm", action="store_true", help="Dense + ReLU layers without BatchNorm"),
        variant.add_argument("--depth", type=int, default=2, help="hidden layers (default 2)"),
        variant.add_argument("--label-noise", type=float, default=0.0, help="share of training labels flipped"),
        variant.add_argument("--train-samples", type=int, default=0, help="keep this many training samples"),
        variant.add_argument("--batch-size", type=int, default=0, help="default: the preset's 512"),
        variant.add_argument("--lr-scale", type=float, default=1.0, help="multiplies every LR of the variant grid"),
        variant.add_argument("--augment", type=int, default=0,
                             help="shift each training image by up to this many pixels, anew every epoch"),
    ]
    args = parser.parse_args()
    changed = [f.option_strings[0] for f in variant_flags if getattr(args, f.dest) != f.default]
    if changed and args.data != "digits":
        parser.error(f"the digits variant flags ({', '.join(changed)}) need --data digits; received --data {args.data}")
    # Weight decay is shared with mnist1d; on digits the engine path does not take it, the variant path does.
    is_variant = args.data == "digits" and bool(changed or args.weight_decay)
    targets = [float(t) for t in (args.targets or ("0.97,0.975,0.98" if args.data == "digits" else "0.96,0.965,0.97")).split(",")]
    if is_variant:
        grid = variant_grid(args.optimizer, args.lr_scale)

        def train(schedule: dict, epochs: int, seed: int, _wd: float) -> list[float]:
            return digits_variant_curve(schedule, epochs, seed, args)
    else:
        grid = GRIDS[args.data]
        train = digits_curve if args.data == "digits" else mnist1d_curve
    curves: dict = collections.defaultdict(dict)  # (lane, description) -> budget -> mean curve
    start = time.perf_counter()
    for lane, candidates in grid.items():
        for schedule, budgets in candidates:
            for budget in budgets:
                runs = [train(schedule, budget, seed, args.weight_decay) for seed in range(args.seeds)]
                n = min(len(r) for r in runs)
                curves[(lane, describe(schedule))][budget] = np.mean([r[:n] for r in runs], axis=0) if n else np.zeros(0)
            print(f"  trained {lane} {describe(schedule)} at budgets {budgets} ({time.perf_counter() - start:.0f} s)", flush=True)
    flags = f" (variant: {vars(args)})" if is_variant else ""
    print(f"\n{args.data}{flags}, weight decay {args.weight_decay:g}, seeds 0..{args.seeds - 1}: epochs until the mean "
          "validation accuracy reaches the target in a run of any budget (-: never), and final accuracy per budget")
    for target in targets:
        print(f"\n=== target {target:.1%}")
        best: dict = {}
        for (lane, desc), by_budget in curves.items():
            hits = [h for h in (epochs_to_target(c, target) for c in by_budget.values() if c.size) if h is not None]
            epochs = min(hits) if hits else None
            finals = "  ".join(f"B{b}: {c[-1]:.4f}" for b, c in sorted(by_budget.items()) if c.size)
            print(f"  {lane:10s} {desc:24s} epochs {'-' if epochs is None else epochs:>3}   final {finals}")
            key = (np.inf if epochs is None else epochs, -max(c[-1] for c in by_budget.values() if c.size))
            if lane not in best or key < best[lane][0]:
                best[lane] = (key, desc)
        one = best["1cycle"][0][0]
        lane, (key, desc) = min(((k, v) for k, v in best.items() if k != "1cycle"), key=lambda kv: kv[1][0])
        ratio = "n/a" if np.isinf(one) or np.isinf(key[0]) else f"{one / key[0]:.2f}"
        print(f"  best 1cycle: {best['1cycle'][1]} ({one}); best baseline: {lane} {desc} ({key[0]}); ratio {ratio}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
