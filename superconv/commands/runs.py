"""List the runs in the run store (newest first), as a table or as JSON.

The store is --store, else $SUPERCONV_STORE, else $SUPERCONV_HOME/runs.sqlite, else the user data dir.
A run whose process is gone (killed with SIGKILL, a machine that went down) is shown, and marked in
the store, as ``interrupted`` instead of ``running`` or ``queued`` forever.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

COLUMNS = ["id", "name", "kind", "group", "status", "dataset", "model", "optimizer", "epochs", "batch_size",
           "final_val_acc", "final_val_loss", "device", "created_at"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="run store file")
    p.add_argument("--kind", help="only runs of this kind (train, lr_find, ...)")
    p.add_argument("--group", help="only runs of this group")
    p.add_argument("--json", action="store_true", help="print a JSON list (config and error included)")
    p.add_argument("--limit", type=int, default=0, help="at most this many runs (0: all)")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    from superconv.store import RunStore, default_store_path

    if args.limit < 0:
        raise ValueError(f"--limit must be >= 0; received --limit={args.limit}")
    # Listing must not create a store at a typo.
    if args.store is not None and not args.store.exists():
        raise ValueError(f"--store {str(args.store)!r} does not exist; received --store={str(args.store)!r}")
    if args.store is not None and args.store.is_file() and args.store.stat().st_size == 0:
        raise ValueError(f"--store {str(args.store)!r} is an empty file, not a run store; "
                         f"received --store={str(args.store)!r}")
    path = args.store if args.store is not None else default_store_path()
    if args.store is None and not path.exists():
        if os.environ.get("SUPERCONV_STORE"):
            raise ValueError(f"SUPERCONV_STORE {str(path)!r} does not exist; "
                             f"received SUPERCONV_STORE={os.environ['SUPERCONV_STORE']!r}")
        print("[]" if args.json else f"no runs in {path}")
        return 0
    store = RunStore(path)
    store.mark_interrupted()  # runs of processes that are gone: 'interrupted', not 'running' forever
    runs = store.list_runs(kind=args.kind, group=args.group)
    if args.limit:
        runs = runs.head(args.limit)
    if args.json:
        records = [{k: _plain(v) for k, v in rec.items()} for rec in runs.to_dict(orient="records")]
        print(json.dumps(records, indent=2, default=str))
        return 0
    if runs.empty:
        print(f"no runs in {store.path}")
        return 0
    table = runs[COLUMNS].copy()
    table["final_val_acc"] = table["final_val_acc"].map(lambda v: "" if v is None or v != v else f"{v:.4f}")
    table["final_val_loss"] = table["final_val_loss"].map(lambda v: "" if v is None or v != v else f"{v:.4f}")
    table["created_at"] = table["created_at"].str.slice(0, 19).str.replace("T", " ")
    print(table.fillna("").to_string(index=False))
    print(f"{len(table)} run(s) in {store.path}")
    return 0
