"""Run store: one SQLite file shared by the dashboard, the CLI and the training workers.

The store is the single source of truth for runs: their config, status, per-batch and
per-epoch metrics. It uses WAL journaling (readers never block the writer) and a busy
timeout, opens a short-lived connection per call (safe from any thread or process) and
writes metrics in batches (one transaction per call of :meth:`RunStore.add_batches`).

No TensorFlow here: the dashboard reads the store without importing it.

Example:
    >>> import tempfile, os
    >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
    >>> rid = store.create_run({"dataset": "digits"}, name="demo")
    >>> store.add_batches(rid, [BatchRow(0, 0, 2.3, 0.004, 0.95), BatchRow(1, 0, 2.1, 0.01, 0.94)])
    2
    >>> store.batch_metrics(rid)["loss"].tolist()
    [2.3, 2.1]
    >>> store.get_run(rid)["status"]
    'queued'
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import queue
import socket
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

import pandas as pd

STATUSES = ("queued", "running", "finished", "diverged", "cancelled", "failed", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
TERMINAL_STATUSES = ("finished", "diverged", "cancelled", "failed", "interrupted")

BATCH_COLUMNS = ["step", "epoch", "loss", "lr", "momentum"]
EPOCH_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
RUN_COLUMNS = ["id", "name", "kind", "group", "status", "created_at", "started_at", "finished_at",
               "device", "error", "dataset", "model", "optimizer", "epochs", "batch_size",
               "final_train_loss", "final_val_loss", "final_val_acc", "config"]


class BatchRow(NamedTuple):
    """One optimizer step: the TRUE loss of that batch and the LR/momentum applied to it."""

    step: int
    epoch: int | None
    loss: float
    lr: float
    momentum: float


class EpochRow(NamedTuple):
    """End-of-epoch metrics (``val_*`` are NaN when a run has no validation data)."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'train',
    grp TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'queued',
    config TEXT NOT NULL,
    error TEXT,
    device TEXT,
    final TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    pid INTEGER,
    host TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    heartbeat REAL
);
CREATE TABLE IF NOT EXISTS batch_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    epoch INTEGER,
    loss REAL,
    lr REAL,
    momentum REAL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epoch_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL,
    train_acc REAL,
    val_loss REAL,
    val_acc REAL,
    seconds REAL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_kind_group ON runs(kind, grp);
"""


def default_store_path() -> Path:
    """Where the run store lives: ``$SUPERCONV_STORE``, else ``$SUPERCONV_HOME/runs.sqlite``,
    else ``runs.sqlite`` in the platform's user data directory.

    Nothing is created here (:class:`RunStore` creates the file and its folder); ``~`` is expanded.

    Returns:
        The path of the SQLite file.

    Example:
        >>> default_store_path().name
        'runs.sqlite'
    """
    if os.environ.get("SUPERCONV_STORE"):
        return Path(os.environ["SUPERCONV_STORE"]).expanduser()
    if os.environ.get("SUPERCONV_HOME"):
        return Path(os.environ["SUPERCONV_HOME"]).expanduser() / "runs.sqlite"
    import platformdirs

    return Path(platformdirs.user_data_dir("superconv")) / "runs.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _clean(value: Any) -> float | None:
    """A float for SQLite: NaN becomes NULL (read back as NaN); inf is stored as is."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _as_tuple(row: Any, columns: Sequence[str]) -> tuple:
    if isinstance(row, Mapping):
        return tuple(row.get(c) for c in columns)
    values = tuple(row)
    if len(values) != len(columns):
        raise ValueError(f"a metrics row needs {len(columns)} values {columns}; received {values!r:.120}")
    return values


def pid_alive(pid: int | None) -> bool:
    """True when process ``pid`` runs on this machine (a zombie counts as dead).

    A process owned by another user counts as alive; on a system without ``/proc`` any process
    that exists counts as alive.

    Args:
        pid: A process id; None or 0 means no process.

    Returns:
        Whether the process exists and is not a zombie.

    Example:
        >>> pid_alive(os.getpid()), pid_alive(None)
        (True, False)
    """
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{int(pid)}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


class RunStore:
    """SQLite run store (see the module docstring).

    Args:
        path: The database file; default :func:`default_store_path`. Created with its folder.
        timeout: Seconds a call waits for a lock held by another writer (busy timeout).

    Raises:
        ValueError: naming the path, when it cannot be opened as a run store (a folder, a file that
            is not SQLite, no permission); or a timeout that is not > 0.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.timeout = float(timeout)
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"timeout must be a number of seconds > 0; received timeout={timeout!r}")
        if self.path.is_dir():
            raise ValueError(f"the run store {str(self.path)!r} cannot be opened: it is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
                if "heartbeat" not in columns:  # a store created before runs had a heartbeat
                    con.execute("ALTER TABLE runs ADD COLUMN heartbeat REAL")
        except (OSError, sqlite3.Error) as exc:  # a directory, not a database, no permission...
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            blocker = next((p for p in self.path.parents if p.exists()), None)
            if blocker is not None and not blocker.is_dir():  # e.g. /etc/passwd/runs.sqlite: "File exists"
                reason = f"{str(blocker)!r} is a file, not a folder"
            raise ValueError(f"the run store {str(self.path)!r} cannot be opened: {reason}") from None

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # ------------------------------------------------------------------ plumbing
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _require(self, con: sqlite3.Connection, run_id: int) -> None:
        if con.execute("SELECT 1 FROM runs WHERE id=?", (int(run_id),)).fetchone() is None:
            raise KeyError(f"no run with id {run_id} in {self.path}")

    # ------------------------------------------------------------------ runs
    def create_run(self, config: Mapping[str, Any], *, name: str = "", kind: str = "train", group: str = "",
                   status: str = "queued") -> int:
        """Record a new run and return its id.

        The run's ``pid`` and ``host`` are the calling process's: the submitter owns a queued run
        (for :meth:`mark_interrupted`) until a worker takes it over with ``set_status(..., pid=...)``.

        Args:
            config: The run config, stored as JSON (values JSON cannot hold are stored as ``str``).
            name: Display name; when empty, ``config["name"]`` if there is one.
            kind: What the run is, e.g. ``"train"`` or ``"lr_find"``; :meth:`list_runs` filters on it.
            group: Label shared by related runs (e.g. the runs of a race); :meth:`list_runs` filters on it.
            status: Initial status, one of :data:`STATUSES` (default ``"queued"``).

        Returns:
            The new run's id (ids count up from 1 in a new store).

        Raises:
            ValueError: ``status must be one of [...]; received status=...`` for an unknown status,
                or ``config must be a mapping (a run config dict); received <type name>``.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({"dataset": "digits", "name": "from config"}, kind="lr_find", group="g")
            >>> rid, store.get_run(rid)["name"], store.status(rid)
            (1, 'from config', 'queued')
            >>> store.create_run([("dataset", "digits")])
            Traceback (most recent call last):
            ...
            ValueError: config must be a mapping (a run config dict); received list
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {list(STATUSES)}; received status={status!r}")
        if not isinstance(config, Mapping):
            raise ValueError(f"config must be a mapping (a run config dict); received {type(config).__name__}")
        blob = json.dumps(dict(config), default=str)
        with self._transaction() as con:
            cur = con.execute(
                "INSERT INTO runs (name, kind, grp, status, config, created_at, pid, host) VALUES (?,?,?,?,?,?,?,?)",
                (str(name or config.get("name", "") or ""), str(kind), str(group), status, blob, _now(),
                 os.getpid(), socket.gethostname()),
            )
            return int(cur.lastrowid)

    def set_status(self, run_id: int, status: str, *, error: str | None = None, device: str | None = None,
                   final: Mapping[str, Any] | None = None, pid: int | None = None) -> None:
        """Change a run's status; ``running`` stamps ``started_at``, terminal statuses ``finished_at``.

        ``started_at`` keeps the time of the first switch to ``running``; ``finished_at`` is stamped
        on every switch to one of :data:`TERMINAL_STATUSES`. Every call also refreshes the run's
        heartbeat (see :meth:`mark_interrupted`). Arguments left at None keep their stored value.

        Args:
            run_id: The run's id.
            status: The new status, one of :data:`STATUSES`.
            error: Error message to store (e.g. for ``failed`` or ``diverged``).
            device: Device the run trains on, e.g. ``"CPU"`` or a GPU name.
            final: Final metrics (e.g. ``train_loss``, ``val_loss``, ``val_acc``); a float NaN is stored
                as null. Replaces the stored final metrics.
            pid: Id of the process now responsible for the run (stored with this host's name).

        Raises:
            ValueError: ``status must be one of [...]; received status=...`` for an unknown status.
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.set_status(rid, "running", device="CPU")
            >>> store.set_status(rid, "finished", final={"val_acc": 0.97, "val_loss": float("nan")})
            >>> run = store.get_run(rid)
            >>> run["status"], run["device"], run["final"], run["finished_at"] is not None
            ('finished', 'CPU', {'val_acc': 0.97, 'val_loss': None}, True)
            >>> store.set_status(rid, "done")
            Traceback (most recent call last):
            ...
            ValueError: status must be one of ['queued', 'running', ...]; received status='done'
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {list(STATUSES)}; received status={status!r}")
        sets, args = ["status=?", "heartbeat=?"], [status, time.time()]
        if status == "running":
            sets.append("started_at=COALESCE(started_at, ?)")
            args.append(_now())
        if status in TERMINAL_STATUSES:
            sets.append("finished_at=?")
            args.append(_now())
        for column, value in (("error", error), ("device", device), ("pid", pid)):
            if value is not None:
                sets.append(f"{column}=?")
                args.append(value)
        if pid is not None:
            sets.append("host=?")
            args.append(socket.gethostname())
        if final is not None:
            sets.append("final=?")
            args.append(json.dumps({k: _clean(v) if isinstance(v, float) else v for k, v in final.items()}))
        with self._transaction() as con:
            self._require(con, run_id)
            con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, int(run_id)))

    def get_run(self, run_id: int) -> dict[str, Any]:
        """A run's full record as a dict.

        Args:
            run_id: The run's id.

        Returns:
            Keys ``id``, ``name``, ``kind``, ``status``, ``config`` (dict), ``error``, ``device``,
            ``final`` (dict of final metrics, ``{}`` until set), ``created_at``, ``started_at``,
            ``finished_at`` (ISO 8601 UTC strings or None), ``pid`` and ``host`` (the owning process),
            ``cancel_requested`` (bool), ``heartbeat`` (Unix time of the last status change or metrics
            write) and ``group``.

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({"epochs": 2}, name="a", group="race")
            >>> run = store.get_run(rid)
            >>> run["name"], run["group"], run["config"], run["final"], run["cancel_requested"]
            ('a', 'race', {'epochs': 2}, {}, False)
            >>> store.get_run(99)
            Traceback (most recent call last):
            ...
            KeyError: 'no run with id 99 in ...'
        """
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id} in {self.path}")
        return self._record(dict(row))

    def get_runs(self, run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The records of those runs that exist, in the order given (one query).

        Several browsers share one store, so a page may still hold the id of a run that another
        browser has deleted since: such a run is left out rather than raising as :meth:`get_run` does.

        Args:
            run_ids: Run ids, e.g. the runs on a chart.

        Returns:
            run id -> the run's record (as :meth:`get_run` returns it).

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> a, b = store.create_run({}, name="a"), store.create_run({}, name="b")
            >>> store.delete_run(a)
            >>> [r["name"] for r in store.get_runs([b, a]).values()]
            ['b']
        """
        ids = [int(i) for i in run_ids]
        if not ids:
            return {}
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(f"SELECT * FROM runs WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
        found = {int(row["id"]): self._record(dict(row)) for row in rows}
        return {i: found[i] for i in ids if i in found}

    @staticmethod
    def _record(row: dict[str, Any]) -> dict[str, Any]:
        row["group"] = row.pop("grp")
        row["config"] = json.loads(row["config"])
        row["final"] = json.loads(row["final"]) if row.get("final") else {}
        row["cancel_requested"] = bool(row["cancel_requested"])
        return row

    def status(self, run_id: int) -> str:
        """A run's status (cheap: reads one column; used when polling).

        Args:
            run_id: The run's id.

        Returns:
            One of :data:`STATUSES`.

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> store.status(store.create_run({}, status="running"))
            'running'
        """
        with self._connect() as con:
            row = con.execute("SELECT status FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id} in {self.path}")
        return str(row[0])

    def list_runs(self, kind: str | None = None, group: str | None = None) -> pd.DataFrame:
        """All runs (newest first) as a DataFrame with :data:`RUN_COLUMNS`; filter by kind/group.

        ``dataset``, ``model``, ``optimizer``, ``epochs`` and ``batch_size`` come from each run's config
        (None where it lacks them), ``final_train_loss``/``final_val_loss``/``final_val_acc`` from its
        final metrics, and ``config`` holds the whole config dict.

        Args:
            kind: Only runs of this kind (None: any).
            group: Only runs of this group (None: any; ``""`` selects runs without a group).

        Returns:
            One row per run, highest id first; an empty frame with the same columns when none match.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> a = store.create_run({"dataset": "digits"}, name="a", group="race")
            >>> b = store.create_run({"dataset": "mnist"}, name="b", kind="lr_find")
            >>> store.list_runs()[["id", "name", "kind", "dataset"]].values.tolist()
            [[2, 'b', 'lr_find', 'mnist'], [1, 'a', 'train', 'digits']]
            >>> store.list_runs(group="race")["name"].tolist(), len(store.list_runs(kind="none"))
            (['a'], 0)
        """
        query, args = "SELECT * FROM runs", []
        where = []
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        if group is not None:
            where.append("grp=?")
            args.append(group)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY id DESC"
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            rows = [self._record(dict(r)) for r in con.execute(query, args).fetchall()]
        records = []
        for r in rows:
            cfg, final = r["config"], r["final"]
            records.append({
                **{k: r[k] for k in ("id", "name", "kind", "group", "status", "created_at", "started_at",
                                     "finished_at", "device", "error")},
                **{k: cfg.get(k) for k in ("dataset", "model", "optimizer", "epochs", "batch_size")},
                "final_train_loss": final.get("train_loss"),
                "final_val_loss": final.get("val_loss"),
                "final_val_acc": final.get("val_acc"),
                "config": cfg,
            })
        return pd.DataFrame.from_records(records, columns=RUN_COLUMNS)

    def delete_run(self, run_id: int) -> None:
        """Remove a run and its per-batch and per-epoch metrics (in one transaction).

        Args:
            run_id: The run's id.

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_batches(rid, [BatchRow(0, 0, 2.3, 0.1, 0.9)])
            1
            >>> store.delete_run(rid)
            >>> len(store.list_runs()), len(store.batch_metrics(rid))
            (0, 0)
        """
        with self._transaction() as con:
            self._require(con, run_id)
            con.execute("DELETE FROM batch_metrics WHERE run_id=?", (int(run_id),))
            con.execute("DELETE FROM epoch_metrics WHERE run_id=?", (int(run_id),))
            con.execute("DELETE FROM runs WHERE id=?", (int(run_id),))

    # ------------------------------------------------------------------ metrics
    def add_batches(self, run_id: int, rows: Iterable[Any]) -> int:
        """Append per-batch rows in one transaction; a step written twice keeps the last value.

        A NaN loss, LR or momentum is stored as null and read back as NaN; a dict row's missing keys
        are stored as null. Each write also refreshes the run's heartbeat (see :meth:`mark_interrupted`).

        Args:
            run_id: The run's id.
            rows: ``BatchRow`` rows, tuples in :data:`BATCH_COLUMNS` order, or dicts keyed by those
                columns; ``step`` counts optimizer steps (batches) from 0 over the whole run.

        Returns:
            How many rows were written (0 for no rows, without checking the run).

        Raises:
            ValueError: ``a metrics row needs 5 values ['step', 'epoch', 'loss', 'lr', 'momentum'];
                received ...`` for a tuple of the wrong length.
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_batches(rid, [BatchRow(0, 0, 2.3, 0.004, 0.95), (1, 0, 2.1, 0.01, 0.94),
            ...                         {"step": 1, "epoch": 0, "loss": float("nan"), "lr": 0.01, "momentum": 0.94}])
            3
            >>> store.batch_metrics(rid)["loss"].tolist()  # step 1 written twice: the last row wins
            [2.3, nan]
            >>> store.add_batches(rid, [(2, 0)])
            Traceback (most recent call last):
            ...
            ValueError: a metrics row needs 5 values ['step', 'epoch', 'loss', 'lr', 'momentum']; received (2, 0)
        """
        data = [(int(run_id), int(s), None if e is None else int(e), _clean(l), _clean(lr), _clean(m))
                for s, e, l, lr, m in (_as_tuple(r, BATCH_COLUMNS) for r in rows)]
        if not data:
            return 0
        with self._transaction() as con:
            self._require(con, run_id)
            con.executemany("INSERT OR REPLACE INTO batch_metrics VALUES (?,?,?,?,?,?)", data)
            con.execute("UPDATE runs SET heartbeat=? WHERE id=?", (time.time(), int(run_id)))
        return len(data)

    def add_epoch(self, run_id: int, row: Any) -> None:
        """Store one epoch's metrics; an epoch written twice keeps the last row.

        NaN values (e.g. ``val_*`` of a run without validation data) are stored as null and read back
        as NaN. The write also refreshes the run's heartbeat (see :meth:`mark_interrupted`).

        Args:
            run_id: The run's id.
            row: An ``EpochRow``, a tuple in :data:`EPOCH_COLUMNS` order or a dict keyed by those
                columns; ``epoch`` counts from 0 and ``seconds`` is the epoch's wall time.

        Raises:
            ValueError: ``a metrics row needs 6 values [...]; received ...`` for a tuple of the wrong length.
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_epoch(rid, EpochRow(0, 2.2, 0.4, float("nan"), float("nan"), 1.5))
            >>> store.epoch_metrics(rid).values.tolist()
            [[0.0, 2.2, 0.4, nan, nan, 1.5]]
        """
        e, tl, ta, vl, va, sec = _as_tuple(row, EPOCH_COLUMNS)
        with self._transaction() as con:
            self._require(con, run_id)
            con.execute("INSERT OR REPLACE INTO epoch_metrics VALUES (?,?,?,?,?,?,?)",
                        (int(run_id), int(e), _clean(tl), _clean(ta), _clean(vl), _clean(va), _clean(sec)))
            con.execute("UPDATE runs SET heartbeat=? WHERE id=?", (time.time(), int(run_id)))

    def batch_metrics(self, run_id: int, *, since_step: int | None = None) -> pd.DataFrame:
        """Per-batch rows of a run ordered by step.

        Args:
            run_id: The run's id (an unknown run gives an empty frame, no error).
            since_step: Only steps strictly after this one (for live polling); None: all steps.

        Returns:
            A DataFrame with columns :data:`BATCH_COLUMNS`; ``loss``, ``lr`` and ``momentum`` are
            float64 with NaN where the stored value was NaN.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_batches(rid, [BatchRow(s, 0, 2.0 - s / 10, 0.1, 0.9) for s in range(3)])
            3
            >>> store.batch_metrics(rid, since_step=0)[["step", "loss"]].values.tolist()
            [[1.0, 1.9], [2.0, 1.8]]
        """
        query, args = "SELECT step, epoch, loss, lr, momentum FROM batch_metrics WHERE run_id=?", [int(run_id)]
        if since_step is not None:
            query += " AND step>?"
            args.append(int(since_step))
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY step", args).fetchall()
        df = pd.DataFrame.from_records(rows, columns=BATCH_COLUMNS)
        return df.astype({"step": "int64", "loss": "float64", "lr": "float64", "momentum": "float64"})

    def epoch_metrics(self, run_id: int) -> pd.DataFrame:
        """Per-epoch rows of a run ordered by epoch.

        Args:
            run_id: The run's id (an unknown run gives an empty frame, no error).

        Returns:
            A DataFrame with columns :data:`EPOCH_COLUMNS`: ``epoch`` as int64, the metrics as float64
            (NaN where the stored value was NaN).

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_epoch(rid, EpochRow(1, 1.9, 0.6, 2.0, 0.55, 1.2))
            >>> store.add_epoch(rid, EpochRow(0, 2.2, 0.4, 2.1, 0.5, 1.5))
            >>> store.epoch_metrics(rid)[["epoch", "val_acc"]].values.tolist()
            [[0.0, 0.5], [1.0, 0.55]]
        """
        with self._connect() as con:
            rows = con.execute(f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epoch_metrics WHERE run_id=? ORDER BY epoch",
                               (int(run_id),)).fetchall()
        df = pd.DataFrame.from_records(rows, columns=EPOCH_COLUMNS)
        return df.astype({c: "float64" for c in EPOCH_COLUMNS[1:]} | {"epoch": "int64"})

    def export_csv(self, run_id: int, path: str | os.PathLike[str]) -> Path:
        """Write a run's per-batch metrics as CSV; the epoch metrics fill the row of each epoch's last step.

        Columns: step, epoch, loss, lr, momentum, train_loss, train_acc, val_loss, val_acc, seconds.
        The epoch columns are empty on every other row, and NaN values are written as empty cells.
        The file is written next to ``path`` (``<name>.part``) and then moved into place, so a reader
        never sees half a file.

        Args:
            run_id: The run's id.
            path: The CSV file to write (replaced if it exists).

        Returns:
            ``path`` as a :class:`~pathlib.Path`.

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> folder = tempfile.mkdtemp()
            >>> store = RunStore(os.path.join(folder, "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.add_batches(rid, [BatchRow(0, 0, 2.3, 0.004, 0.95), BatchRow(1, 0, 2.1, 0.01, 0.94)])
            2
            >>> store.add_epoch(rid, EpochRow(0, 2.2, 0.4, 2.0, 0.5, 1.5))
            >>> print(store.export_csv(rid, os.path.join(folder, "run.csv")).read_text(), end="")
            step,epoch,loss,lr,momentum,train_loss,train_acc,val_loss,val_acc,seconds
            0,0,2.3,0.004,0.95,,,,,
            1,0,2.1,0.01,0.94,2.2,0.4,2.0,0.5,1.5
        """
        self.get_run(run_id)  # KeyError for an unknown run
        batches = self.batch_metrics(run_id)
        epochs = self.epoch_metrics(run_id)
        extra = EPOCH_COLUMNS[1:]
        last_step = batches.groupby("epoch")["step"].max().to_dict() if len(batches) else {}
        by_epoch = {int(r.epoch): r for r in epochs.itertuples(index=False)}
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(BATCH_COLUMNS + extra)
            for r in batches.itertuples(index=False):
                epoch = None if pd.isna(r.epoch) else int(r.epoch)
                row = [int(r.step), "" if epoch is None else epoch, r.loss, r.lr, r.momentum]
                er = by_epoch.get(epoch) if epoch is not None and last_step.get(epoch) == r.step else None
                row += [getattr(er, c) for c in extra] if er is not None else [""] * len(extra)
                writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in row])
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------------ liveness and cancel
    def request_cancel(self, run_id: int) -> None:
        """Flag a run for cancellation (the worker polls the flag); a queued run is cancelled at once.

        A queued run becomes ``cancelled`` (with ``finished_at``) in the same transaction; a running
        run keeps its status until its worker sees :meth:`cancel_requested` and stops; a finished run
        only gets the flag.

        Args:
            run_id: The run's id.

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> queued, running = store.create_run({}), store.create_run({}, status="running")
            >>> store.request_cancel(queued)
            >>> store.request_cancel(running)
            >>> store.status(queued), store.status(running), store.cancel_requested(running)
            ('cancelled', 'running', True)
        """
        with self._transaction() as con:
            self._require(con, run_id)
            con.execute("UPDATE runs SET cancel_requested=1 WHERE id=?", (int(run_id),))
            con.execute("UPDATE runs SET status='cancelled', finished_at=? WHERE id=? AND status='queued'",
                        (_now(), int(run_id)))

    def cancel_requested(self, run_id: int) -> bool:
        """True once :meth:`request_cancel` was called for the run.

        Args:
            run_id: The run's id (an unknown run gives False, no error).

        Returns:
            Whether cancellation was requested.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({}, status="running")
            >>> before = store.cancel_requested(rid)
            >>> store.request_cancel(rid)
            >>> before, store.cancel_requested(rid), store.cancel_requested(99)
            (False, True, False)
        """
        with self._connect() as con:
            row = con.execute("SELECT cancel_requested FROM runs WHERE id=?", (int(run_id),)).fetchone()
        return bool(row and row[0])

    def mark_interrupted(self, stale_after: float = 900.0) -> int:
        """Mark ``running``/``queued`` runs whose owning process is gone as ``interrupted``.

        A run is owned by the process recorded in its ``pid`` (the submitter while queued, the
        worker once running). On this host a run is dead when that process is; runs of live
        processes (e.g. a CLI run next to the dashboard) are left alone. A run owned by another
        host (a previous container sharing the store's volume) is dead when it has shown no sign
        of life (status change or metrics write) for ``stale_after`` seconds. A marked run gets
        ``finished_at`` and, unless it already has an error, the error
        ``"the process running it stopped before it finished"``.

        Args:
            stale_after: Seconds without a sign of life after which a run owned by another host
                counts as dead (default 900).

        Returns:
            How many runs were marked.

        Raises:
            ValueError: ``stale_after must be a number of seconds >= 0; received stale_after=...``.

        Example:
            >>> import subprocess, sys, tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> alive = store.create_run({}, status="running")  # owned by this (live) process
            >>> orphan = store.create_run({})
            >>> worker = subprocess.Popen([sys.executable, "-c", ""])
            >>> worker.wait()  # the worker exits without finishing the run
            0
            >>> store.set_status(orphan, "running", pid=worker.pid)
            >>> store.mark_interrupted()
            1
            >>> store.status(alive), store.status(orphan), store.get_run(orphan)["error"]
            ('running', 'interrupted', 'the process running it stopped before it finished')
            >>> store.mark_interrupted(stale_after=-1)
            Traceback (most recent call last):
            ...
            ValueError: stale_after must be a number of seconds >= 0; received stale_after=-1
        """
        if not (isinstance(stale_after, (int, float)) and math.isfinite(stale_after) and stale_after >= 0):
            raise ValueError(f"stale_after must be a number of seconds >= 0; received stale_after={stale_after!r}")
        host = socket.gethostname()
        now = time.time()
        with self._connect() as con:
            rows = con.execute("SELECT id, pid, host, heartbeat, created_at FROM runs "
                               "WHERE status IN ('running', 'queued')").fetchall()

        def dead_run(pid: int | None, h: str | None, beat: float | None, created: str) -> bool:
            if h in (None, host):
                return not pid_alive(pid)
            last = beat if beat is not None else datetime.fromisoformat(created).timestamp()
            return now - last > stale_after

        dead = [rid for rid, pid, h, beat, created in rows if dead_run(pid, h, beat, created)]
        if not dead:
            return 0
        with self._transaction() as con:
            for rid in dead:
                con.execute(
                    "UPDATE runs SET status='interrupted', finished_at=?, "
                    "error=COALESCE(error, 'the process running it stopped before it finished') "
                    "WHERE id=? AND status IN ('running', 'queued')", (_now(), rid))
        return len(dead)

    def wait_for(self, run_id: int, statuses: Sequence[str] = TERMINAL_STATUSES, timeout: float | None = None,
                 poll: float = 0.1) -> str:
        """Poll until the run's status is one of ``statuses`` and return it.

        Args:
            run_id: The run's id.
            statuses: The statuses to wait for (default :data:`TERMINAL_STATUSES`); a non-empty list
                of :data:`STATUSES`, not a single string.
            timeout: Seconds to wait at most; None waits for ever.
            poll: Seconds between two reads of the status.

        Returns:
            The status reached.

        Raises:
            ValueError: ``statuses must be a list of [...]; received statuses=...`` for a string, an
                empty list or an unknown status.
            KeyError: ``no run with id <run_id> in <path>`` for an unknown run.
            TimeoutError: ``run <run_id> still '<status>' after <timeout> s``.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> store.wait_for(rid, ["queued", "running"])
            'queued'
            >>> store.wait_for(rid, timeout=0.05, poll=0.01)
            Traceback (most recent call last):
            ...
            TimeoutError: run 1 still 'queued' after 0.05 s
        """
        if isinstance(statuses, str) or not set(statuses) <= set(STATUSES) or not statuses:
            raise ValueError(f"statuses must be a list of {list(STATUSES)}; received statuses={statuses!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status(run_id)
            if status in statuses:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {status!r} after {timeout} s")
            time.sleep(poll)


class MetricsWriter:
    """Writes a run's metrics from a background thread so training never waits on SQLite.

    ``add_batches`` / ``add_epoch`` only enqueue; the thread writes everything queued so far in
    one transaction, in order. While another process holds the store locked past its busy timeout,
    nothing is lost: the rows stay queued and the write is retried (each try waits the store's
    ``timeout``) until it goes through, for up to ``max_locked_seconds`` in all. ``close()`` drains
    the queue and re-raises a write error, if any. Use as a context manager.

    Args:
        store: The run store to write to.
        run_id: The run the metrics belong to.
        max_locked_seconds: How long in all the rows may wait for a store that another process keeps
            locked; after that the write error is kept for :meth:`close` and those rows are dropped.

    Example:
        >>> import tempfile, os
        >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
        >>> rid = store.create_run({})
        >>> with MetricsWriter(store, rid) as writer:
        ...     writer.add_batches([BatchRow(0, 0, 2.0, 0.1, 0.9)])
        ...     writer.add_epoch(EpochRow(0, 2.0, 0.5, 2.1, 0.4, 1.0))
        >>> len(store.batch_metrics(rid)), len(store.epoch_metrics(rid))
        (1, 1)
    """

    def __init__(self, store: RunStore, run_id: int, *, max_locked_seconds: float = 900.0):
        self.store, self.run_id = store, int(run_id)
        self.max_locked_seconds = float(max_locked_seconds)
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=f"superconv-metrics-{run_id}", daemon=True)
        self._thread.start()

    def add_batches(self, rows: Iterable[Any]) -> None:
        """Queue per-batch rows (returns at once; the rows are written by the background thread).

        Args:
            rows: Rows as :meth:`RunStore.add_batches` takes them (they are copied into a list now).
                A write error surfaces in :meth:`close`.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> writer = MetricsWriter(store, rid)
            >>> writer.add_batches(BatchRow(s, 0, 2.0, 0.1, 0.9) for s in range(3))
            >>> writer.close()
            >>> store.batch_metrics(rid)["step"].tolist()
            [0, 1, 2]
        """
        self._queue.put(("batch", list(rows)))

    def add_epoch(self, row: Any) -> None:
        """Queue one epoch row (written after the batch rows queued before it).

        Args:
            row: A row as :meth:`RunStore.add_epoch` takes it. A write error surfaces in :meth:`close`.

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> rid = store.create_run({})
            >>> with MetricsWriter(store, rid) as writer:
            ...     writer.add_epoch(EpochRow(0, 2.0, 0.5, 2.1, 0.4, 1.0))
            >>> store.epoch_metrics(rid)["val_acc"].tolist()
            [0.4]
        """
        self._queue.put(("epoch", row))

    def _loop(self) -> None:
        done = False
        batches: list[Any] = []  # rows not yet written (kept across tries while the store is locked)
        epochs: list[Any] = []
        locked_since: float | None = None
        while not done or batches or epochs:
            items = []
            if not done:  # wait for rows; with rows still to write (a locked store), retry within a second
                try:
                    items.append(self._queue.get(timeout=1.0 if batches or epochs else None))
                except queue.Empty:
                    pass
            while not done:  # take everything queued meanwhile: one transaction for all of it
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in items:
                done = True
            batches += [r for item in items if item and item[0] == "batch" for r in item[1]]
            epochs += [item[1] for item in items if item and item[0] == "epoch"]
            try:
                if batches:
                    self.store.add_batches(self.run_id, batches)
                    batches = []
                while epochs:
                    self.store.add_epoch(self.run_id, epochs[0])
                    epochs.pop(0)
                locked_since = None
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    self._error, batches, epochs = exc, [], []
                    continue
                # Another process holds the store: each try already waited its busy timeout. Keep the rows.
                locked_since = locked_since if locked_since is not None else time.monotonic()
                if time.monotonic() - locked_since > self.max_locked_seconds:
                    self._error, batches, epochs = exc, [], []
            except BaseException as exc:  # noqa: BLE001 - reported by close()
                self._error, batches, epochs = exc, [], []

    def close(self) -> None:
        """Write everything queued, stop the thread, raise the first write error if there was one.

        Calling it again raises the same error again (or does nothing when there was none).

        Raises:
            KeyError: ``no run with id <run_id> in <path>`` when the run does not exist, or whatever
                else a write raised (e.g. ValueError for a malformed row).

        Example:
            >>> import tempfile
            >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
            >>> writer = MetricsWriter(store, 99)  # no such run
            >>> writer.add_batches([BatchRow(0, 0, 2.0, 0.1, 0.9)])
            >>> writer.close()
            Traceback (most recent call last):
            ...
            KeyError: 'no run with id 99 in ...'
        """
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> "MetricsWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
