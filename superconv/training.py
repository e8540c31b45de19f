"""One training run: a :class:`~superconv.config.RunConfig` in, a stream of metrics out.

``train_run`` loads the dataset, builds the model, stretches the schedule to the run's exact
step count (``epochs * ceil(num_train / batch_size)``), and trains with a superconv optimizer
(:func:`superconv.keras.one_cycle_optimizer` for every schedule kind, baselines included) whose
LR and momentum are looked up in-graph from ``optimizer.iterations``. Per batch it reports:

- the TRUE loss of that batch. Keras' ``logs["loss"]`` is the running mean of the epoch, weighted
  by batch size, so the batch loss is ``(N_k * mean_k - N_(k-1) * mean_(k-1)) / n_k`` with ``N_k``
  the samples seen in the epoch after batch ``k`` and ``n_k`` the batch's size (exact for a short
  last batch too);
- the LR and momentum the optimizer applied, read back from its ``applied_lr`` / ``applied_momentum``
  variables inside the compiled step (they come back in the batch logs with the loss; no eager
  schedule evaluation, no extra host reads).

Rows are handed over in batches (``on_batch(list[BatchRow])``, about every 50 steps or 0.5 s and at
each epoch end) so writing them costs nothing measurable. A NaN/inf batch loss stops the run at
once with status ``diverged`` (metrics so far kept); ``should_stop()`` is polled after every batch
(cancel within one batch).

Weight decay is Keras' decoupled ``weight_decay`` of the optimizer: after each update the weights
are multiplied by ``1 - lr * weight_decay`` (so it follows the LR schedule), not an L2 loss term.
Mixed precision (``mixed_float16``) is applied on a GPU only, set inside the calling thread
(Keras' dtype policy is per thread) and restored afterwards; on a CPU it is ignored and the run
records ``mixed_precision_applied: False`` (float16 is slower than float32 on CPUs).

Example:
    >>> from superconv.training import RunResult
    >>> RunResult("finished", 3, {"val_acc": 0.9}, "CPU").ok
    True
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable

from superconv.config import RunConfig, load_run_config
from superconv.store import BatchRow, EpochRow

__all__ = ["BatchRow", "EpochRow", "RunResult", "train_run", "describe_devices", "enable_determinism"]

FLUSH_ROWS = 50
FLUSH_SECONDS = 0.5


@dataclasses.dataclass
class RunResult:
    """How a run ended.

    Attributes:
        status: ``finished``, ``diverged``, ``cancelled`` or ``failed``.
        epochs_done: Completed epochs.
        final: Final metrics (train_loss, train_acc, val_loss, val_acc of the last complete epoch,
            last_batch_loss, steps, total_steps, seconds, samples_per_s) and settings recorded with
            the run (mixed_precision_applied, jit_compile, replicas).
        device: Where it ran, e.g. ``"CPU"`` or ``"GPU:0 NVIDIA H100 80GB HBM3"``.
        error: Why it failed or diverged (None otherwise).
    """

    status: str
    epochs_done: int
    final: dict[str, Any]
    device: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the run finished."""
        return self.status == "finished"


class _StopRun(Exception):
    """Raised from the callback to leave ``fit`` at once (no validation pass on a dead run)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def enable_determinism() -> None:
    """Make TF ops deterministic (process-wide, irreversible): called by the worker and the CLI, not
    by ``train_run`` itself, so a host process (tests, notebooks) keeps its own settings."""
    import tensorflow as tf

    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # pragma: no cover - older TF or already initialized
        pass


def _setup_gpus() -> list[Any]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # already initialized: growth must be set before first use
            pass
    return gpus


def describe_devices() -> str:
    """The devices a run uses, e.g. ``"CPU"``, ``"GPU:0 NVIDIA H100 80GB HBM3"`` or
    ``"2x GPU (MirroredStrategy): GPU:0 ..., GPU:1 ..."``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    names = []
    for i, gpu in enumerate(gpus):
        try:
            detail = tf.config.experimental.get_device_details(gpu).get("device_name", "")
        except (RuntimeError, ValueError):  # pragma: no cover
            detail = ""
        names.append(f"GPU:{i} {detail}".strip())
    if len(names) == 1:
        return names[0]
    return f"{len(names)}x GPU (MirroredStrategy): " + ", ".join(names)


def _applied_metrics(keras: Any, optimizer: Any) -> list[Any]:
    """Two pseudo-metrics that return the optimizer's ``applied_lr`` / ``applied_momentum`` after each
    step, so they arrive in the batch logs with the loss (one device->host transfer per batch
    instead of two extra variable reads)."""
    from superconv.keras import unwrap_optimizer

    class Applied(keras.metrics.Metric):
        def __init__(self, attribute: str, name: str) -> None:
            super().__init__(name=name)
            self.attribute = attribute

        def update_state(self, *args: Any, **kwargs: Any) -> None:
            return None

        def result(self) -> Any:
            return keras.ops.convert_to_tensor(getattr(unwrap_optimizer(optimizer), self.attribute))

        def reset_state(self) -> None:
            return None

    return [Applied("applied_lr", "applied_lr"), Applied("applied_momentum", "applied_momentum")]


def _make_callback(keras: Any, *, steps_per_epoch: int, num_train: int, batch_size: int,
                   on_batch: Callable[[list[BatchRow]], None] | None,
                   on_epoch: Callable[[EpochRow], None] | None,
                   should_stop: Callable[[], bool] | None) -> Any:
    from superconv.keras import unwrap_optimizer

    class RunCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.buffer: list[BatchRow] = []
            self.last_flush = time.monotonic()
            self.step = 0
            self.epoch = 0
            self.epochs_done = 0
            self.last_epoch: EpochRow | None = None
            self.last_loss = math.nan
            self._prev_total = 0.0
            self._seen = 0
            self._epoch_start = 0.0
            self.fit_start = time.perf_counter()
            self.samples = 0

        def flush(self) -> None:
            if self.buffer and on_batch is not None:
                rows, self.buffer = self.buffer, []
                on_batch(rows)
            self.buffer = []
            self.last_flush = time.monotonic()

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.opt = unwrap_optimizer(self.model.optimizer)
            self.fit_start = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch
            self._prev_total = 0.0
            self._seen = 0
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            mean = float(logs["loss"])
            n = min(batch_size, num_train - self._seen)
            self._seen += n
            self.samples += n
            total = mean * self._seen
            loss = (total - self._prev_total) / n
            self._prev_total = total
            row = BatchRow(self.step, self.epoch, loss, float(logs["applied_lr"]), float(logs["applied_momentum"]))
            self.buffer.append(row)
            self.step += 1
            self.last_loss = loss
            if not math.isfinite(loss):
                self.flush()
                raise _StopRun("diverged", f"loss became {loss} at step {row.step} (epoch {self.epoch}, "
                                           f"lr {row.lr:.4g}): the learning rate is too high")
            if len(self.buffer) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
                self.flush()
            if should_stop is not None and should_stop():
                self.flush()
                raise _StopRun("cancelled", f"cancelled at step {self.step} (epoch {self.epoch})")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            row = EpochRow(epoch, float(logs.get("loss", math.nan)), float(logs.get("accuracy", math.nan)),
                           float(logs.get("val_loss", math.nan)), float(logs.get("val_accuracy", math.nan)),
                           time.perf_counter() - self._epoch_start)
            self.flush()
            self.epochs_done = epoch + 1
            self.last_epoch = row
            if on_epoch is not None:
                on_epoch(row)
            if should_stop is not None and should_stop() and epoch + 1 < self.params.get("epochs", 0):
                raise _StopRun("cancelled", f"cancelled after epoch {epoch}")

    return RunCallback()


def train_run(config: RunConfig | dict[str, Any], *, on_batch: Callable[[list[BatchRow]], None] | None = None,
              on_epoch: Callable[[EpochRow], None] | None = None, should_stop: Callable[[], bool] | None = None,
              on_start: Callable[[dict[str, Any]], None] | None = None, verbose: int = 0) -> RunResult:
    """Train one run and stream its metrics.

    Args:
        config: A :class:`RunConfig` or a dict accepted by :func:`superconv.config.load_run_config`.
        on_batch: Receives lists of :class:`BatchRow` (step, epoch, true batch loss, applied lr, momentum).
        on_epoch: Receives an :class:`EpochRow` after each epoch (train and validation loss/accuracy).
        should_stop: Polled after every batch; returning True cancels the run within that batch.
        on_start: Receives a dict (device, total_steps, steps_per_epoch, num_train, num_val,
            mixed_precision_applied, schedule) once the data and model are ready.
        verbose: Keras ``fit`` verbosity.

    Returns:
        A :class:`RunResult`; exceptions during the run become ``status="failed"`` with the error text.

    Raises:
        ValueError: an invalid config (nothing is trained).
    """
    cfg = load_run_config(config)
    started = time.perf_counter()
    device = "CPU"
    state: dict[str, Any] = {"callback": None, "total_steps": None}
    previous_policy = None
    final: dict[str, Any] = {"jit_compile": cfg.jit_compile, "mixed_precision_applied": False}
    try:
        import keras
        import tensorflow as tf

        gpus = _setup_gpus()
        device = describe_devices()
        strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
        final["replicas"] = int(strategy.num_replicas_in_sync)
        if cfg.mixed_precision and gpus:
            previous_policy = keras.config.dtype_policy()
            keras.config.set_dtype_policy("mixed_float16")
            final["mixed_precision_applied"] = True

        from superconv.data import load_dataset
        from superconv.keras import ScheduleGuard, one_cycle_optimizer
        from superconv.models import build_model, default_width
        from superconv.schedules import steps_per_epoch

        keras.utils.set_random_seed(cfg.seed)
        ds = load_dataset(cfg.dataset, seed=cfg.seed, val_fraction=cfg.val_fraction, csv_path=cfg.csv_path,
                          label_column=cfg.label_column, max_samples=cfg.max_samples)
        spe = steps_per_epoch(ds.num_train, cfg.batch_size)
        total_steps = cfg.epochs * spe
        state["total_steps"] = total_steps
        schedule = cfg.build_schedule(total_steps)
        width = cfg.width if cfg.width is not None else default_width(cfg.model, gpu=bool(gpus))
        opt_kwargs: dict[str, Any] = {}
        if cfg.optimizer == "adamw" or cfg.weight_decay > 0:
            opt_kwargs["weight_decay"] = cfg.weight_decay
        if cfg.nesterov:
            opt_kwargs["nesterov"] = True
        with strategy.scope():
            model = build_model(cfg.model, ds.input_shape, ds.num_classes, seed=cfg.seed, width=width)
            optimizer = one_cycle_optimizer(cfg.optimizer, schedule, **opt_kwargs)
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy", *_applied_metrics(keras, optimizer)], jit_compile=cfg.jit_compile)
        callback = _make_callback(keras, steps_per_epoch=spe, num_train=ds.num_train, batch_size=cfg.batch_size,
                                  on_batch=on_batch, on_epoch=on_epoch, should_stop=should_stop)
        state["callback"] = callback
        final.update(total_steps=total_steps, width=width, num_train=ds.num_train, num_val=ds.num_val)
        if on_start is not None:
            on_start({"device": device, "total_steps": total_steps, "steps_per_epoch": spe,
                      "num_train": ds.num_train, "num_val": ds.num_val, "width": width,
                      "mixed_precision_applied": final["mixed_precision_applied"],
                      "schedule": schedule.to_dict()})
        train = ds.train_pipeline(cfg.batch_size, seed=cfg.seed, shuffle=cfg.shuffle)
        val = ds.val_pipeline(max(cfg.batch_size, 256))
        model.fit(train, validation_data=val, epochs=cfg.epochs, verbose=verbose, shuffle=False,
                  callbacks=[ScheduleGuard(schedule), callback])
        status, error = "finished", None
    except _StopRun as stop:
        status, error = stop.status, (str(stop) if stop.status == "diverged" else None)
    except ValueError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - a run never takes its host down
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if previous_policy is not None:
            import keras

            keras.config.set_dtype_policy(previous_policy)
    callback = state["callback"]
    seconds = time.perf_counter() - started
    if callback is not None:
        last = callback.last_epoch
        if last is not None:
            final.update(train_loss=last.train_loss, train_acc=last.train_acc, val_loss=last.val_loss,
                         val_acc=last.val_acc)
        fit_seconds = time.perf_counter() - callback.fit_start
        final.update(steps=callback.step, last_batch_loss=callback.last_loss, fit_seconds=fit_seconds,
                     samples_per_s=callback.samples / fit_seconds if fit_seconds > 0 else None)
    final["seconds"] = seconds
    return RunResult(status, callback.epochs_done if callback is not None else 0, final, device, error)
