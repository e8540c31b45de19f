"""Sub-commands of the ``superconv`` CLI (see :mod:`superconv.cli`)."""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Mapping


@contextlib.contextmanager
def as_flags(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library ValueError with its argument names spelled as the command's flags.

    Only ``name=``, ``name must`` and ``name is required`` are rewritten (the argument being named), not
    the same word in prose.

    Args:
        names: Library argument name -> flag, e.g. ``{"num_samples": "--samples"}``.

    Example:
        >>> with as_flags({"num_samples": "--samples"}):
        ...     raise ValueError("num_samples must be >= 1; received num_samples=0")
        Traceback (most recent call last):
        ...
        ValueError: --samples must be >= 1; received --samples=0
    """
    try:
        yield
    except ValueError as exc:
        message = str(exc)
        for name, flag in names.items():
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?==| must\b| is required\b)", flag, message)
        raise ValueError(message) from None
