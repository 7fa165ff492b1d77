"""Text helpers shared by the renderers: the sanitiser for untrusted strings, and number formats.

Every string in a `GradeResult` may come from student code (messages, tracebacks, captured
output, even test ids). `clean_text` makes such a string safe to show anywhere: no terminal
escape sequences, no control characters except newline and tab, no lone surrogates, and no
invisible characters (`INVISIBLE`: bidirectional controls, zero-width and other characters
that show nothing but change how the text around them is shown).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

CUT_NOTE = "… (cut)"
# What a failure detail becomes once a rendering has shown all the details it may (`TextBudget`).
SPENT_NOTE = "… (cut: this scorecard reached its size limit)"
# The most items of a list shown inline (timings, sandbox layers); the rest are counted.
LIST_LIMIT = 20

# Characters that show nothing themselves but change how the text around them reads, removed
# from every string a scorecard shows (docs/results-schema.md, "Untrusted text"):
# - bidirectional controls, which reorder what is displayed ("Trojan Source", CVE-2021-42574):
#   U+061C ARABIC LETTER MARK, U+200E/U+200F LRM/RLM, U+202A-U+202E embeddings and
#   overrides, U+2066-U+2069 isolates, and the deprecated U+206A-U+206F format controls;
# - zero-width and invisible characters, which make different strings look the same or hide
#   text: U+00AD SOFT HYPHEN, U+034F COMBINING GRAPHEME JOINER, U+115F/U+1160/U+3164/U+FFA0
#   HANGUL FILLERs, U+17B4/U+17B5 (invisible Khmer vowels), U+180E MONGOLIAN VOWEL SEPARATOR,
#   U+200B-U+200D ZERO WIDTH SPACE / NON-JOINER / JOINER, U+2060-U+2064 WORD JOINER and the
#   invisible operators (and unassigned U+2065), U+FEFF ZERO WIDTH NO-BREAK SPACE (BOM),
#   U+FFF9-U+FFFB interlinear annotation controls, and U+E0000-U+E007F TAG characters;
# - variation selectors (U+180B-U+180D, U+180F, U+FE00-U+FE0F, U+E0100-U+E01EF), which can
#   carry a hidden payload after any character. Emoji lose their variant (and, with U+200D,
#   their joined) form; they stay readable.
INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")


def strip_invisible(s: str) -> str:
    """`s` without the bidirectional controls and invisible characters of `INVISIBLE`."""
    return INVISIBLE.sub("", s)

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
# (unprintable, unencodable); and the invisible characters above.
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\ud800-\\udfff{INVISIBLE_CLASS}]")


def clean_text(s: str, limit: int | None = None, *, tail: bool = False) -> str:
    """`s` without escape sequences, control or invisible characters, at most `limit` chars.

    \\n and \\t are kept; a \\r\\n or a lone \\r becomes \\n. With a `limit`, a longer text is
    cut to its first (or, with `tail=True`, its last) `limit` characters and marked with
    "… (cut)". Only a window of about `4 * limit` characters of a huge `s` is ever scanned,
    so the work is bounded by the limit, not by the size of `s`.
    """
    if not isinstance(s, str):
        s = str(s)
    cut = False
    if limit is not None:
        limit = max(limit, 0)
        window = 4 * limit + 1024
        if len(s) > window:
            s, cut = (s[len(s) - window :] if tail else s[:window]), True
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _ESCAPE_SEQUENCE.sub("", s)
    s = _CONTROL.sub("", s)
    if limit is not None and (cut or len(s) > limit):
        if tail:
            return CUT_NOTE + "\n" + s[max(len(s) - limit, 0) :]
        return s[:limit] + "\n" + CUT_NOTE
    return s


@dataclass(frozen=True)
class Caps:
    """How much of a result one rendering of a scorecard may show (one of `levels`)."""

    scale: float  # factor on each per-field character limit
    text: int  # characters of failure details (messages, examples, tracebacks, output) in all
    tests: int  # tests given an entry of their own; the rest are counted in one line
    parts: int  # parts listed
    errors: int  # grader errors listed

    def limit(self, n: int) -> int:
        """The per-field limit `n` (characters) at this level."""
        return max(int(n * self.scale), 40)


def levels(max_bytes: int) -> tuple[Caps, ...]:
    """Ever smaller renderings for a document of at most `max_bytes`; the first that fits is used.

    The last one (no failure details, no test entries, at most 100 parts and 3 grader errors,
    every field cut to a few dozen characters) is tens of kilobytes at most, whatever the
    result holds, so every format has a hard cap.
    """
    return (
        Caps(scale=1.0, text=max_bytes // 4, tests=10_000, parts=1_000, errors=100),
        Caps(scale=0.25, text=max_bytes // 16, tests=10_000, parts=1_000, errors=20),
        Caps(scale=0.1, text=0, tests=2_000, parts=200, errors=5),
        Caps(scale=0.05, text=0, tests=0, parts=100, errors=3),
    )


T = TypeVar("T")


def fit(render: Callable[[Caps], T], size: Callable[[T], int], max_bytes: int) -> T:
    """The first `render(caps)`, over `levels(max_bytes)`, whose `size` is at most `max_bytes`."""
    for caps in levels(max_bytes):
        out = render(caps)
        if size(out) <= max_bytes:
            break
    return out


def utf8_size(text: str) -> int:
    """The size of `text` in UTF-8, in bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


class TextBudget:
    """The characters of failure details that one rendering may still show (`Caps.text`)."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def take(self, s: str, limit: int, *, tail: bool = False) -> str:
        """`clean_text(s, limit, tail=tail)`, cut to what is left and charged (once spent: a note).

        Once nothing is left, every further detail is `SPENT_NOTE`.
        """
        if self.left <= 0:
            return SPENT_NOTE
        out = clean_text(s, min(limit, self.left), tail=tail)
        self.left -= len(out)
        return out


def more_line(n: int, what: str) -> str:
    """`… and 12 more tests (not listed: this scorecard reached its size limit)`."""
    return f"… and {n:,} more {what} (not listed: this scorecard reached its size limit)"


def sandbox_summary(metadata: dict) -> str:
    """`sandbox: 12 layers active; off: slot uid (why)` from a result's metadata ('' if none)."""
    sandbox = metadata.get("sandbox") if isinstance(metadata, dict) else None
    if not isinstance(sandbox, dict) or "active" not in sandbox:
        return ""
    active = list(sandbox.get("active") or [])
    names = [clean_text(str(x), 60) for x in active[:LIST_LIMIT]] + _more(len(active))
    off = sandbox.get("inactive") or {}
    text = f"sandbox: {len(active)} layers active ({', '.join(names)})"
    if isinstance(off, dict) and off:
        why = [f"{clean_text(str(k), 60)} ({clean_text(str(v), 300)})" for k, v in list(off.items())[:LIST_LIMIT]]
        text += "; off: " + "; ".join(why + _more(len(off)))
    return text


def _more(n: int) -> list[str]:
    return [f"… {n - LIST_LIMIT} more"] if n > LIST_LIMIT else []


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
    """`your train: 3.1 s, reference train: 2.0 s` (empty for no timings); a key ending in
    `_ratio` is a ratio of two times: `forward ratio: 1.4×`."""
    parts = []
    for key, value in list(timings.items())[:LIST_LIMIT]:
        try:
            shown = f"{float(value):.2f}×" if str(key).endswith("_ratio") else format_seconds(float(value))
        except (TypeError, ValueError):
            shown = clean_text(str(value), 40)
        parts.append(f"{timing_label(str(key))}: {shown}")
    return ", ".join(parts + _more(len(timings)))
