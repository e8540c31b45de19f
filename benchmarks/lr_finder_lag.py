"""Benchmark: how far the LR finder's suggestions move when the loss is smoothed with a one-way EMA.

A one-way EMA (fastai's and pytorch-lr-finder's smoothing) trails the per-batch losses by about
``beta / (1 - beta)`` batches; on an exponential LR sweep that shifts the curve to higher LRs. This
script runs the range test for several seeds and compares, for every rule, the suggestion of each
single-seed curve with a reference: the same rule on the seeds' mean loss (the noise averaged over
seeds instead of over time), lightly smoothed by a centred 5-point moving average (no lag). It
prints, per rule, the geometric mean of suggestion / reference over the seeds, for the one-way
EMA and for the LR finder's own curve (``RangeTestResult.smoothed``: a forward-backward EMA),
and the seed-to-seed spread in decades; and how far each seed's smoothed curve lies from the
seeds' mean loss (RMSE over the stretch the rules read; the raw losses' own RMSE for scale). Only ``steepest`` and ``minimum/10`` are compared: they
locate a feature of the curve, while ``valley`` and ``slide`` depend on how smooth the curve is,
so the lightly smoothed reference is not a fair target for them.

With ``--train-epochs N`` it then trains 1cycle at each smoothing's typical suggestion (seeds 0
and 1) and prints the final validation accuracy: do the suggestions train well?

Run:
    python benchmarks/lr_finder_lag.py [--model cnn] [--num-iter 100] [--seeds 8] [--train-epochs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits")
    p.add_argument("--model", default="cnn")
    p.add_argument("--num-iter", type=int, default=100)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--beta", type=float, default=0.95)
    p.add_argument("--train-epochs", type=int, default=0,
                   help="also train 1cycle for this many epochs (seeds 0 and 1) at each suggestion and "
                        "print the final validation accuracy (0: skip)")
    args = p.parse_args(argv)

    import numpy as np

    from superconv.lr_finder import suggest_all
    from superconv.lr_range_test import run_sweep
    from superconv.smoothing import ema

    # diverge_th very high: every curve runs the full sweep, so all share one LR grid
    results = run_sweep(seeds=list(range(args.seeds)), dataset=args.dataset, model=args.model,
                        num_iter=args.num_iter, start_lr=1e-5, end_lr=10.0, diverge_th=1e9)
    n = min(r.num_iter_done for r in results)
    lrs = results[0].lrs[:n]
    mean = np.mean([r.losses[:n] for r in results], axis=0)
    centred = np.convolve(np.pad(mean, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    reference = {s.rule: s.lr for s in suggest_all(lrs, centred, rules=("steepest", "minimum/10"))}
    print(f"{args.dataset}, {args.model}, {n} batches from 1e-5 to 10, {args.seeds} seeds, beta {args.beta}")
    print("reference (rules on the seed-averaged curve): "
          + ", ".join(f"{rule} {lr:.3g}" for rule, lr in reference.items()))
    print(f"{'smoothing':<22}" + "".join(f"{rule:>22}" for rule in reference) + f"{'curve RMSE':>12}")
    suggested: dict[tuple[str, str], float] = {}
    smoothings = {f"one-way EMA {args.beta:g}": lambda r: ema(r.losses[:n], args.beta),
                  "superconv (zero lag)": lambda r: r.smoothed[:n]}  # RangeTestResult.smoothed, as shipped
    for name, smooth in smoothings.items():
        curves = np.array([smooth(r) for r in results])
        rmse = float(np.sqrt(np.mean((curves[:, n // 10:n - 5] - mean[n // 10:n - 5]) ** 2)))
        picks = [{s.rule: s.lr for s in suggest_all(lrs, c, rules=list(reference))} for c in curves]
        cells = []
        for rule, ref in reference.items():
            logs = np.log10([pk[rule] / ref for pk in picks if rule in pk])
            cells.append(f"{10 ** logs.mean():.2f}x (±{logs.std():.2f} dec)")
            suggested[name, rule] = float(ref * 10 ** logs.mean())  # the seeds' typical suggestion
        print(f"{name:<22}" + "".join(f"{c:>22}" for c in cells) + f"{rmse:>12.3f}")
    raw_rmse = float(np.sqrt(np.mean((np.array([r.losses[:n] for r in results])[:, n // 10:n - 5]
                                      - mean[n // 10:n - 5]) ** 2)))
    print(f"(raw losses, unsmoothed: curve RMSE {raw_rmse:.3f})")
    if args.train_epochs:
        from superconv.training import train_run

        print(f"1cycle at each typical suggestion, {args.train_epochs} epochs, batch 64, final val acc (seeds 0, 1):")
        for (name, rule), lr in suggested.items():
            accs = [train_run({"dataset": args.dataset, "model": args.model, "epochs": args.train_epochs,
                               "batch_size": 64, "seed": seed, "schedule": {"kind": "onecycle", "max_lr": lr}})
                    .final.get("val_acc", float("nan")) for seed in (0, 1)]
            print(f"  {name:<22} {rule:<11} max_lr {lr:.3g}: " + ", ".join(f"{a:.4f}" for a in accs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
