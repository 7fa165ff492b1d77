"""Our own machine-readable scorecard: `GradeResult.to_json()`, documented in docs/results-schema.md.

This format is lossless (it round-trips through `GradeResult.from_json`), so strings are not
passed through `clean_text` here: JSON escapes every control character (and the output is
ASCII only), so the file is safe as is; renderers that display its strings clean them.
"""

from __future__ import annotations

from grader.results import GradeResult


def render_json(result: GradeResult, *, timings: bool = True) -> str:
    """The result as stable, sorted, indented JSON (schema_version 1).

    With `timings=False`, clock- and machine-dependent fields are left out, so two gradings
    of the same submission give byte-identical text.
    """
    return result.to_json(timings=timings)
