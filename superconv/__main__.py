"""``python -m superconv`` runs the command-line interface."""

from superconv.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
