"""The view-model every scorecard renders: the decisions shared by all formats, made once.

- **Audience** (`Policy.audience`): "instructor" (the default of `grader grade`) or "student"
  (the default of `grader check`). Students never see a hidden test's message, smallest
  failing input, traceback, printed output or artefacts (only its name, part, points and
  outcome, and its `public` artefacts), and see one word ("sandboxed") where instructors see the sandbox's layers.
  Instructors see everything. (Artefacts marked `public`, such as the training curves, are
  shown to students on hidden tests too.) Gradescope's file is read by students on Gradescope, so it is
  always rendered for students; what Gradescope does with hidden tests is
  `Policy.gradescope_hidden_visibility`. results.json is the lossless results model for an
  instructor; for students it is the same schema with hidden tests' details removed
  (`redact`).
- **What a failure shows** (`failure_details`): what went wrong, the smallest failing input,
  the student's traceback (shown once when several tests share it), the last lines printed,
  timings and artefacts, each cut to a per-format limit and charged to the rendering's
  `TextBudget`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.results import GradeResult, TestResult
from grader.scorecard.artefacts import bound_artefacts
from grader.scorecard.card import TracebackOnce, same_traceback_note, sandbox_note
from grader.scorecard.sanitize import (
    TextBudget,
    clean_text,
    format_seconds,
    format_timings,
    sandbox_summary,
)

Audience = Literal["student", "instructor"]
AUDIENCES: tuple[str, ...] = ("instructor", "student")
# Gradescope's visibility values ("hidden": never shown; "after_due_date"; "after_published":
# once grades are published; "visible").
GRADESCOPE_VISIBILITIES: tuple[str, ...] = ("hidden", "after_due_date", "after_published", "visible")
HIDDEN_NOTE = "Details of hidden tests are not shown."


@dataclass(frozen=True)
class Policy:
    """Who a scorecard is for, and what follows from it (see the module docstring)."""

    audience: Audience = "instructor"
    gradescope_hidden_visibility: str = "after_published"
    # Whether hidden tests' details are shown; None: as the audience decides (instructors only).
    hidden_details: bool | None = None

    def __post_init__(self) -> None:
        if self.hidden_details is None:
            object.__setattr__(self, "hidden_details", self.audience == "instructor")
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}; valid: {', '.join(AUDIENCES)}")
        if self.gradescope_hidden_visibility not in GRADESCOPE_VISIBILITIES:
            raise ValueError(
                f"unknown Gradescope visibility {self.gradescope_hidden_visibility!r}; "
                f"valid: {', '.join(GRADESCOPE_VISIBILITIES)}"
            )

    @property
    def student(self) -> bool:
        """True for the student's card."""
        return self.audience == "student"

    def shows_details(self, test: TestResult) -> bool:
        """Whether this audience sees `test`'s failure details (message, input, traceback, ...)."""
        return bool(self.hidden_details) or test.visibility != "hidden"

    def sandbox_text(self, metadata: dict[str, Any]) -> str:
        """`sandboxed` for students; the sandbox's layers for instructors ('' if not known)."""
        return sandbox_note(metadata) if self.student else sandbox_summary(metadata)

    def for_students(self) -> Policy:
        """This policy with the student audience (Gradescope's file)."""
        return Policy("student", self.gradescope_hidden_visibility)


def policy_for(
    policy: Policy | None = None, *, student: bool = False, show_hidden_details: bool | None = None
) -> Policy:
    """`policy`, or (the renderers' older keyword arguments) the student's policy if `student`,
    else the instructor's, with hidden tests' details shown or not as `show_hidden_details` says."""
    if policy is not None:
        return policy
    return Policy("student" if student else "instructor", hidden_details=show_hidden_details)


def redact(result: GradeResult, policy: Policy) -> GradeResult:
    """`result` as `policy`'s audience may see it: a copy without what it may not (students: the
    details and artefacts of hidden tests; `metadata["audience"]` says so). Instructors: itself."""
    if not policy.student and policy.hidden_details:
        return result
    out = copy.deepcopy(result)
    for test in out.tests:
        if not policy.shows_details(test):
            test.message = test.falsifying_example = test.traceback = test.output = None
            test.artefacts = visible_artefacts(test, policy)
    out.metadata = {**out.metadata, "audience": policy.audience}
    return out


def visible_artefacts(test: TestResult, policy: Policy) -> list[dict[str, Any]]:
    """`test`'s artefacts that `policy`'s audience may see (bounded): all of them where it sees
    the test's details, else only those marked `public` (grader.scorecard.artefacts)."""
    artefacts = bound_artefacts(test.artefacts)
    return artefacts if policy.shows_details(test) else [a for a in artefacts if a.get("public")]


@dataclass(frozen=True)
class Limits:
    """A format's per-field character limits for failure details."""

    message: int = 2_000
    example: int = 4_000
    traceback: int = 8_000
    output: int = 2_000


@dataclass
class FailureDetails:
    """What one failed (or errored) test's entry shows, already cleaned and cut."""

    shown: bool  # False: a hidden test for students; only `HIDDEN_NOTE` is shown
    message: str = ""
    example: str = ""
    traceback: str = ""
    traceback_note: str = ""  # set instead of `traceback` when an earlier entry showed it
    output: str = ""
    timings: str = ""
    artefacts: list[dict[str, Any]] = field(default_factory=list)


def failure_details(
    test: TestResult,
    policy: Policy,
    limits: Limits,
    budget: TextBudget,
    *,
    scale: Callable[[int], int] = lambda n: n,
    once: TracebackOnce | None = None,
    output: bool = True,
) -> FailureDetails:
    """The details of `test`'s failure for `policy`'s audience, cut to `limits` (through `scale`,
    a `Caps.limit`) and charged to `budget`, in a fixed order: message, smallest failing input,
    traceback, printed output. With `once`, a traceback already shown is named, not repeated."""
    timings = format_timings(test.timings) if test.timings else ""
    if not policy.shows_details(test):
        return FailureDetails(shown=False, timings=timings, artefacts=visible_artefacts(test, policy))
    out = FailureDetails(shown=True, timings=timings, artefacts=visible_artefacts(test, policy))
    if test.message:
        out.message = budget.take(test.message, scale(limits.message))
    if test.falsifying_example:
        out.example = budget.take(test.falsifying_example, scale(limits.example))
    if test.traceback:
        first = once.seen_in(test) if once is not None else None
        if first is not None:
            out.traceback_note = same_traceback_note(first)
        else:
            out.traceback = budget.take(test.traceback, scale(limits.traceback))
    if output and test.output:
        out.output = budget.take(test.output, scale(limits.output), tail=True)
    return out


def budget_numbers(artefact: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(the submission's time, the reference's, the allowed time) of a `budget` artefact."""
    timings = artefact.get("timings") or {}
    student, reference = timings.get("student_s"), timings.get("reference_s")
    ratio, cap = artefact.get("ratio"), artefact.get("cap_s")
    allowed = ratio * reference if ratio is not None and reference is not None else None
    if cap is not None:
        allowed = cap if allowed is None else min(allowed, cap)
    return student, reference, allowed


def artefact_line(artefact: dict[str, Any]) -> str:
    """A bounded one-line text for an artefact (text formats show this; HTML draws it)."""
    title = clean_text(str(artefact.get("title") or artefact.get("name") or "artefact"), 200)
    if artefact.get("kind") == "budget":
        student, reference, allowed = budget_numbers(artefact)
        shown = [f"{who} {format_seconds(x)}" for who, x in
                 (("yours", student), ("reference", reference), ("allowed", allowed)) if x is not None]  # fmt: skip
        return f"{title}: {', '.join(shown)}" if shown else title
    alt = clean_text(str(artefact.get("alt") or ""), 600).replace("\n", " ")
    return f"{title}: {alt}" if alt and alt != title else title
