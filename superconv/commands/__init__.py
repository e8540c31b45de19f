"""Sub-commands of the ``superconv`` CLI (see :mod:`superconv.cli`)."""
