"""How the class-demo preset's learning rates were chosen: every lane's LR grid, through the training engine.

Each candidate schedule is trained with the ``digits`` preset's data, model, batch size and epoch budget
(``superconv.demo.PRESETS["digits"]``) for seeds 0..K-1 with :func:`superconv.training.train_run`,
in this process. Per candidate it prints the epochs until the mean validation accuracy reaches the
target (the same rule as ``superconv demo``), the final and best mean accuracy, then the best
candidate of each lane under one rule: fewest epochs to the target, then the highest final accuracy.

Usage::

    python benchmarks/demo_grid.py              # 3 seeds, about 25 runs of a few seconds each
    python benchmarks/demo_grid.py --seeds 1    # a quick look
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd  # noqa: E402

from superconv.demo import RaceRun, RaceSchedule, get_preset, race_configs, results_table  # noqa: E402
from superconv.training import train_run  # noqa: E402

STEP = {"kind": "step", "boundaries": [0.5, 0.75], "factor": 0.1, "momentum": 0.9}
GRID: dict[str, list[dict]] = {
    "1cycle": [{"kind": "onecycle", "max_lr": lr, "pct_start": 0.3} for lr in (0.5, 1.0, 2.0)]
    + [{"kind": "onecycle", "max_lr": lr, "pct_start": pct, "div_factor": 10.0}
       for lr, pct in ((1.0, 0.1), (1.0, 0.2), (0.5, 0.15))],
    "constant": [{"kind": "constant", "lr": lr, "momentum": 0.9} for lr in (0.1, 0.3, 1.0)],
    "step decay": [dict(STEP, lr=lr) for lr in (0.3, 1.0)],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    base = get_preset("digits")
    target = base.target_accuracy
    best: dict[str, tuple] = {}
    for lane, candidates in GRID.items():
        for sched in candidates:
            preset = dataclasses.replace(base, schedules=(RaceSchedule(lane, sched),))
            runs = []
            start = time.perf_counter()
            for cfg in race_configs(preset, seeds=args.seeds):
                rows = []
                result = train_run(cfg, on_epoch=rows.append)
                runs.append(RaceRun(lane, cfg["seed"], pd.DataFrame(rows), result.status))
            row = results_table(runs, target=target).iloc[0]
            ett = row["epochs_to_target"]
            shown = {k: v for k, v in sched.items() if k != "kind"}
            print(f"{lane:10s} {shown}  epochs to {target:.0%}: {'-' if ett is None else ett:>3}  "
                  f"final {row['final_val_acc']:.4f}  best {row['best_val_acc']:.4f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            key = (math.inf if ett is None else ett, -row["final_val_acc"])
            if lane not in best or key < best[lane][0]:
                best[lane] = (key, shown)
    for lane, (key, shown) in best.items():
        print(f"best {lane}: {shown} (epochs to target {key[0]}, final {-key[1]:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
