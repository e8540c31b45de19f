"""Store files uploaded through the dashboard safely inside the data directory.

An uploaded file's name comes from the client and is untrusted: ``"../../etc/x.csv"`` or an
absolute path must never choose where bytes are written. :func:`save_upload` keeps only a
sanitized base name, prefixes it with the content's SHA-256 (two sessions uploading different
``data.csv`` files never overwrite each other; the same file twice is stored once), checks the size,
writes to a temporary file and renames it into place (never half-written), and refuses any path
that would resolve outside the uploads directory. :func:`save_csv_upload` also validates the CSV
(:func:`superconv.data.read_csv_dataset`, pandas' parser only) and keeps nothing when it is invalid.

The uploads directory is ``uploads/`` next to the run store (``$SUPERCONV_HOME`` by default).

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = save_upload("../../etc/x.csv", b"a,label\\n1,0\\n", directory=d)
    >>> p.parent == Path(d).resolve(), p.name.endswith("-x.csv")
    (True, True)
    >>> safe_filename("../../etc/passwd"), safe_filename("C:\\\\Users\\\\me\\\\my data (1).csv")
    ('passwd', 'my_data_1_.csv')
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from superconv.data import CSV_MAX_BYTES, read_csv_dataset
from superconv.store import default_store_path

__all__ = ["uploads_dir", "safe_filename", "save_upload", "save_csv_upload"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uploads_dir() -> Path:
    """``uploads/`` next to the run store (created on first use by :func:`save_upload`).

    Example:
        >>> uploads_dir().name
        'uploads'
    """
    return default_store_path().parent / "uploads"


def safe_filename(name: str, default: str = "upload") -> str:
    """The last path component of ``name`` with anything but letters, digits, ``.``, ``_`` and ``-``
    replaced, no leading dots, at most 80 characters.

    Example:
        >>> safe_filename(".hidden"), safe_filename(""), safe_filename("a/b\\\\c.csv")
        ('hidden', 'upload', 'c.csv')
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = _UNSAFE.sub("_", base).lstrip(".")[-80:]
    return base or default


def save_upload(name: str, data: bytes, *, directory: str | os.PathLike[str] | None = None,
                max_bytes: int = CSV_MAX_BYTES) -> Path:
    """Write uploaded bytes to ``directory`` (default :func:`uploads_dir`) under a safe name; return the path.

    Raises:
        ValueError: the upload is larger than ``max_bytes`` (nothing is written).
    """
    if len(data) > max_bytes:
        raise ValueError(f"the uploaded file is too large: {len(data) / 2**20:.1f} MiB; the limit is "
                         f"{max_bytes / 2**20:.0f} MiB (received {safe_filename(name)!r})")
    root = Path(directory if directory is not None else uploads_dir()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = (root / f"{digest}-{safe_filename(name)}").resolve()
    if target.parent != root:  # cannot happen with a sanitized name; refuse rather than trust it
        raise ValueError(f"the upload name {name!r} would be written outside {root}")
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def save_csv_upload(name: str, data: bytes, *, label_column: str = "label",
                    directory: str | os.PathLike[str] | None = None) -> Path:
    """:func:`save_upload` for a CSV dataset, validated first: an invalid file raises ValueError (too
    large, not UTF-8, not a CSV, non-numeric features, one class, ...) and nothing is kept.

    Example:
        >>> import tempfile
        >>> save_csv_upload("one.csv", b"a,label\\n" + b"1,x\\n" * 12, directory=tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        ValueError: label column 'label' has a single class ('x'); classification needs at least 2
    """
    root = Path(directory if directory is not None else uploads_dir()).resolve()
    existed = (root / f"{hashlib.sha256(data).hexdigest()[:16]}-{safe_filename(name)}").exists()
    path = save_upload(name, data, directory=root)
    try:
        read_csv_dataset(path, label_column)
    except ValueError as exc:
        if not existed:  # an identical file saved earlier may back another run: keep it
            path.unlink(missing_ok=True)
        raise ValueError(str(exc).replace(str(path), safe_filename(name))) from None
    return path
