"""Print a 1cycle (or baseline) schedule's summary; optionally write step, lr, momentum as CSV.

Give the length either as --total-steps or as --epochs with --samples and --batch-size.
--config FILE reads a schedule saved as JSON (from the dashboard's export or to_dict()).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from superconv.commands import as_flags
from superconv.schedules import OneCycle, Schedule, schedule_from_dict, total_steps_for


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="schedule JSON (to_dict format, or a run config with a schedule); "
                   "the length flags may set its total_steps, shape flags are refused")
    p.add_argument("--max-lr", type=float, help="peak learning rate")
    p.add_argument("--total-steps", type=int, help="optimizer steps (batches) in the whole run")
    p.add_argument("--epochs", type=int, help="with --samples and --batch-size, instead of --total-steps")
    p.add_argument("--samples", type=int, help="training samples per epoch")
    p.add_argument("--batch-size", type=int, help="batch size")
    p.add_argument("--drop-remainder", action="store_true", help="the last short batch is dropped")
    p.add_argument("--convention", choices=["pytorch", "fastai"], help="default pytorch")
    p.add_argument("--pct-start", type=float, help="warm-up fraction (default 0.3 pytorch, 0.25 fastai)")
    p.add_argument("--div-factor", type=float, help="initial LR = max_lr / div_factor (default 25)")
    p.add_argument("--final-div-factor", type=float,
                   help="pytorch: min LR = initial LR / final_div_factor (default 1e4)")
    p.add_argument("--div-final", type=float, help="fastai: final LR tends to max_lr / div_final (default 1e5)")
    p.add_argument("--anneal", choices=["cos", "linear"], help="pytorch: shape of both phases (default cos)")
    p.add_argument("--three-phase", action="store_true", help="pytorch: Smith's three-phase variant")
    p.add_argument("--base-momentum", type=float, help="momentum at the LR peak (default 0.85)")
    p.add_argument("--max-momentum", type=float, help="momentum at the start and end (default 0.95)")
    p.add_argument("--csv", type=Path, help="write step,lr,momentum to this file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="print nothing (with --csv)")


# Library argument -> flag, for error messages (OneCycle's and OneCycle.fastai's names).
FLAG_NAMES = {"max_lr": "--max-lr", "lr_max": "--max-lr", "total_steps": "--total-steps", "num_samples": "--samples",
              "batch_size": "--batch-size", "epochs": "--epochs", "pct_start": "--pct-start", "div_factor": "--div-factor",
              "div": "--div-factor", "final_div_factor": "--final-div-factor", "div_final": "--div-final",
              "base_momentum": "--base-momentum", "max_momentum": "--max-momentum",
              "moms": "(--max-momentum, --base-momentum, --max-momentum)"}
# Flags that shape a 1cycle curve (refused next to --config, which holds the whole schedule).
SHAPE_FLAGS = ("max_lr", "pct_start", "div_factor", "final_div_factor", "div_final", "anneal", "base_momentum",
               "max_momentum")
PYTORCH_ONLY = ("final_div_factor", "anneal")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _length(args: argparse.Namespace) -> int | None:
    """The step count the flags give (None when they give none); both ways at once is refused."""
    per_epoch = [args.epochs, args.samples, args.batch_size]
    if args.total_steps is not None and any(v is not None for v in per_epoch):
        raise ValueError("give --total-steps or --epochs with --samples and --batch-size, not both; received "
                         + ", ".join(f"{f}={v}" for f, v in zip(("--total-steps", "--epochs", "--samples", "--batch-size"),
                                                                [args.total_steps, *per_epoch]) if v is not None))
    if args.total_steps is not None:
        return args.total_steps
    if all(v is not None for v in per_epoch):
        with as_flags(FLAG_NAMES):
            return total_steps_for(args.samples, args.batch_size, args.epochs, args.drop_remainder)
    if any(v is not None for v in per_epoch):
        raise ValueError("--epochs, --samples and --batch-size go together; received only "
                         + ", ".join(f for f, v in zip(("--epochs", "--samples", "--batch-size"), per_epoch) if v is not None))
    return None


# With --epochs/--samples/--batch-size there is no --total-steps flag to name: total_steps keeps its name
# and the message says which flags it came from.
PER_EPOCH_NAMES = {k: v for k, v in FLAG_NAMES.items() if k != "total_steps"}


@contextlib.contextmanager
def _length_named(args: argparse.Namespace) -> Iterator[None]:
    try:
        yield
    except ValueError as exc:
        if args.total_steps is not None or args.epochs is None:
            raise
        raise ValueError(f"{exc} (total_steps from --epochs={args.epochs}, --samples={args.samples}, "
                         f"--batch-size={args.batch_size}"
                         + (", --drop-remainder)" if args.drop_remainder else ")")) from None


def schedule_from_args(args: argparse.Namespace) -> Schedule:
    """Build the schedule described by the parsed flags (ValueError names a bad flag).

    Flags that do not apply are refused rather than ignored: shape flags next to ``--config``,
    PyTorch-only flags with ``--convention fastai`` and ``--div-final`` without it.
    """
    total = _length(args)
    if args.config is not None:
        given = [_flag(n) for n in SHAPE_FLAGS if getattr(args, n) is not None] + (
            ["--three-phase"] if args.three_phase else []) + (["--convention"] if args.convention is not None else [])
        if given:
            raise ValueError(f"--config holds the whole schedule; received {', '.join(given)} as well")
        try:
            data = json.loads(args.config.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"--config {str(args.config)!r} is not a readable JSON file: {exc}") from None
        data = data.get("schedule", data) if isinstance(data, dict) and "kind" not in data else data
        if isinstance(data, dict) and total is not None:  # the length flags set (or replace) total_steps
            data = {**data, "total_steps": total}
        elif isinstance(data, dict) and "total_steps" not in data:
            raise ValueError(f"--config {str(args.config)!r} has no total_steps (a run config's schedule gets it from "
                             "the run): give --total-steps, or --epochs with --samples and --batch-size")
        return schedule_from_dict(data)
    if args.max_lr is None:
        raise ValueError("--max-lr is required (or pass --config)")
    if total is None:
        raise ValueError("give --total-steps, or --epochs with --samples and --batch-size")
    convention = args.convention or "pytorch"
    misplaced = ([_flag(n) for n in PYTORCH_ONLY if getattr(args, n) is not None] + (["--three-phase"] if args.three_phase else [])
                 if convention == "fastai" else (["--div-final"] if args.div_final is not None else []))
    if misplaced:
        other = "pytorch" if convention == "fastai" else "fastai"
        verb, it = ("applies", "it") if len(misplaced) == 1 else ("apply", "them")
        raise ValueError(f"{', '.join(misplaced)} {verb} to --convention {other} only; received {it} with "
                         f"--convention {convention}")

    def pick(value: float | None, default: float) -> float:
        return default if value is None else value

    base_mom, max_mom = pick(args.base_momentum, 0.85), pick(args.max_momentum, 0.95)
    with _length_named(args), as_flags(FLAG_NAMES if args.total_steps is not None else PER_EPOCH_NAMES):
        if convention == "fastai":
            return OneCycle.fastai(args.max_lr, total, div=pick(args.div_factor, 25.0),
                                   div_final=pick(args.div_final, 1e5), pct_start=pick(args.pct_start, 0.25),
                                   moms=(max_mom, base_mom, max_mom))
        return OneCycle(max_lr=args.max_lr, total_steps=total, pct_start=pick(args.pct_start, 0.3),
                        div_factor=pick(args.div_factor, 25.0), final_div_factor=pick(args.final_div_factor, 1e4),
                        anneal=args.anneal or "cos", three_phase=args.three_phase, base_momentum=base_mom,
                        max_momentum=max_mom)


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
        n = schedule.total_steps
        raise ValueError(f"total_steps must be <= {MAX_CURVE_STEPS:,} (every step of the curve is computed); "
                         f"received total_steps={n if n < 10**15 else format(float(n), '.3g')}")
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
