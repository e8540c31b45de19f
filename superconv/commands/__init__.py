"""Sub-commands of the ``superconv`` CLI (see :mod:`superconv.cli`)."""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Mapping


@contextlib.contextmanager
def as_flags(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library ValueError with its argument names spelled as the command's flags.

    Only the argument being named is rewritten (``name=``, ``name must``, ``name is required``, and a
    name in an expression: ``name * other``, ``<= name``), not the same word in prose.

    Args:
        names: Library argument name -> flag, e.g. ``{"num_samples": "--samples"}``.

    Example:
        >>> with as_flags({"num_samples": "--samples"}):
        ...     raise ValueError("num_samples must be >= 1; received num_samples=0")
        Traceback (most recent call last):
        ...
        ValueError: --samples must be >= 1; received --samples=0
        >>> with as_flags({"base_momentum": "--base-momentum", "max_momentum": "--max-momentum"}):
        ...     raise ValueError("base_momentum must be <= max_momentum; the max_momentum of a cycle ...")
        Traceback (most recent call last):
        ...
        ValueError: --base-momentum must be <= --max-momentum; the max_momentum of a cycle ...
    """
    try:
        yield
    except ValueError as exc:
        message = str(exc)
        for name, flag in names.items():
            # the named argument, the left operand of a product (``pct_start * total_steps must``) and the
            # right side of a comparison (``must be <= max_momentum``)
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?==| must\b| is required\b| \* )", flag, message)
            message = re.sub(rf"(?:(?<=[<>]= )|(?<=[<>] )){re.escape(name)}\b", flag, message)
        raise ValueError(message) from None
