"""Text helpers shared by the renderers: the sanitiser for untrusted strings, and number formats.

Every string in a `GradeResult` may come from student code (messages, tracebacks, captured
output, even test ids). `clean_text` makes such a string safe to show anywhere: no terminal
escape sequences, no control characters except newline and tab, no lone surrogates.
"""

from __future__ import annotations

import re

CUT_NOTE = "… (cut)"

# ESC-introduced sequences, removed whole so that their parameters do not show up as noise:
# CSI (ESC [ ... final byte), OSC / DCS / SOS / PM / APC strings terminated by BEL or ST
# (ESC \), and the two-byte escapes (ESC followed by one byte in 0x40-0x5F or 0x60-0x7E).
# An unterminated string sequence is not swallowed: only its ESC goes, so no text is hidden.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, DCS, SOS, PM, APC with terminator
    r"|\x1b(?![\[\]PX^_])[ -/]*[0-~]"  # other escapes (charset selection, RIS, ...)
)
# Whatever is left that a terminal (or an XML parser) could act on: C0 controls other than
# \t and \n, DEL, C1 controls (0x80-0x9F: 8-bit CSI and friends), and lone surrogates
# (unprintable, unencodable).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(s: str, limit: int | None = None, *, tail: bool = False) -> str:
    """`s` without escape sequences or control characters (\\n and \\t kept), at most `limit` chars.

    A \\r\\n or a lone \\r becomes \\n. With a `limit`, a longer text is cut to its first
    (or, with `tail=True`, its last) `limit` characters and marked with "… (cut)".
    """
    if not isinstance(s, str):
        s = str(s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _ESCAPE_SEQUENCE.sub("", s)
    s = _CONTROL.sub("", s)
    if limit is not None and len(s) > limit:
        limit = max(limit, 0)
        if tail:
            return CUT_NOTE + "\n" + s[len(s) - limit :]
        return s[:limit] + "\n" + CUT_NOTE
    return s


def sandbox_summary(metadata: dict) -> str:
    """`sandbox: 12 layers active; off: slot uid (why)` from a result's metadata ('' if none)."""
    sandbox = metadata.get("sandbox") if isinstance(metadata, dict) else None
    if not isinstance(sandbox, dict) or "active" not in sandbox:
        return ""
    active = [clean_text(str(x), 60) for x in sandbox.get("active") or []]
    off = sandbox.get("inactive") or {}
    text = f"sandbox: {len(active)} layers active ({', '.join(active)})"
    if isinstance(off, dict) and off:
        text += "; off: " + "; ".join(f"{clean_text(str(k), 60)} ({clean_text(str(v), 300)})" for k, v in off.items())
    return text


def format_points(x: float) -> str:
    """A point count for people: `7.5`, `10`, `0.33` (at most two decimals, no trailing zeros)."""
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_score(points: float, max_points: float) -> str:
    """`7.5 / 10`."""
    return f"{format_points(points)} / {format_points(max_points)}"


def format_seconds(seconds: float) -> str:
    """`3.1 s`, `0.042 s`."""
    return f"{seconds:.1f} s" if abs(seconds) >= 0.1 else f"{seconds:.3f} s"


def timing_label(key: str) -> str:
    """A readable name for a timings key: `student_train_s` -> `your train`."""
    label = key.removesuffix("_s").removesuffix("_seconds")
    for prefix, replacement in (("student_", "your "), ("reference_", "reference ")):
        if label.startswith(prefix):
            label = replacement + label[len(prefix) :]
            break
    return clean_text(label.replace("_", " ").strip(), 80)


def format_timings(timings: dict[str, float]) -> str:
    """`your train: 3.1 s, reference train: 2.0 s` (empty for no timings)."""
    parts = []
    for key, value in timings.items():
        try:
            shown = format_seconds(float(value))
        except (TypeError, ValueError):
            shown = clean_text(str(value), 40)
        parts.append(f"{timing_label(str(key))}: {shown}")
    return ", ".join(parts)
