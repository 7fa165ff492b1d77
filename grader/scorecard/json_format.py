"""Our own machine-readable scorecard, `results.json`, documented in docs/results-schema.md.

It is `GradeResult.to_json()` made safe to keep and to pass on, whatever the result holds:

- every string (dict keys included) loses the invisible characters of
  `grader.scorecard.sanitize.INVISIBLE` (bidirectional controls, zero-width characters, ...);
- each string is cut to the limit of its field (the constants below), with a cut note;
- the whole document is at most `MAX_BYTES`: the long texts (grader errors, then each test's
  message, falsifying example, traceback and output, in order) get what room is left once
  everything else is in, and a text that no longer fits is replaced by a short cut note. Only if
  even that is too big are tests (then the metadata, then parts) left out, from the end.
  `metadata["results_cut"]` then counts what was cut.

- each test's `artefacts` keep only well-formed ones within `grader.scorecard.artefacts`'
  limits (images of the whole result share `TOTAL_IMAGE_BYTES`).

Within those limits it is lossless: `GradeResult.from_json(render_json(r)) == r` for a result
with no invisible characters and no text over its limit. Control characters and escape
sequences are kept: JSON escapes them (the output is ASCII only), and whoever displays these
strings must clean them (the scorecard renderers use `clean_text`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.results import TAIL_FIELDS, TEXT_LIMITS, GradeResult, cut_text
from grader.scorecard.artefacts import TOTAL_IMAGE_BYTES, bound_artefacts
from grader.scorecard.sanitize import strip_invisible

MAX_BYTES = 8 * 1024 * 1024  # the whole of results.json
ERROR_LIMIT = 20_000  # each grader error
MAX_ERRORS = 100  # grader errors kept; the rest are counted in one more entry
NODEID_LIMIT = 1_000  # test nodeids (a cut id ends with a hash of the whole, so stays unique)
PART_LIMIT = 200  # part names, and each test's `part` (cut the same way, so they still match)
NAME_LIMIT = 1_000  # test names
DESCRIPTION_LIMIT = 2_000  # test and part descriptions
STRING_LIMIT = 1_000  # any other string: title, submission, metadata values, ...
KEY_LIMIT = 200  # keys of `timings` and of metadata objects
ITEMS_LIMIT = 100  # entries of `timings`, and of each metadata object or array
METADATA_VALUES_LIMIT = 1_000  # values in the whole of `metadata`
DEPTH_LIMIT = 8  # nesting of `metadata`
SHORT_LIMIT = 48  # a long text that gets no room: its first characters and the cut note

_SLACK = 4_096  # bytes kept free for `results_cut` and rounding


def render_json(result: GradeResult, *, timings: bool = True) -> str:
    """The result as stable, sorted, indented JSON (schema_version 1), within the limits above.

    With `timings=False`, clock- and machine-dependent fields are left out, so two gradings
    of the same submission give byte-identical text.
    """
    return dumps(bound(result.to_dict(timings=timings)))


def dumps(data: dict[str, Any]) -> str:
    """JSON text as `GradeResult.to_json` writes it: sorted keys, indented by two, ASCII only."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def bound(data: dict[str, Any]) -> dict[str, Any]:
    """`GradeResult.to_dict()` output with every string and the whole within the limits above.

    `data` itself is changed (to_dict() returns a fresh copy).
    """
    return _Bounder().run(data)


@dataclass
class _Slot:
    """A long text: where it goes, what it was, and whether what is there now is cut."""

    holder: Any  # the dict or list it is stored in
    key: Any
    raw: str
    limit: int
    tail: bool
    minimal: str
    cut: bool
    test: int  # index of its test; -1 for a grader error


def _text(s: str, limit: int, tail: bool = False) -> tuple[str, bool]:
    """`s` without invisible characters, cut to `limit` (only a window of `s` is scanned)."""
    window = 2 * limit + 1_024
    if len(s) <= window:
        clean = strip_invisible(s)
        return cut_text(clean, limit, tail=tail), len(clean) > limit
    piece = s[len(s) - window :] if tail else s[:window]
    return cut_text(strip_invisible(piece), limit, tail=tail, total=len(s)), True


def _escaped(s: str) -> int:
    return len(json.dumps(s))


def _largest(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k in 0..n with fits(k) (fits is monotonic), or 0."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


class _Bounder:
    def __init__(self) -> None:
        self.cut = 0
        self.ids: dict[tuple[str, int], str] = {}
        self.slots: list[_Slot] = []
        self.values = 0
        self.image_room = [TOTAL_IMAGE_BYTES]  # decoded image bytes still allowed (artefacts)

    # --- strings --------------------------------------------------------------------------
    def text(self, s: Any, limit: int) -> Any:
        if not isinstance(s, str):
            return s
        out, cut = _text(s, limit)
        self.cut += cut
        return out

    def ident(self, s: Any, limit: int) -> Any:
        if not isinstance(s, str):
            return s
        hit = self.ids.get((s, limit))
        if hit is None:
            clean = strip_invisible(s[: 2 * limit + 1_024])
            if len(s) <= 2 * limit + 1_024 and len(clean) <= limit:
                hit = clean
            else:
                digest = hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()[:16]
                note = f"… (cut; sha256 {digest})"
                hit = clean[: max(limit - len(note), 0)] + note
                self.cut += 1
            self.ids[(s, limit)] = hit
        return hit

    def slot(self, holder: Any, key: Any, raw: Any, limit: int, tail: bool, test: int) -> None:
        if not isinstance(raw, str):
            return
        minimal, cut = _text(raw, SHORT_LIMIT, tail)
        holder[key] = minimal
        self.slots.append(_Slot(holder, key, raw, limit, tail, minimal, cut, test))

    # --- the parts of a result ------------------------------------------------------------
    def part(self, p: dict[str, Any]) -> dict[str, Any]:
        for key, value in p.items():
            if key == "name":
                p[key] = self.ident(value, PART_LIMIT)
            elif key == "tests" and isinstance(value, list):
                p[key] = [self.ident(n, NODEID_LIMIT) for n in value]
            else:
                p[key] = self.text(
                    value, DESCRIPTION_LIMIT if key == "description" else STRING_LIMIT
                )
        return p

    def test(self, t: dict[str, Any], index: int) -> dict[str, Any]:
        limits = {"name": NAME_LIMIT, "description": DESCRIPTION_LIMIT}
        for key, value in t.items():
            if key == "nodeid":
                t[key] = self.ident(value, NODEID_LIMIT)
            elif key == "part":
                t[key] = self.ident(value, PART_LIMIT)
            elif key in TEXT_LIMITS:
                self.slot(t, key, value, TEXT_LIMITS[key], key in TAIL_FIELDS, index)
            elif key == "artefacts":
                t[key] = bound_artefacts(value, self.image_room)
            elif key == "timings" and isinstance(value, dict):
                items = list(value.items())
                t[key] = {self.text(str(k), KEY_LIMIT): v for k, v in items[:ITEMS_LIMIT]}
                self.cut += len(items) > ITEMS_LIMIT
            else:
                t[key] = self.text(value, limits.get(key, STRING_LIMIT))
        return t

    def metadata(self, value: Any, depth: int = 0) -> Any:
        self.values += 1
        if self.values > METADATA_VALUES_LIMIT or depth > DEPTH_LIMIT:
            self.cut += 1
            return "… (cut: metadata too big)"
        if isinstance(value, str):
            return self.text(value, STRING_LIMIT)
        if isinstance(value, dict):
            items = list(value.items())
            out = {
                self.text(str(k), KEY_LIMIT): self.metadata(v, depth + 1)
                for k, v in items[:ITEMS_LIMIT]
            }
            if len(items) > ITEMS_LIMIT:
                self.cut += 1
                out["…"] = f"(cut: {len(items):,} entries in all)"
            return out
        if isinstance(value, list | tuple):
            out_list = [self.metadata(v, depth + 1) for v in value[:ITEMS_LIMIT]]
            if len(value) > ITEMS_LIMIT:
                self.cut += 1
                out_list.append(f"… (cut: {len(value):,} entries in all)")
            return out_list
        return value

    # --- the whole ------------------------------------------------------------------------
    def run(self, d: dict[str, Any]) -> dict[str, Any]:
        for key, value in d.items():
            if key not in ("parts", "tests", "errors", "metadata"):
                d[key] = self.text(value, STRING_LIMIT)
        errors = [str(e) for e in d.get("errors", [])]
        kept_errors: list[Any] = errors[:MAX_ERRORS]
        for i, error in enumerate(errors[:MAX_ERRORS]):  # first: they say the grade is void
            self.slot(kept_errors, i, error, ERROR_LIMIT, False, -1)
        if len(errors) > MAX_ERRORS:
            self.cut += 1
            kept_errors.append(f"… (cut: {len(errors) - MAX_ERRORS:,} more errors)")
        parts = [self.part(dict(p)) for p in d.get("parts", [])]
        tests = [self.test(dict(t), i) for i, t in enumerate(d.get("tests", []))]
        d["parts"], d["tests"], d["errors"] = parts, tests, kept_errors
        metadata = d.get("metadata", {})
        if isinstance(metadata, dict):
            d["metadata"] = metadata = self.metadata(metadata)
        else:
            metadata = d["metadata"] = {}
        # Room for the note on what was cut, with counts as long as they can get.
        big = 10**12
        reserve = {"limit_bytes": MAX_BYTES, "metadata_left_out": True, "parts_left_out": big,
                   "tests_left_out": big, "texts_cut": big}  # fmt: skip
        metadata["results_cut"] = reserve
        budget = MAX_BYTES - _SLACK

        part_tests = [list(p.get("tests", [])) for p in parts]

        def keep(n_tests: int, n_parts: int) -> int:
            d["tests"] = tests[:n_tests]
            d["parts"] = parts[:n_parts]
            kept = {t.get("nodeid") for t in d["tests"]}
            for p, ids in zip(parts, part_tests, strict=True):
                p["tests"] = [n for n in ids if n in kept]
            return len(dumps(d))

        size = keep(len(tests), len(parts))
        n_tests, n_parts, metadata_out = len(tests), len(parts), False
        if size > budget:
            n_tests = _largest(len(tests), lambda k: keep(k, len(parts)) <= budget)
            size = keep(n_tests, len(parts))
        if size > budget:  # no test fits: everything but the scores goes
            d["metadata"] = metadata = {"results_cut": reserve}
            metadata_out = True
            for p in parts:
                p["description"] = self.text(p.get("description", ""), SHORT_LIMIT)
            self.slots = [s for s in self.slots if s.test < 0]
            for s in self.slots:
                s.limit = SHORT_LIMIT
            n_parts = _largest(len(parts), lambda k: keep(0, k) <= budget)
            size = keep(0, n_parts)
        self.fill(budget - size, n_tests)
        cut_texts = self.cut + sum(s.cut for s in self.slots if s.test < n_tests)
        note: dict[str, Any] = {"limit_bytes": MAX_BYTES}
        for name, count in (("tests_left_out", len(tests) - n_tests),
                            ("parts_left_out", len(parts) - n_parts), ("texts_cut", cut_texts)):  # fmt: skip
            if count:
                note[name] = count
        if metadata_out:
            note["metadata_left_out"] = True
        if len(note) > 1:
            metadata["results_cut"] = note
        else:
            del metadata["results_cut"]
        return d

    def fill(self, room: int, n_tests: int) -> None:
        """Give the long texts, in order, their full (field-limited) text while room is left."""
        for s in self.slots:
            if s.test >= n_tests or not s.cut:
                continue
            base = _escaped(s.minimal)
            full, cut = _text(s.raw, s.limit, s.tail)
            if _escaped(full) - base <= room:
                s.holder[s.key], s.cut = full, cut
                room -= _escaped(full) - base
                continue
            limit = min(s.limit, room)
            while limit > SHORT_LIMIT:  # the first text that does not fit gets what is left
                piece, _ = _text(s.raw, limit, s.tail)
                grow = _escaped(piece) - base
                if grow <= room:
                    s.holder[s.key] = piece
                    break
                limit = min(limit - 1, int(limit * room / grow * 0.95))
            return
