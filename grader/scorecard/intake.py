"""The scorecard line that says what intake left out of the submission, or why it refused it."""

from __future__ import annotations

from typing import Any

from grader.scorecard.sanitize import clean_text

LISTED = 10  # skipped entries named on the line; the rest are counted


def intake_summary(metadata: dict[str, Any]) -> str:
    """`intake: skipped 2 entries: model.py (a symbolic link, not followed), dev (a device)`.

    Empty when intake took everything (or the result has no intake record).
    """
    intake = metadata.get("intake") if isinstance(metadata, dict) else None
    if not isinstance(intake, dict):
        return ""
    if intake.get("refused"):
        return f"intake: the submission was refused: {clean_text(str(intake['refused']), 300)}"
    listed = [s for s in intake.get("skipped") or [] if isinstance(s, dict)]
    total = intake.get("skipped_total")
    total = total if isinstance(total, int) and total >= len(listed) else len(listed)
    if not total:
        return ""
    names = [
        f"{clean_text(str(s.get('path', '?')), 100)} ({clean_text(str(s.get('reason', '?')), 100)})"
        for s in listed[:LISTED]
    ]
    more = total - len(names)
    if more:
        names.append(f"and {more} more")
    return f"intake: skipped {total} {'entry' if total == 1 else 'entries'}: {', '.join(names)}"
