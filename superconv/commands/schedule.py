"""Print a 1cycle (or baseline) schedule's summary; optionally write step, lr, momentum as CSV.

Give the length either as --total-steps or as --epochs with --samples and --batch-size.
--config FILE reads a schedule saved as JSON (from the dashboard's export or to_dict()).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from superconv.schedules import OneCycle, Schedule, schedule_from_dict, total_steps_for


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="schedule JSON (to_dict format); other schedule flags are ignored")
    p.add_argument("--max-lr", type=float, help="peak learning rate")
    p.add_argument("--total-steps", type=int, help="optimizer steps (batches) in the whole run")
    p.add_argument("--epochs", type=int, help="with --samples and --batch-size, instead of --total-steps")
    p.add_argument("--samples", type=int, help="training samples per epoch")
    p.add_argument("--batch-size", type=int, help="batch size")
    p.add_argument("--drop-remainder", action="store_true", help="the last short batch is dropped")
    p.add_argument("--convention", choices=["pytorch", "fastai"], default="pytorch")
    p.add_argument("--pct-start", type=float, help="warm-up fraction (default 0.3 pytorch, 0.25 fastai)")
    p.add_argument("--div-factor", type=float, default=25.0, help="initial LR = max_lr / div_factor")
    p.add_argument("--final-div-factor", type=float, default=1e4,
                   help="pytorch: min LR = initial LR / final_div_factor")
    p.add_argument("--div-final", type=float, default=1e5, help="fastai: final LR = max_lr / div_final")
    p.add_argument("--anneal", choices=["cos", "linear"], default="cos")
    p.add_argument("--three-phase", action="store_true")
    p.add_argument("--base-momentum", type=float, default=0.85)
    p.add_argument("--max-momentum", type=float, default=0.95)
    p.add_argument("--csv", type=Path, help="write step,lr,momentum to this file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="print nothing (with --csv)")


def schedule_from_args(args: argparse.Namespace) -> Schedule:
    """Build the schedule described by the parsed flags (ValueError names a bad flag)."""
    if args.config is not None:
        try:
            data = json.loads(args.config.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"--config {str(args.config)!r} is not a readable JSON file: {exc}") from None
        return schedule_from_dict(data.get("schedule", data) if isinstance(data, dict) else data)
    if args.max_lr is None:
        raise ValueError("--max-lr is required (or pass --config)")
    if args.total_steps is not None:
        total = args.total_steps
    elif None not in (args.epochs, args.samples, args.batch_size):
        total = total_steps_for(args.samples, args.batch_size, args.epochs, args.drop_remainder)
    else:
        raise ValueError("give --total-steps, or --epochs with --samples and --batch-size")
    if args.convention == "fastai":
        return OneCycle.fastai(args.max_lr, total, div=args.div_factor, div_final=args.div_final,
                               pct_start=0.25 if args.pct_start is None else args.pct_start,
                               moms=(args.max_momentum, args.base_momentum, args.max_momentum))
    return OneCycle(max_lr=args.max_lr, total_steps=total,
                    pct_start=0.3 if args.pct_start is None else args.pct_start,
                    div_factor=args.div_factor, final_div_factor=args.final_div_factor, anneal=args.anneal,
                    three_phase=args.three_phase, base_momentum=args.base_momentum,
                    max_momentum=args.max_momentum)


def summarize(schedule: Schedule) -> dict:
    """Key numbers of a schedule: start, peak (and where), end, momentum range, phase ends."""
    steps, lr, mom = schedule.curves()
    peak = int(np.argmax(lr))
    return {
        "schedule": schedule.to_dict(),
        "total_steps": schedule.total_steps,
        "initial_lr": float(lr[0]),
        "peak_lr": float(lr[peak]),
        "peak_step": peak,
        "final_lr": float(lr[-1]),
        "momentum_min": float(mom.min()),
        "momentum_max": float(mom.max()),
        "phase_ends": schedule.phase_boundaries(),
    }


def write_csv(schedule: Schedule, path: Path) -> None:
    """Write ``step,lr,momentum`` rows for every step."""
    steps, lr, mom = schedule.curves()
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["step", "lr", "momentum"])
        writer.writerows(zip(steps.tolist(), lr.tolist(), mom.tolist()))


MAX_CURVE_STEPS = 10_000_000
"""Longest schedule whose curve the command computes (three float64 arrays of this length, ~240 MB)."""


def run(args: argparse.Namespace) -> int:
    schedule = schedule_from_args(args)
    if schedule.total_steps > MAX_CURVE_STEPS:  # the summary and CSV evaluate every step
        raise ValueError(f"total_steps must be <= {MAX_CURVE_STEPS:,} (every step of the curve is computed); "
                         f"received total_steps={schedule.total_steps}")
    info = summarize(schedule)
    if args.csv is not None:
        try:
            write_csv(schedule, args.csv)
        except OSError as exc:  # a missing folder, a directory, no permission
            raise ValueError(f"--csv {str(args.csv)!r} cannot be written: {exc.strerror or exc}; "
                             f"received --csv={str(args.csv)!r}") from None
    if args.quiet:
        return 0
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    out = sys.stdout
    print(f"{schedule.kind} schedule over {info['total_steps']} steps", file=out)
    print(f"  lr: {info['initial_lr']:.6g} -> peak {info['peak_lr']:.6g} at step {info['peak_step']} "
          f"-> final {info['final_lr']:.6g}", file=out)
    print(f"  momentum: {info['momentum_min']:.4g} .. {info['momentum_max']:.4g}", file=out)
    print(f"  phase ends at steps: {info['phase_ends']}", file=out)
    if args.csv is not None:
        print(f"  wrote {info['total_steps']} rows to {args.csv}", file=out)
    return 0
