"""The ``superconv`` command: one sub-command per module in :mod:`superconv.commands`.

Each command module defines ``add_arguments(parser)`` and ``run(args) -> int`` and keeps
heavy imports (TensorFlow) inside ``run`` so ``superconv schedule`` starts fast.

Example:
    >>> main(["schedule", "--max-lr", "0.1", "--total-steps", "100", "--quiet"])
    0
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from typing import Sequence

# name -> (module, one-line help). Modules are imported when the parser is built; they must
# not import TensorFlow at module level.
COMMANDS: dict[str, tuple[str, str]] = {
    "schedule": ("superconv.commands.schedule", "print a schedule's summary and write its curve as CSV"),
    "demo": ("superconv.commands.demo", "race 1cycle against tuned baselines (the class demo) and print the results"),
    "lr-find": ("superconv.commands.lr_find", "LR range test: loss vs LR curve and every rule's suggestion"),
    "train": ("superconv.commands.train", "train one run from a JSON config (foreground, progress bar, run store)"),
    "runs": ("superconv.commands.runs", "list the runs in the run store"),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="superconv", description="1cycle schedules and super-convergence.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for invalid input, with the error on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ValueError as exc:
        print(f"superconv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as exc:  # e.g. a store another process keeps locked past the busy timeout
        print(f"superconv {args.command}: error: the run store failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C outside a training loop (which handles it itself): no traceback
        print(f"superconv {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
