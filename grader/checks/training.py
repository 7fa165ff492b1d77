"""Timed training checks, driven from the trusted process.

The model, the optimizer and the training epoch run inside a sandboxed child; after every
epoch the trusted process sends the validation *inputs*, gets logits back by value, and computes
the validation loss and metrics itself, so held-out labels never enter the child. Early
stopping is the submission's own rule, fed the statistics the trusted process computed.

An assignment describes its check with `TrainingCheck` (which pieces of the submission train,
their stand-ins, the data, the metrics) and gets a module-scoped fixture whose result the
tests assert on (`TrainingResult.assert_metric`, `assert_finite`, `assert_stopped_early`,
`assert_within_budget`). Everything else is here: the device and its configuration
(`training.cpu` / `training.cuda` in assignment.yaml), fresh children, the reference trained
the same way in the same run, stand-ins for pieces whose own parts lost points, the epoch and
step where a loss stopped being finite, and messages that name the piece that failed.

Time is measured over the whole run, every call of it (training epochs, predictions, the
stopping rule) and whatever the child's tree does in between (a background thread too): the
CPU seconds of the child's tree, read from the kernel by this process, and the wall time of
every call (the child synchronises CUDA before it answers). On the CPU the budget compares CPU
seconds, which a busy host does not inflate; on a GPU, wall seconds. Submission and reference
are measured the same way on the same device in the same run.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from grader.checks import metrics
from grader.checks.metrics import binary_auroc, cross_entropy
from grader.checks.shared_runs import shared_or_trained
from grader.runner.plugin import TRAINING_CHECK_ATTR
from grader.sandbox.host.client import StudentError, StudentFailure


@dataclass
class TrainingRun:
    """What one training run produced (all computed in the trusted process)."""

    val_losses: list[float] = field(default_factory=list)  # on the partition the stopping rule sees
    val_metrics: dict[str, list[float]] = field(default_factory=dict)  # on the held-out partition
    epoch_seconds: list[float] = field(default_factory=list)  # wall time of each epoch's calls
    cpu_seconds: float = 0.0  # CPU time of the child's whole tree over the run
    on_cuda: bool = False
    stopped_early: bool = False
    final_logits: np.ndarray | None = None
    non_finite_at: int | None = None  # epoch (1-based) where the loss became NaN/inf
    non_finite_step: int | None = None  # the training step (1-based) of that epoch, when known
    substituted: list[str] = field(default_factory=list)  # pieces replaced by stand-ins
    patience: int | None = None
    max_epochs: int = 0

    @property
    def val_metric(self) -> list[float]:
        """The first metric's values, per epoch."""
        return next(iter(self.val_metrics.values()), [])

    @property
    def wall_seconds(self) -> float:
        """Wall time of every call of the run."""
        return float(sum(self.epoch_seconds))

    @property
    def train_seconds(self) -> float:
        """The time the budget compares: CPU seconds of the run (wall seconds on a GPU)."""
        return self.wall_seconds if self.on_cuda else self.cpu_seconds

    @property
    def seconds_per_epoch(self) -> float:
        """`train_seconds` per epoch run."""
        return self.train_seconds / max(self.epochs, 1)

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.epoch_seconds)

    @property
    def best_epoch(self) -> int | None:
        """The index of the epoch with the lowest validation loss (None before any)."""
        losses = np.asarray(self.val_losses, dtype=float)
        if not len(losses) or np.isnan(losses).all():
            return None
        return int(np.nanargmin(losses))

    def best(self, name: str | None = None) -> float:
        """The metric `name` (default: the first) at the epoch of the lowest validation loss."""
        values = self.val_metrics.get(name, []) if name is not None else self.val_metric
        best = self.best_epoch
        return float("nan") if best is None or best >= len(values) else values[best]

    @property
    def best_metric(self) -> float:
        """The first metric at the epoch of the lowest validation loss."""
        return self.best()


def default_stop_stats(accuracy: float, loss: float, metric_values: Mapping[str, float]) -> list[float]:
    """One epoch's statistics as the stopping rule gets them: `[accuracy, loss, *metrics]`."""
    return [accuracy, loss, *metric_values.values()]


def run_epochs(
    sub: Any,
    *,
    model: Any,
    train_epoch: Any,
    early_stopping: Any | None,
    criterion: Any,
    optimizer: Any,
    patience: int | None,
    train_loader: Any,
    x_val: torch.Tensor,
    y_val: np.ndarray,
    max_epochs: int,
    metric: Callable[[np.ndarray, np.ndarray], float] | Mapping[str, Callable[..., float]] = binary_auroc,
    epoch_seconds_limit: float = 60.0,
    stop_data: tuple[torch.Tensor, np.ndarray] | None = None,
    stop_stats: Callable[[float, float, Mapping[str, float]], list[float]] = default_stop_stats,
    step_losses: Callable[[], list[float] | None] | None = None,
) -> TrainingRun:
    """Train epoch by epoch with early stopping; validation metrics computed here (trusted).

    `sub` is the `student` or `reference` fixture; `model`, `criterion`, `optimizer` and
    `train_loader` are handles in its child; `train_epoch(loader, model, criterion, optimizer)`
    and `early_stopping(stats, count, min_loss) -> (count, min_loss)` are callables (handles);
    without `early_stopping` the run goes on for `max_epochs`.

    `x_val`, `y_val` is the held-out partition that decides the metrics (`metric`: one
    callable, or several by name). The statistics handed to the child's stopping rule
    (`stop_stats(accuracy, loss, metrics)`) come from `stop_data` (inputs, labels), a
    partition whose labels the child may know anyway (the public validation set): fed numbers
    computed from held-out labels, a submission could read those labels back one epoch at a
    time. Without `stop_data` the held-out partition serves both. `step_losses()`, when
    given, reports the epoch's training losses step by step (a hint for messages only).
    """
    named = dict(metric) if isinstance(metric, Mapping) else {getattr(metric, "__name__", "metric"): metric}
    run = TrainingRun(patience=patience, on_cuda=torch.cuda.is_available(), max_epochs=max_epochs)
    run.val_metrics = {name: [] for name in named}
    h = sub.harness
    count, min_loss = 0, float("inf")
    stats: list[list[float]] = []
    x_stop, y_stop = stop_data if stop_data is not None else (x_val, y_val)
    cpu_start = sub.sandbox.cpu_seconds()
    try:
        for epoch in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            with sub.time_limit(epoch_seconds_limit):
                train_epoch(train_loader, model, criterion, optimizer)
                h.synchronize()
                logits = np.asarray(h.predict(model, x_val), dtype=np.float64)
                stop_logits = logits if stop_data is None else np.asarray(h.predict(model, x_stop), dtype=np.float64)
            wall = time.perf_counter() - t0
            finite = bool(np.isfinite(logits).all() and np.isfinite(stop_logits).all())
            loss = cross_entropy(stop_logits, y_stop) if finite else float("nan")
            run.val_losses.append(loss)
            for name, fn in named.items():
                run.val_metrics[name].append(fn(y_val, logits) if finite else float("nan"))
            run.final_logits = logits
            if not math.isfinite(loss):
                run.epoch_seconds.append(wall)
                run.non_finite_at = epoch
                run.non_finite_step = _first_non_finite(step_losses)
                return run
            if step_losses is not None:
                step_losses()  # this epoch's losses were finite: forget them
            if early_stopping is None:
                run.epoch_seconds.append(wall)
                continue
            accuracy = metrics.accuracy(y_stop, stop_logits)
            on_stop = {name: (fn(y_stop, stop_logits) if stop_data is not None else run.val_metrics[name][-1])
                       for name, fn in named.items()}  # fmt: skip
            stats.append(stop_stats(accuracy, loss, on_stop))
            t1 = time.perf_counter()
            count, min_loss = early_stopping(stats, count, min_loss)
            run.epoch_seconds.append(wall + time.perf_counter() - t1)
            if patience is not None and int(count) >= int(patience):
                run.stopped_early = True
                break
    finally:
        run.cpu_seconds = max(0.0, sub.sandbox.cpu_seconds() - cpu_start)
    return run


def _first_non_finite(step_losses: Callable[[], list[float] | None] | None) -> int | None:
    if step_losses is None:
        return None
    try:
        losses = step_losses() or []
        return next((i + 1 for i, v in enumerate(losses) if not math.isfinite(float(v))), None)
    except Exception:  # a hint only: whatever the child reports may be broken
        return None


def budget_verdict(student_s: float, reference_s: float, *, ratio: float, cap_s: float) -> tuple[bool, str]:
    """Whether `student_s` is within `ratio` × the reference's time and under the cap."""
    allowed = min(ratio * reference_s, cap_s) if reference_s > 0 else cap_s
    verdict = student_s <= allowed
    text = (
        f"your training took {student_s:.2f} s, the reference {reference_s:.2f} s on the same "
        f"device; allowed: {allowed:.2f} s (≤ {ratio:g}× the reference, at most {cap_s:g} s)"
    )
    return verdict, text


# ------------------------------------------------------------------------------ the check API


@dataclass
class TrainingData:
    """The tensors of a training check (prepared in the trusted process).

    `x_train`/`y_train` go to the child by value; the stopping rule's statistics come from
    `x_stop`/`y_stop` (a partition the child may know anyway); the metrics are decided on
    `x_heldout`/`y_heldout`, whose labels never leave this process. Inputs are N×… float
    tensors, labels N integers.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_stop: torch.Tensor
    y_stop: np.ndarray
    x_heldout: torch.Tensor
    y_heldout: np.ndarray

    @classmethod
    def from_images(
        cls,
        train: tuple[np.ndarray, np.ndarray],
        stop: tuple[np.ndarray, np.ndarray],
        heldout: tuple[np.ndarray, np.ndarray],
        *,
        mean: Any = None,
        std: Any = None,
    ) -> TrainingData:
        """From (N×H×W×C uint8 images, labels) pairs: scaled to [0, 1], normalised channel by
        channel with `mean` and `std` (default: the training images' own, `channel_statistics`)
        and laid out N×C×H×W float32."""
        if mean is None or std is None:
            mean, std = channel_statistics(train[0])
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)

        def tensor(x: np.ndarray) -> torch.Tensor:
            z = (x.astype(np.float64) / 255.0 - mean) / std
            return torch.from_numpy(np.ascontiguousarray(z.astype(np.float32).transpose(0, 3, 1, 2)))

        return cls(
            x_train=tensor(train[0]), y_train=torch.from_numpy(train[1]),
            x_stop=tensor(stop[0]), y_stop=stop[1],
            x_heldout=tensor(heldout[0]), y_heldout=heldout[1],
        )  # fmt: skip


def channel_statistics(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and population std of N×H×W×C uint8 `images` scaled to [0, 1]."""
    z = images.astype(np.float64) / 255.0
    return z.mean(axis=(0, 1, 2)), z.std(axis=(0, 1, 2))


Getter = Callable[[Any], Any]


@dataclass(frozen=True)
class Piece:
    """One piece of the submission a training check uses, and what replaces it.

    `get(sub)` returns it from a side (`lambda sub: sub.train_common.train_epoch`). When a
    test of `part` has already failed, `standin(sub)` is used on both sides instead (a piece
    written out by the grader, or a different small model that does not reveal the solution),
    so one bug is not paid for twice. `name` is how messages call it. A criterion's or an
    optimizer's getters also get the model: `get(sub, model)`, `standin(sub, model)`.
    """

    name: str
    get: Getter
    part: str | None = None
    standin: Getter | None = None


@dataclass
class _Side:
    model: Any
    criterion: Any
    optimizer: Any
    train_epoch: Any
    early_stopping: Any | None
    patience: int | None
    substituted: list[str]


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def blamed(exc: BaseException, piece: str) -> BaseException:
    """`exc` with a message that names the piece that was running and where it raised.

    The copy keeps the original's class and attributes (a wall-clock time-out stays one, so
    the grading still runs it again alone)."""
    if isinstance(exc, StudentError):
        frames = _FRAME.findall(exc.traceback or "")
        where = f" (raised in `{frames[-1][2]}`, {frames[-1][0]} line {frames[-1][1]})" if frames else ""
        out: BaseException = type(exc)(piece, exc.exc_type, f"{exc.exc_message}{where}", exc.traceback)
    elif isinstance(exc, StudentFailure) and not str(exc).startswith(f"{piece}:"):
        out = type(exc)(f"{piece}: {exc}")
    else:
        return exc
    for key, value in vars(exc).items():
        vars(out).setdefault(key, value)
    return out


class TrainingResult:
    """The runs of one training check: the submission's (or its error) and the reference's."""

    def __init__(self, check: TrainingCheck, spec: Any, config: Any) -> None:
        self.check = check
        self.spec = spec
        self.config = config
        self._student: TrainingRun | None = None
        self._error: BaseException | None = None
        self.reference: TrainingRun | None = None
        self.pytest_config: Any = None  # set by the fixture: where curves are attached (artefacts)

    def _attach(self, artefacts: list[dict[str, Any]]) -> None:
        """Attach artefacts to the running test's result (shown by the scorecards)."""
        if self.pytest_config is not None:
            from grader.scorecard.artefacts import recorder

            for artefact in artefacts:
                recorder(self.pytest_config).add(artefact)

    @property
    def student(self) -> TrainingRun:
        """The submission's run; re-raises what stopped it, for every test that reads it."""
        if self._error is not None:
            raise self._error
        assert self._student is not None
        return self._student

    def note(self) -> str:
        """" (your X lost points in its own part, so a stand-in was used)" or ""."""
        run = self._student
        if run is None or not run.substituted:
            return ""
        return f" (your {', '.join(run.substituted)} lost points in its own part, so a stand-in was used)"

    def threshold(self, name: str) -> float:
        """`training.thresholds.<name>` of assignment.yaml."""
        try:
            return float(self.spec.training.thresholds[name])
        except KeyError:
            raise pytest.UsageError(f"assignment.yaml has no training.thresholds.{name}") from None

    def assert_metric(self, name: str, timings: dict[str, float] | None = None) -> None:
        """The metric `name`, at the epoch of the lowest validation loss, reaches its threshold."""
        run = self.student
        ref = self.reference
        if timings is not None and ref is not None:
            timings["student_train_s"] = round(run.wall_seconds, 3)
            timings["reference_train_s"] = round(ref.wall_seconds, 3)
        threshold = self.threshold(name)
        got = run.best(name)
        ref_text = f" (the reference reached {ref.best(name):.3f})" if ref is not None else ""
        label = metrics.label_of(self.check.metrics[name], name) if name in self.check.metrics else name
        from grader.scorecard.artefacts import training_curves

        self._attach(training_curves(run, ref, name, label))
        assert not math.isnan(got) and got >= threshold, (
            f"validation {label} {got:.3f} after {run.epochs} epochs is below the threshold "
            f"{threshold:g}{ref_text}{self.note()}"
        )

    def assert_finite(self) -> None:
        """The validation loss stayed finite in every epoch."""
        run = self.student
        if run.non_finite_at is None:
            return
        step = f", first at training step {run.non_finite_step}" if run.non_finite_step else ""
        raise AssertionError(
            f"the loss became {run.val_losses[-1]} in epoch {run.non_finite_at}{step}{self.note()}"
        )

    def assert_stopped_early(self) -> None:
        """Training stopped exactly `patience` epochs after the best validation loss."""
        run = self.student
        assert run.stopped_early, (
            f"training ran all {run.max_epochs} epochs without early stopping (patience {run.patience}){self.note()}"
        )
        best = run.best_epoch
        waited = len(run.val_losses) - 1 - (best if best is not None else 0)
        assert waited == run.patience, (
            f"stopped {waited} epochs after the best validation loss; the patience is {run.patience}{self.note()}"
        )

    def assert_within_budget(self, timings: dict[str, float] | None = None) -> None:
        """Time per epoch is within `budget_ratio` × the reference's and under `cap_seconds`."""
        run = self.student
        ref = self.reference
        if ref is None:
            raise pytest.UsageError("a training check with against_reference=False has no reference time to compare with")
        # Per epoch: a different number of epochs is early stopping's business. CPU time of
        # every call of the run (wall time on a GPU), so work moved to a background thread or
        # into the prediction call still counts.
        clock = "wall" if run.on_cuda else "cpu"
        if timings is not None:
            timings[f"student_epoch_{clock}_s"] = round(run.seconds_per_epoch, 4)
            timings[f"reference_epoch_{clock}_s"] = round(ref.seconds_per_epoch, 4)
        from grader.scorecard.artefacts import budget

        self._attach([budget("epoch_time", f"{clock.upper()} time per epoch against the budget", run.seconds_per_epoch,
                             ref.seconds_per_epoch, ratio=self.spec.training.budget_ratio,
                             cap_s=self.spec.training.cap_seconds, clock=clock)])  # fmt: skip
        ok, text = budget_verdict(
            run.seconds_per_epoch,
            ref.seconds_per_epoch,
            ratio=self.spec.training.budget_ratio,
            cap_s=self.spec.training.cap_seconds,
        )
        assert ok, f"per epoch ({'wall' if run.on_cuda else 'CPU'} time of every call): {text}"


class TrainingCheck:
    """A training check: the submission's own pieces train a model; the grader judges it.

    An assignment states its choices and gets a fixture:

        check = TrainingCheck(
            model=Piece("Target", lambda sub: sub.model.target.Target(), part="architecture",
                        standin=lambda sub: sub.ship(standins).SmallNet()),
            train_epoch=Piece("train_epoch", lambda sub: sub.train_common.train_epoch,
                              part="train_epoch", standin=lambda sub: sub.ship(standins).train_epoch),
            criterion=lambda sub, model: sub.train_cnn.make_criterion(),
            optimizer=lambda sub, model: sub.train_cnn.make_optimizer(model),
            data=lambda data_dir, heldout_dir: standardized(data_dir, heldout_dir),
            metrics={"val_auroc": binary_auroc},
        )
        training = check.fixture()

    The fixture trains the submission, then the reference with the same stand-ins, on the
    device the grader has (CUDA when there is one) with `training.cpu` / `training.cuda` of
    assignment.yaml, in fresh children seeded alike. Tests that use it run after every other
    test, so `part_scores` knows which pieces already lost points. `early_stopping` and
    `patience` are optional (without them every run lasts `max_epochs`). `criterion` and
    `optimizer` are callables `(sub, model)`, or `Piece`s whose getters take `(sub, model)`
    when a part's tests judge them and a stand-in should take over once that part lost points.
    With `against_reference=False` the reference is not trained (its run is `None`): for
    checks whose tests compare the submission's runs with each other, not with a budget.
    """

    def __init__(
        self,
        *,
        model: Piece,
        train_epoch: Piece,
        criterion: Piece | Callable[[Any, Any], Any],
        optimizer: Piece | Callable[[Any, Any], Any],
        data: Callable[[Path | None, Path | None], TrainingData],
        metrics: Mapping[str, Callable[[np.ndarray, np.ndarray], float]],
        early_stopping: Piece | None = None,
        patience: Getter | None = None,
        stop_stats: Callable[[float, float, Mapping[str, float]], list[float]] = default_stop_stats,
        shuffle: bool = True,
        against_reference: bool = True,
    ) -> None:
        if not metrics:
            raise ValueError("a training check needs at least one metric")
        self.model = model
        self.train_epoch = train_epoch
        self.criterion = criterion
        self.optimizer = optimizer
        self.data = data
        self.metrics = dict(metrics)
        self.early_stopping = early_stopping
        self.patience = patience
        self.stop_stats = stop_stats
        self.shuffle = shuffle
        self.against_reference = against_reference

    # --- one side ---------------------------------------------------------------------
    def _piece(
        self, piece: Piece, sub: Any, lost: Callable[[str], bool], substituted: list[str], *args: Any
    ) -> Any:
        if piece.standin is not None and piece.part is not None and lost(piece.part):
            substituted.append(piece.name)
            return _calling(piece.name, piece.standin, sub, *args)
        return _calling(piece.name, piece.get, sub, *args)

    def _made(
        self, what: Piece | Callable[[Any, Any], Any], name: str, sub: Any, model: Any,
        lost: Callable[[str], bool], substituted: list[str],
    ) -> Any:  # fmt: skip
        """The criterion or the optimizer: a `Piece` (with a stand-in) or a plain callable."""
        if isinstance(what, Piece):
            return self._piece(what, sub, lost, substituted, model)
        return _calling(name, what, sub, model)

    def _side(self, sub: Any, lost: Callable[[str], bool]) -> _Side:
        substituted: list[str] = []
        model = sub.harness.to_device(self._piece(self.model, sub, lost, substituted))
        # On the model's device: a criterion's class weights are tensors too.
        criterion = sub.harness.to_device(self._made(self.criterion, "the criterion", sub, model, lost, substituted))
        optimizer = self._made(self.optimizer, "the optimizer", sub, model, lost, substituted)
        train_epoch = self._piece(self.train_epoch, sub, lost, substituted)
        stopping = None if self.early_stopping is None else self._piece(self.early_stopping, sub, lost, substituted)
        patience = None
        if self.patience is not None:
            patience = _calling("the patience", self.patience, sub)
            if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
                raise AssertionError(f"the patience must be a positive int, got {patience!r}")
        return _Side(model, criterion, optimizer, train_epoch, stopping, patience, substituted)

    def train(self, sub: Any, data: TrainingData, config: Any, lost: Callable[[str], bool]) -> TrainingRun:
        """Train on side `sub` (`student` or `reference`) with the pieces `lost` does not replace."""
        side = self._side(sub, lost)
        h = sub.harness
        loader = h.loader_from_tensors(data.x_train, data.y_train, int(config.batch_size), self.shuffle, 0)
        recorder = h.recording(side.criterion)

        def epoch(loader: Any, model: Any, criterion: Any, optimizer: Any) -> None:
            try:
                side.train_epoch(loader, model, criterion, optimizer)
            except StudentFailure as exc:
                raise blamed(exc, self.train_epoch.name) from None

        def stopping(stats: Any, count: Any, best: Any) -> Any:
            try:
                return side.early_stopping(stats, count, best)
            except StudentFailure as exc:
                raise blamed(exc, self.early_stopping.name if self.early_stopping else "early stopping") from None

        run = run_epochs(
            sub,
            model=side.model,
            train_epoch=epoch,
            early_stopping=stopping if side.early_stopping is not None else None,
            criterion=recorder,
            optimizer=side.optimizer,
            patience=side.patience,
            train_loader=loader,
            x_val=data.x_heldout,
            y_val=data.y_heldout,
            stop_data=(data.x_stop, data.y_stop),
            max_epochs=int(config.max_epochs),
            metric=self.metrics,
            epoch_seconds_limit=float(config.epoch_seconds),
            stop_stats=self.stop_stats,
            step_losses=lambda: h.take_losses(recorder),
        )
        run.substituted = side.substituted
        return run

    # --- the fixture ------------------------------------------------------------------
    def fixture(self, *, name: str = "training") -> Any:
        """A module-scoped fixture `name` that trains both sides once: a `TrainingResult`."""
        check = self

        def training(
            student: Any, reference: Any, spec: Any, part_scores: Any, request: pytest.FixtureRequest
        ) -> TrainingResult:
            config = spec.training.device_config("cuda" if torch.cuda.is_available() else "cpu")
            result = TrainingResult(check, spec, config)
            result.pytest_config = request.config
            has_data = spec.data.generator is not None or spec.data.path is not None
            dirs = (request.getfixturevalue("data_dir"), request.getfixturevalue("heldout_dir")) if has_data else (None, None)
            key = _module_key(request) + tuple(map(str, dirs))
            if key not in TRAINING_DATA:
                TRAINING_DATA[key] = check.data(*dirs)
            data = TRAINING_DATA[key]
            # Fresh children with the same starting state for both, whatever earlier tests
            # left behind (objects, threads) or drew from the generators. The reference's is
            # made fresh only when it trains (below): its run may be known already.
            student.sandbox.stop()
            student.sandbox.seed(spec.data.seed)
            try:
                result._student = check.train(student, data, config, part_scores.lost)
            except Exception as exc:  # reported by every test that reads the run
                result._error = exc
            # Nothing the submission left running (a background thread) may slow the reference.
            student.sandbox.stop()
            if check.against_reference:
                substituted = set(result._student.substituted if result._student else [])
                key = _reference_key(request, spec, config, substituted, dirs)
                if key not in REFERENCE_RUNS:

                    def train_reference() -> TrainingRun:
                        reference.sandbox.stop()
                        reference.sandbox.seed(spec.data.seed)
                        return check.train(reference, data, config, lambda part: _lost_by(check, part, substituted))

                    REFERENCE_RUNS[key] = shared_or_trained(key, train_reference)
                result.reference = REFERENCE_RUNS[key]
            return result

        setattr(training, TRAINING_CHECK_ATTR, True)
        training.__name__ = name
        return pytest.fixture(scope="module", name=name)(training)


# The reference's runs, once per process: a process that grades many submissions of one
# assignment (verify's workers, batch) trains the reference once for each set of stand-ins
# (verify's workers share them: grader/checks/shared_runs.py). A run depends only on the
# reference, the check, its settings, the data and the seed.
REFERENCE_RUNS: dict[tuple[Any, ...], TrainingRun] = {}


# The checks' data, once per process: read and prepared in this process from the data set's
# files, which no grading changes, and only ever sent to the children by value.
TRAINING_DATA: dict[tuple[Any, ...], TrainingData] = {}


def _module_key(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """The test module, the fixture and a digest of the module's source (an edit changes it)."""
    module = request.module
    source = Path(module.__file__).read_bytes() if getattr(module, "__file__", None) else b""
    return module.__name__, request.fixturename, hashlib.sha256(source).hexdigest()


def _reference_key(
    request: pytest.FixtureRequest, spec: Any, config: Any, substituted: set[str], dirs: tuple[Any, Any]
) -> tuple[Any, ...]:
    return (
        str(spec.reference_dir), *_module_key(request),
        tuple(sorted(substituted)), repr(config), spec.data.seed, tuple(map(str, dirs)),
        torch.cuda.is_available(), _tree_digest(Path(spec.reference_dir)),
    )  # fmt: skip


def _tree_digest(folder: Path) -> str:
    """A digest of the .py files under `folder` (names and contents): an edited reference retrains."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _lost_by(check: TrainingCheck, part: str, substituted: set[str]) -> bool:
    """For the reference: a part counts as lost when the submission's piece of it was replaced."""
    pieces = [check.model, check.train_epoch, check.early_stopping, check.criterion, check.optimizer]
    return any(isinstance(p, Piece) and p.part == part and p.name in substituted for p in pieces)


def _calling(piece: str, get: Callable[..., Any], *args: Any) -> Any:
    """`get(*args)`, with a failure's message naming `piece`."""
    try:
        return get(*args)
    except StudentFailure as exc:
        raise blamed(exc, piece) from None
