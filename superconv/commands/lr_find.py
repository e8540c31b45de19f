"""Run an LR range test (LR finder) and print the curve summary and every rule's suggestion.

The LR grows from --start-lr to --end-lr over --num-iter batches (exponentially by default); the
test stops early when the smoothed loss blows up. Several --seeds give a mean curve; several
--weight-decay (or --batch-size) values give one curve group each, as Smith recommends testing
under the conditions of the real run. Model weights are not saved: the test trains a fresh model.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from superconv.commands import as_flags
from superconv.lr_finder import MAX_CURVES, MIN_CURVE_POINTS, MODES, job_configs, lr_sequence


MAX_NUM_ITER = 100_000

# Run fields -> the flags that set them, for error messages.
RUN_FIELD_FLAGS = {"dataset": "--dataset", "csv_path": "--csv-path", "model": "--model", "optimizer": "--optimizer",
                   "batch_size": "--batch-size", "weight_decay": "--weight-decay", "momentum": "--momentum",
                   "max_samples": "--max-samples", "seed": "--seeds", "seeds": "--seeds"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits", help="dataset name (default digits, offline)")
    p.add_argument("--csv-path", help="CSV file for --dataset csv")
    p.add_argument("--model", default="cnn", help="model of the zoo: mlp, cnn, resnet (default cnn)")
    p.add_argument("--optimizer", default="sgd", help="sgd, adam, adamw or rmsprop (default sgd)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD/RMSprop momentum or Adam beta_1 (default 0.9)")
    p.add_argument("--batch-size", type=int, nargs="+", default=[64],
                   help="batch size; several values sweep it (default 64)")
    p.add_argument("--weight-decay", type=float, nargs="+", default=[0.0],
                   help="weight decay; several values sweep it (default 0)")
    p.add_argument("--start-lr", type=float, default=1e-5, help="LR of the first batch (default 1e-5)")
    p.add_argument("--end-lr", type=float, default=10.0, help="LR of the last batch (default 10)")
    p.add_argument("--num-iter", type=int, default=100, help="batches in the sweep (default 100)")
    p.add_argument("--mode", choices=list(MODES), default="exp", help="LR growth (default exp)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="one curve per seed (default 0)")
    p.add_argument("--beta", type=float, default=0.95, help="loss smoothing factor (default 0.95)")
    p.add_argument("--diverge-th", type=float, default=5.0,
                   help="stop when the smoothed loss exceeds this times the best (default 5)")
    p.add_argument("--val-every", type=int, help="also compute the validation loss every k batches")
    p.add_argument("--max-samples", type=int, help="use at most this many samples of the dataset")
    p.add_argument("--json", action="store_true", help="print curves and suggestions as JSON")


def plan_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Check the flags (no TensorFlow) and return the keyword arguments of ``run_sweep``."""
    from superconv.data import DATASETS
    from superconv.models import MODELS

    if args.dataset not in DATASETS:
        raise ValueError(f"--dataset must be one of {sorted(DATASETS)}; received --dataset={args.dataset!r}")
    if args.model not in MODELS:
        raise ValueError(f"--model must be one of {sorted(MODELS)}; received --model={args.model!r}")
    if args.optimizer not in ("sgd", "adam", "adamw", "rmsprop"):
        raise ValueError(f"--optimizer must be one of ['adam', 'adamw', 'rmsprop', 'sgd']; "
                         f"received --optimizer={args.optimizer!r}")
    if args.num_iter > MAX_NUM_ITER:  # before lr_sequence allocates the grid
        raise ValueError(f"--num-iter must be <= {MAX_NUM_ITER}; received --num-iter={args.num_iter}")
    with as_flags({"start_lr": "--start-lr", "end_lr": "--end-lr", "num_iter": "--num-iter", "mode": "--mode"}):
        lr_sequence(args.start_lr, args.end_lr, args.num_iter, args.mode)
    for bs in args.batch_size:
        if bs < 1:
            raise ValueError(f"--batch-size must be an integer >= 1; received --batch-size={bs}")
    for wd in args.weight_decay:
        if not wd >= 0:
            raise ValueError(f"--weight-decay must be >= 0; received --weight-decay={wd}")
    if len(args.batch_size) > 1 and len(args.weight_decay) > 1:
        raise ValueError("sweep one of --batch-size or --weight-decay at a time; received several values for both")
    curves = len(dict.fromkeys(args.seeds)) * max(len(args.batch_size), len(args.weight_decay))
    if curves > MAX_CURVES:
        raise ValueError(f"at most {MAX_CURVES} curves (--seeds x swept values); received "
                         f"{len(dict.fromkeys(args.seeds))} seed(s) x {max(len(args.batch_size), len(args.weight_decay))} "
                         f"value(s) = {curves}")

    def in_range(flag: str, value: float, low: float, high: float, rule: str) -> None:
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"--{flag} must be {rule}; received --{flag}={value}")

    in_range("momentum", args.momentum, 0.0, 0.999999, "in [0, 1)")
    in_range("beta", args.beta, 0.0, 0.999999, "in [0, 1)")
    in_range("diverge-th", args.diverge_th, 1.000001, 1e12, "a finite number > 1")
    for wd in args.weight_decay:
        in_range("weight-decay", wd, 0.0, 1.0, "in [0, 1]")
    for bs in args.batch_size:
        if bs > 1_000_000:
            raise ValueError(f"--batch-size must be <= 1000000; received --batch-size={bs}")
    for seed in args.seeds:
        if not 0 <= seed < 2**31:
            raise ValueError(f"--seeds must be integers in [0, 2**31); received --seeds={seed}")
    if args.max_samples is not None and args.max_samples < 10:
        raise ValueError(f"--max-samples must be an integer >= 10; received --max-samples={args.max_samples}")
    if args.val_every is not None and args.val_every < 1:
        raise ValueError(f"--val-every must be an integer >= 1; received --val-every={args.val_every}")
    if args.csv_path is not None and args.dataset != "csv":
        raise ValueError(f"--csv-path is read only with --dataset csv; received --csv-path={args.csv_path!r} "
                         f"with --dataset={args.dataset!r}")
    plan: dict[str, Any] = dict(
        seeds=list(dict.fromkeys(args.seeds)), dataset=args.dataset, csv_path=args.csv_path, model=args.model,
        optimizer=args.optimizer, momentum=args.momentum, batch_size=args.batch_size[0],
        weight_decay=args.weight_decay[0], start_lr=args.start_lr, end_lr=args.end_lr, num_iter=args.num_iter,
        mode=args.mode, beta=args.beta, diverge_th=args.diverge_th, val_every=args.val_every,
        max_samples=args.max_samples,
    )
    if len(args.weight_decay) > 1:
        plan.update(sweep_over="weight_decay", values=list(args.weight_decay))
    elif len(args.batch_size) > 1:
        plan.update(sweep_over="batch_size", values=list(args.batch_size))
    # Every curve's run fields, checked as a training run's are (the CSV, the model against the data's
    # shape, the batch against the data's size) before TensorFlow loads.
    with as_flags(RUN_FIELD_FLAGS):
        job_configs(**{k: v for k, v in plan.items() if k != "val_every"})
    return plan


def _suggestions(curve: Any) -> list[dict[str, Any]]:
    """Every rule's suggestion, none for a curve shorter than ``MIN_CURVE_POINTS`` (the rules would read noise)."""
    return [s.to_dict() for s in curve.suggestions()] if curve.lrs.size >= MIN_CURVE_POINTS else []


def summarize(results: list, bands: dict) -> dict[str, Any]:
    """JSON-ready summary: one entry per curve and per group (mean over seeds) with all suggestions."""
    import numpy as np

    curves = []
    for r in results:
        sm = r.smoothed
        i = int(np.argmin(sm)) if sm.size else 0
        curves.append({
            "label": r.label, "seed": r.params.get("seed"), "steps": r.num_iter_done, "stop_reason": r.stop_reason,
            "first_lr": float(r.lrs[0]) if r.lrs.size else None, "last_lr": float(r.lrs[-1]) if r.lrs.size else None,
            "min_smoothed_loss": float(sm[i]) if sm.size else None, "lr_at_min": float(r.lrs[i]) if sm.size else None,
            "seconds": round(float(r.seconds), 3),
            "suggestions": _suggestions(r),
        })
    groups = [{"label": label, "n_curves": band.n_curves, "steps": int(band.lrs.size),
               "suggestions": _suggestions(band)} for label, band in bands.items()]
    return {"curves": curves, "groups": groups}


def run(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    from superconv.lr_range_test import bands_by_label, run_sweep

    results = run_sweep(**plan)
    info = summarize(results, bands_by_label(results))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    out = sys.stdout
    print(f"LR range test: {args.dataset} / {args.model} / {args.optimizer}, {args.mode} sweep "
          f"{args.start_lr:g} -> {args.end_lr:g} over {args.num_iter} batches", file=out)
    for c in info["curves"]:
        tag = f"[{c['label']}] " if c["label"] else ""
        print(f"  {tag}seed {c['seed']}: {c['steps']} steps ({c['stop_reason']}), lr {c['first_lr']:.3g} -> "
              f"{c['last_lr']:.3g}, min smoothed loss {c['min_smoothed_loss']:.4g} at lr {c['lr_at_min']:.3g}",
              file=out)
    for g in info["groups"]:
        title = g["label"] or "all"
        mean = f"mean of {g['n_curves']} seeds" if g["n_curves"] > 1 else "one seed"
        print(f"suggestions for {title} ({mean}):", file=out)
        if not g["suggestions"]:
            print(f"  none (the curve has {g['steps']} points; the rules need {MIN_CURVE_POINTS})", file=out)
        for s in g["suggestions"]:
            print(f"  {s['rule']:<11} {s['lr']:.3g}   {s['description']}", file=out)
    print("No single rule is right every time: read the curve. For 1cycle take max_lr near these (minimum/10 is "
          "a safe start; the steepest point can be low), initial LR max_lr/3 .. max_lr/10 (div_factor 3-10, "
          "Smith) or the default 25.", file=out)
    return 0
