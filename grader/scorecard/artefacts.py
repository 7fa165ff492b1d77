"""Artefacts: plain data a test attaches to its result for the scorecards to show.

An artefact is computed in the TRUSTED process (never taken from what student code says about
itself) and is a JSON-ready dict of one of these kinds (docs/results-schema.md, "artefacts"),
with `"public": true` when students may see it even on a hidden test (the training curves and
budget: they show the student's own run and reveal nothing a test checks):

- `series`: curves over a shared x axis, e.g. the validation loss per epoch of the submission
  beside the reference's: `{"kind": "series", "name", "title", "x_label", "y_label", "alt",
  "series": [{"label", "values": [float | None, ...]}, ...]}` (x is 1, 2, 3, ...);
- `image`: a small PNG, e.g. a Grad-CAM map: `{"kind": "image", "name", "title", "alt",
  "mime": "image/png", "data_base64"}`;
- `budget`: a time against its budget: `{"kind": "budget", "name", "title", "alt", "clock",
  "ratio", "cap_s", "timings": {"student_s", "reference_s"}}` (under `timings`, so that
  `GradeResult.to_json(timings=False)` drops the clock-dependent numbers).

`bound_artefacts` keeps only well-formed artefacts within the limits below; the renderers
read nothing else. A test attaches artefacts with the `record_artefact` fixture (import it
into a test module or conftest) or, from a helper that has the pytest config, with
`recorder(config).add(...)`; grader.checks.training attaches its curves that way.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

import pytest

from grader.scorecard.sanitize import clean_text

KINDS = ("series", "image", "budget")
MAX_ARTEFACTS = 8  # per test
MAX_SERIES = 8  # curves in one series artefact
MAX_POINTS = 2_000  # values in one curve
IMAGE_BYTES = 256 * 1024  # one image, decoded
TOTAL_IMAGE_BYTES = 2 * 1024 * 1024  # images of a whole result (results.json keeps the rest out)
LABEL_LIMIT = 200  # names, titles, axis and curve labels
ALT_LIMIT = 1_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def series(
    name: str, title: str, curves: dict[str, list[float]], *, x_label: str = "epoch", y_label: str = "", alt: str = "",
    public: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """A `series` artefact: one curve per label, over x = 1, 2, 3, ...

    `public=True`: students see it even on a hidden test (it reveals nothing the test checks).
    """
    return {
        "kind": "series",
        "public": public,
        "name": name,
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "alt": alt or title,
        "series": [{"label": k, "values": [float(v) for v in vs]} for k, vs in curves.items()],
    }


def image(name: str, title: str, png: bytes, *, alt: str, public: bool = False) -> dict[str, Any]:
    """An `image` artefact from PNG bytes (alt text is required: what the image shows)."""
    return {
        "kind": "image",
        "public": public,
        "name": name,
        "title": title,
        "alt": alt,
        "mime": "image/png",
        "data_base64": base64.b64encode(png).decode("ascii"),
    }


def budget(name: str, title: str, student_s: float, reference_s: float, *, ratio: float, cap_s: float | None,
           clock: str, public: bool = True) -> dict[str, Any]:  # fmt: skip
    """A `budget` artefact: the submission's time (per epoch) against ratio × the reference's and a cap."""
    return {
        "kind": "budget",
        "public": public,
        "name": name,
        "title": title,
        "alt": title,
        "clock": clock,
        "ratio": float(ratio),
        "cap_s": None if cap_s is None else float(cap_s),
        "timings": {"student_s": float(student_s), "reference_s": float(reference_s)},
    }


def training_curves(student: Any, reference: Any, metric: str, label: str) -> list[dict[str, Any]]:
    """The loss and `metric` curves of two training runs (grader.checks.training.TrainingRun;
    `reference` may be None), as `series` artefacts."""
    runs = [("your submission", student)] + ([("reference", reference)] if reference is not None else [])
    loss = {who: list(run.val_losses) for who, run in runs}
    values = {who: list(run.val_metrics.get(metric, [])) for who, run in runs}
    return [
        series("val_loss", "Validation loss per epoch", loss, y_label="loss",
               alt="Line chart of the validation loss per epoch: " + _describe(loss), public=True),
        series(metric if metric.startswith("val_") else f"val_{metric}", f"Validation {label} per epoch",
               values, y_label=label, alt=f"Line chart of the validation {label} per epoch: " + _describe(values),
               public=True),
    ]  # fmt: skip


def _describe(curves: dict[str, list[float]]) -> str:
    out = []
    for who, vs in curves.items():
        finite = [v for v in vs if math.isfinite(v)]
        last = f"{vs[-1]:.3g}" if vs else "none"
        best = f", lowest {min(finite):.3g}, highest {max(finite):.3g}" if finite else ""
        out.append(f"{who}: {len(vs)} epochs, last {last}{best}")
    return "; ".join(out)


# --- bounds ---------------------------------------------------------------------------------
def bound_artefacts(items: Any, image_room: list[int] | None = None) -> list[dict[str, Any]]:
    """The well-formed artefacts of `items`, each within the limits above (at most `MAX_ARTEFACTS`).

    `image_room` (a one-element list, shared across a result's tests) is the decoded image bytes
    still allowed; an image past it keeps its title and alt text but loses its data.
    Strings lose control and invisible characters (`clean_text`); non-finite values become None.
    """
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        bounded = _bound_one(item, image_room)
        if bounded is not None:
            out.append(bounded)
        if len(out) >= MAX_ARTEFACTS:
            break
    return out


def _label(d: dict[str, Any], key: str, limit: int = LABEL_LIMIT) -> str:
    value = d.get(key, "")
    return clean_text(value, limit).replace("\n", " ") if isinstance(value, str) else ""


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _bound_one(item: Any, image_room: list[int] | None) -> dict[str, Any] | None:
    if not isinstance(item, dict) or item.get("kind") not in KINDS:
        return None
    kind = item["kind"]
    out: dict[str, Any] = {"kind": kind, "public": item.get("public") is True, "name": _label(item, "name"),
                           "title": _label(item, "title"), "alt": _label(item, "alt", ALT_LIMIT)}  # fmt: skip
    if kind == "series":
        curves = item.get("series")
        if not isinstance(curves, list):
            return None
        out["x_label"] = _label(item, "x_label")
        out["y_label"] = _label(item, "y_label")
        out["series"] = [
            {"label": _label(c, "label"), "values": [_number(v) for v in c.get("values", [])[:MAX_POINTS]]}
            for c in curves[:MAX_SERIES]
            if isinstance(c, dict) and isinstance(c.get("values"), list)
        ]
        return out
    if kind == "image":
        data = item.get("data_base64")
        if item.get("mime") != "image/png" or not isinstance(data, str) or len(data) > 2 * IMAGE_BYTES:
            return None
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
        if not raw.startswith(PNG_MAGIC) or len(raw) > IMAGE_BYTES:
            return None
        out["mime"] = "image/png"
        if image_room is not None:
            if len(raw) > image_room[0]:
                out["data_base64"] = ""
                out["note"] = "image left out: this result reached its size limit for images"
                return out
            image_room[0] -= len(raw)
        out["data_base64"] = base64.b64encode(raw).decode("ascii")
        return out
    timings = item.get("timings") if isinstance(item.get("timings"), dict) else {}
    out["clock"] = _label(item, "clock")
    out["ratio"] = _number(item.get("ratio"))
    out["cap_s"] = _number(item.get("cap_s"))
    out["timings"] = {k: _number(timings.get(k)) for k in ("student_s", "reference_s") if k in timings}
    return out


# --- attaching them to a test's result ------------------------------------------------------
class ArtefactRecorder:
    """Artefacts added while a test runs, until the grading plugin files them on its result.

    Registered as a pytest plugin (by name) so every piece of the session finds the same one;
    `grader.runner.plugin.GradingPlugin` takes them at the test's teardown (`take_pending`).
    """

    NAME = "grader-artefacts"

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []

    def add(self, artefact: dict[str, Any]) -> None:
        """Attach `artefact` (a dict of one of `KINDS`) to the test running now."""
        self.pending.append(artefact)


def take_pending(config: pytest.Config) -> list[dict[str, Any]]:
    """The artefacts added since the last call, bounded (`bound_artefacts`); the list is emptied."""
    plugin = config.pluginmanager.get_plugin(ArtefactRecorder.NAME)
    if not isinstance(plugin, ArtefactRecorder) or not plugin.pending:
        return []
    pending, plugin.pending = plugin.pending, []
    return bound_artefacts(pending)


def recorder(config: pytest.Config) -> ArtefactRecorder:
    """The session's `ArtefactRecorder`, registered on first use."""
    plugin = config.pluginmanager.get_plugin(ArtefactRecorder.NAME)
    if not isinstance(plugin, ArtefactRecorder):
        plugin = ArtefactRecorder()
        config.pluginmanager.register(plugin, ArtefactRecorder.NAME)
    return plugin


@pytest.fixture
def record_artefact(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """A function that attaches an artefact (see `series`, `image`, `budget`) to this test's result."""
    return recorder(request.config).add
