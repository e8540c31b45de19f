"""The TensorFlow side of the LR range test: a compiled train step whose LR is set per batch.

:class:`RangeTestEngine` holds the model, the optimizer and one ``tf.function`` train step. Each
batch it assigns the batch's LR to the optimizer's ``learning_rate`` variable (cheap, and honoured
by the compiled step) and reads the batch loss back. Snapshots of every model and optimizer
variable (weights, BatchNorm statistics, slots, iteration counter, LR) make the restore exact.

:func:`run_range_test` / :func:`run_sweep` run tests on the engine's datasets and models
(repeats over seeds, sweeps over weight decay or batch size); :func:`lr_find_job` is the
worker entry point for the dashboard's ``lr_find`` jobs.

This module imports TensorFlow; :mod:`superconv.lr_finder` imports it lazily.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterator

import numpy as np
import tensorflow as tf
import keras

from superconv.lr_finder import (DivergenceMonitor, LRFinder, RangeTestResult, aggregate_curves, lr_sequence,
                                 sweep_plan)

OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")


def make_optimizer(name: str, *, momentum: float = 0.9, weight_decay: float = 0.0,
                   learning_rate: float = 1e-3) -> keras.optimizers.Optimizer:
    """A plain Keras optimizer with a float (variable) LR, for the range test.

    ``momentum`` is SGD/RMSprop momentum or Adam/AdamW ``beta_1``; ``weight_decay`` is passed to
    Keras (decoupled decay ``w -= lr * wd * w``), as the training runs do.
    """
    key = str(name).lower()
    if key not in OPTIMIZER_NAMES:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZER_NAMES)}; received optimizer={name!r}")
    if not (isinstance(momentum, (int, float)) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1); received momentum={momentum!r}")
    if not (isinstance(weight_decay, (int, float)) and math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0; received weight_decay={weight_decay!r}")
    wd = float(weight_decay) or None
    if key == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=momentum, weight_decay=wd)
    if key == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=momentum, weight_decay=wd)
    if key == "adamw":
        return keras.optimizers.AdamW(learning_rate, beta_1=momentum, weight_decay=float(weight_decay))
    return keras.optimizers.RMSprop(learning_rate, momentum=momentum, weight_decay=wd)


def _default_loss(model: keras.Model) -> keras.losses.Loss:
    last = model.layers[-1] if model.layers else None
    softmax_out = getattr(last, "activation", None) is keras.activations.softmax
    return keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax_out)


def numpy_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Iterator[tuple[Any, Any]]:
    """Endless shuffled batches of ``(x, y)``; a short last batch is dropped when a full one exists."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; received batch_size={batch_size!r}")
    n = len(x)
    if n == 0 or len(y) != n:
        raise ValueError(f"train data must hold matching, non-empty x and y; received {n} and {len(y)} samples")
    rng = np.random.default_rng(seed)
    bs = min(int(batch_size), n)
    while True:
        order = rng.permutation(n)
        for lo in range(0, n - bs + 1, bs):
            idx = order[lo:lo + bs]
            yield x[idx], y[idx]


def iterable_batches(data: Any) -> Iterator[tuple[Any, Any]]:
    """Endless batches from an iterable of ``(x, y)`` (a ``tf.data.Dataset``), re-iterated when exhausted."""
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch[0], batch[1]
        if empty:
            raise ValueError("train_data yielded no batches")


class RangeTestEngine:
    """Model + optimizer + compiled train step for range tests (see :class:`superconv.lr_finder.LRFinder`)."""

    def __init__(self, model: keras.Model, optimizer: Any = "sgd", loss: Any = None, *, momentum: float = 0.9,
                 weight_decay: float = 0.0, jit_compile: bool = False):
        if not isinstance(model, keras.Model):
            raise ValueError(f"model must be a keras.Model; received model={type(model).__name__}")
        if isinstance(optimizer, str):
            optimizer = make_optimizer(optimizer, momentum=momentum, weight_decay=weight_decay)
        elif not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(f"optimizer must be a name or a keras optimizer; received optimizer={optimizer!r}")
        if isinstance(getattr(optimizer, "_learning_rate", None), keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError("optimizer must have a float learning rate (the range test sets it per batch); "
                             f"received a {type(optimizer._learning_rate).__name__} schedule")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = keras.losses.get(loss) if loss is not None else _default_loss(model)
        self.jit_compile = bool(jit_compile)
        self._train_step: Callable | None = None
        self._eval_step: Callable | None = None

    # ---------------------------------------------------------------- state
    @property
    def ready(self) -> bool:
        return bool(self.model.built and self.model.trainable_variables)

    def build(self, x: Any) -> None:
        """Build the model on one batch's shape (if needed) and the optimizer's slots."""
        if not self.ready:
            self.model(tf.convert_to_tensor(x[:1]), training=False)
        if not self.optimizer.built:
            self.optimizer.build(self.model.trainable_variables)

    def _variables(self) -> list[Any]:
        seen: set[int] = set()
        out = []
        for v in list(self.model.variables) + list(self.optimizer.variables):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    def snapshot(self) -> list[tuple[Any, np.ndarray]] | None:
        """Copies of every model and optimizer variable (None while the model is unbuilt)."""
        if not self.ready:
            return None
        if not self.optimizer.built:
            self.optimizer.build(self.model.trainable_variables)
        return [(v, np.array(v.numpy(), copy=True)) for v in self._variables()]

    def restore(self, state: list[tuple[Any, np.ndarray]] | None) -> None:
        """Assign the values of a :meth:`snapshot` back (bit-for-bit)."""
        for var, value in state or ():
            var.assign(value)

    # ---------------------------------------------------------------- compiled steps
    def _get_train_step(self) -> Callable:
        if self._train_step is None:
            model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
            trainable = model.trainable_variables

            def step(x, y):
                with tf.GradientTape() as tape:
                    pred = model(x, training=True)
                    loss = loss_fn(y, pred)
                    if model.losses:
                        loss = loss + tf.add_n([tf.cast(v, loss.dtype) for v in model.losses])
                grads = tape.gradient(loss, trainable)
                opt.apply_gradients(zip(grads, trainable))
                return loss

            self._train_step = tf.function(step, jit_compile=self.jit_compile, reduce_retracing=True)
        return self._train_step

    def _get_eval_step(self) -> Callable:
        if self._eval_step is None:
            model, loss_fn = self.model, self.loss_fn

            def evaluate(x, y):
                return loss_fn(y, model(x, training=False))

            self._eval_step = tf.function(evaluate, jit_compile=self.jit_compile, reduce_retracing=True)
        return self._eval_step

    def val_loss(self, val_batches: list[tuple[Any, Any]]) -> float:
        """Sample-weighted mean loss over the validation batches."""
        step = self._get_eval_step()
        total, count = 0.0, 0
        for x, y in val_batches:
            n = int(x.shape[0])
            total += float(step(x, y)) * n
            count += n
        return total / max(count, 1)

    @staticmethod
    def val_batch_list(val_data: Any, batch_size: int) -> list[tuple[Any, Any]]:
        if isinstance(val_data, tuple) and len(val_data) == 2 and isinstance(val_data[0], np.ndarray):
            x, y = val_data
            bs = max(int(batch_size), 256)
            return [(tf.constant(x[i:i + bs]), tf.constant(y[i:i + bs])) for i in range(0, len(x), bs)]
        return [(b[0], b[1]) for b in val_data]

    # ---------------------------------------------------------------- the sweep
    def batches(self, train_data: Any, batch_size: int | None, seed: int) -> Iterator[tuple[Any, Any]]:
        if isinstance(train_data, tuple) and len(train_data) == 2 and isinstance(train_data[0], np.ndarray):
            if batch_size is None:
                raise ValueError("batch_size is required with numpy train data; received batch_size=None")
            return numpy_batches(train_data[0], np.asarray(train_data[1]), batch_size, seed)
        return iterable_batches(train_data)

    def sweep(self, lrs: np.ndarray, batches: Iterator[tuple[Any, Any]], val_batches: list | None, *,
              monitor: DivergenceMonitor, val_every: int | None = None,
              on_step: Callable[[int, float, float], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> RangeTestResult:
        """Train one batch per LR in ``lrs`` (the model must be built: see :meth:`build`)."""
        step = self._get_train_step()
        lr_var = self.optimizer.learning_rate
        done_lrs, losses, val_steps, val_losses = [], [], [], []
        reason = "completed"
        t0 = time.perf_counter()
        for i, lr in enumerate(lrs):
            if should_stop is not None and should_stop():
                reason = "cancelled"
                break
            x, y = next(batches)
            lr_var.assign(lr)
            loss = float(step(x, y))
            verdict = monitor.update(loss)
            if verdict == "nan":
                reason = "nan"
                break
            done_lrs.append(float(lr))
            losses.append(loss)
            if val_every is not None and val_batches and (i + 1) % val_every == 0:
                val_steps.append(i)
                val_losses.append(self.val_loss(val_batches))
            if on_step is not None:
                on_step(i, float(lr), loss)
            if verdict == "diverged":
                reason = "diverged"
                break
        seconds = time.perf_counter() - t0
        return RangeTestResult(lrs=done_lrs, losses=losses, stop_reason=reason, beta=monitor.beta,
                               val_steps=val_steps, val_losses=val_losses, seconds=seconds)


# --------------------------------------------------------------------------- engine datasets and models
def run_range_test(*, dataset: str = "digits", model: str = "cnn", optimizer: str = "sgd", batch_size: int = 64,
                   weight_decay: float = 0.0, momentum: float = 0.9, seed: int = 0, start_lr: float = 1e-5,
                   end_lr: float = 10.0, num_iter: int = 100, mode: str = "exp", beta: float = 0.95,
                   diverge_th: float = 5.0, val_every: int | None = None, val_fraction: float = 0.2,
                   csv_path: str | None = None, max_samples: int | None = None, label: str = "",
                   data: Any = None, on_step: Callable[[int, float, float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> RangeTestResult:
    """One range test of a zoo model on a named dataset (fresh model built with ``seed``).

    ``data`` may pass an already loaded :class:`superconv.data.Dataset` (reused across repeats).
    """
    from superconv.data import load_dataset
    from superconv.models import build_model

    lr_sequence(start_lr, end_lr, num_iter, mode)  # validate before loading anything
    if data is None:
        data = load_dataset(dataset, seed=seed, val_fraction=val_fraction, csv_path=csv_path,
                            max_samples=max_samples)
    keras.utils.set_random_seed(seed)
    net = build_model(model, data.input_shape, data.num_classes, seed=seed)
    finder = LRFinder(net, optimizer, momentum=momentum, weight_decay=weight_decay)
    val = (data.x_val, data.y_val) if val_every is not None and len(data.x_val) else None
    result = finder.range_test((data.x_train, data.y_train), val, start_lr=start_lr, end_lr=end_lr,
                               num_iter=num_iter, mode=mode, beta=beta, diverge_th=diverge_th,
                               val_every=val_every if val is not None else None, batch_size=batch_size, seed=seed,
                               restore=False, on_step=on_step, should_stop=should_stop)
    result.params.update(dataset=data.name, model=model, optimizer=optimizer, batch_size=int(batch_size),
                         weight_decay=float(weight_decay), momentum=float(momentum))
    result.label = label
    return result


def run_sweep(*, seeds: list[int] | tuple[int, ...] = (0,), sweep_over: str | None = None,
              values: list[Any] | tuple[Any, ...] = (), on_curve: Callable[[RangeTestResult], None] | None = None,
              **params: Any) -> list[RangeTestResult]:
    """Range tests for every seed (repeats) and every value of one swept parameter.

    Args:
        seeds: One curve per seed; plot their mean and band with
            :func:`superconv.lr_finder.aggregate_curves` (group them by ``label``).
        sweep_over: ``"weight_decay"``, ``"batch_size"`` or None.
        values: The values of the swept parameter (one curve group each).
        on_curve: Called with each finished curve.
        **params: Passed to :func:`run_range_test`.

    Raises:
        ValueError: a sweep :func:`superconv.lr_finder.sweep_plan` refuses (no seeds, an unknown
            ``sweep_over``, no values, more than 64 curves).

    Returns:
        The curves, labelled like ``"weight_decay=0.0005"`` (or ``""`` without a sweep).
    """
    from superconv.data import load_dataset

    seed_list, groups = sweep_plan(seeds, sweep_over, values)
    out = []
    cache: dict[int, Any] = {}
    for label, override in groups:
        for seed in seed_list:
            if seed not in cache:
                cache[seed] = load_dataset(params.get("dataset", "digits"), seed=seed,
                                           val_fraction=params.get("val_fraction", 0.2),
                                           csv_path=params.get("csv_path"), max_samples=params.get("max_samples"))
            kw = {**params, **override, "seed": int(seed), "label": label, "data": cache[seed]}
            result = run_range_test(**kw)
            out.append(result)
            if on_curve is not None:
                on_curve(result)
            if kw.get("should_stop") is not None and result.stop_reason == "cancelled":
                return out
    return out


def bands_by_label(results: list[RangeTestResult]) -> dict[str, Any]:
    """Group curves by label and aggregate each group (mean and band over seeds)."""
    groups: dict[str, list[RangeTestResult]] = {}
    for r in results:
        groups.setdefault(r.label, []).append(r)
    return {label: aggregate_curves(rs, label=label) for label, rs in groups.items() if min(len(r.lrs) for r in rs)}


# --------------------------------------------------------------------------- worker job kind "lr_find"
FLUSH_ROWS = 20
FLUSH_SECONDS = 0.3


def lr_find_job(run_id: int, store: Any, should_stop: Callable[[], bool]) -> None:
    """Job kind ``lr_find`` (see :data:`superconv.worker.JOB_KINDS`): one range-test curve.

    The run's config comes from :func:`superconv.lr_finder.job_configs`. Every batch becomes a
    batch-metrics row (step, loss = raw batch loss, lr, momentum), written in small batches so the
    dashboard can draw the curve live. A blow-up is the normal end of a range test, so the run ends
    ``finished`` (or ``cancelled``) with the stop reason in its final record.
    """
    from superconv.store import BatchRow
    from superconv.training import describe_devices

    config = store.get_run(run_id)["config"]
    lf = dict(config.get("lr_find") or {})
    momentum = float(lf.get("momentum", 0.9))
    rows: list[Any] = []
    last_flush = [time.monotonic()]

    def flush() -> None:
        if rows:
            store.add_batches(run_id, list(rows))
            rows.clear()
        last_flush[0] = time.monotonic()

    def on_step(i: int, lr: float, loss: float) -> None:
        rows.append(BatchRow(i, None, loss, lr, momentum))
        if len(rows) >= FLUSH_ROWS or time.monotonic() - last_flush[0] >= FLUSH_SECONDS:
            flush()

    store.set_status(run_id, "running", device=describe_devices())
    result = run_range_test(
        dataset=config.get("dataset", "digits"), model=config.get("model", "cnn"),
        optimizer=config.get("optimizer", "sgd"), batch_size=int(config.get("batch_size", 64)),
        weight_decay=float(config.get("weight_decay", 0.0)), momentum=momentum, seed=int(config.get("seed", 0)),
        csv_path=config.get("csv_path"), max_samples=lf.get("max_samples"),
        start_lr=float(lf.get("start_lr", 1e-5)), end_lr=float(lf.get("end_lr", 10.0)),
        num_iter=int(lf.get("num_iter", 100)), mode=lf.get("mode", "exp"), beta=float(lf.get("beta", 0.95)),
        diverge_th=float(lf.get("diverge_th", 5.0)), label=lf.get("label", ""),
        on_step=on_step, should_stop=should_stop)
    flush()
    sm = result.smoothed
    final = {"stop_reason": result.stop_reason, "steps": result.num_iter_done, "seconds": round(result.seconds, 3),
             "min_smoothed_loss": float(sm.min()) if sm.size else None,
             "lr_at_min": float(result.lrs[int(sm.argmin())]) if sm.size else None}
    store.set_status(run_id, "cancelled" if result.stop_reason == "cancelled" else "finished", final=final)
