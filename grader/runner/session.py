"""One grading run: pytest over an assignment's tests against one submission → GradeResult.

`run_session` runs in the current (trusted) process. `grade_in_subprocess` runs it in a fresh
trusted Python process, for callers that grade many submissions or already run inside pytest.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grader
from grader.intake import (
    DEFAULT_LIMITS,
    IntakeError,
    IntakeLimits,
    NotASubmission,
    stage_submission,
)
from grader.results import POINTS_DIGITS, GradeResult, PartResult, score_parts
from grader.runner import packages
from grader.runner.data import resolve_data_dir
from grader.runner.plugin import ConfigError, GradingPlugin
from grader.runner.threads import ONE_THREAD_ENV
from grader.sandbox.host import zygote
from grader.sandbox.host.launcher import zygote_env
from grader.sandbox.layers import sandbox_metadata

INI_FILE = Path(__file__).resolve().parent.parent / "pytest_grading.ini"


def _hypothesis_profile(max_examples: int, *, shrink: bool = True) -> None:
    from hypothesis import HealthCheck, Phase, settings

    # Without `shrink`, a failing property test reports the first failing example it met
    # instead of the smallest: the verdict and the points are the same (derandomised
    # generation meets the same examples), only the example in the message differs.
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
    settings.register_profile(
        "grader",
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=max_examples,
        phases=phases,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("grader")


def run_session(
    spec: Any,
    submission_dir: Path,
    *,
    public_only: bool = False,
    data_dir: Path | None = None,
    seed: int = 0,
    threads: int = 1,
    label: str | None = None,
    keyword: str | None = None,
    parts: tuple[str, ...] | None = None,
    require_files: bool = False,
    intake_limits: IntakeLimits = DEFAULT_LIMITS,
    progress: Any = None,
    shrink: bool = True,
) -> GradeResult:
    """Grade `submission_dir` (a folder, a `.zip` or a `.ipynb`) against `spec`'s tests here.

    The submission is staged once (grader/intake.py); a submission that intake refuses is
    graded with every test failed and the reason. Raises ConfigError when the assignment's
    tests or settings are wrong, or the submission is missing or of the wrong kind.
    `parts` runs only the tests of those parts. With `require_files`, a staged folder that
    holds none of the assignment's `files:` is refused with ConfigError (see `missing_files`),
    before any child starts; `keyword` or `parts` that select no test raise ConfigError too.
    `progress` (a grader.progress.Listener) hears of the tests as they finish. Without
    `shrink`, property tests do not search for the smallest failing example (`grader verify`:
    the same verdicts and points, sooner; a student's scorecard keeps the smallest example).
    """
    import pytest

    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    submission_dir = Path(submission_dir).resolve()
    _hypothesis_profile(spec.hypothesis_max_examples, shrink=shrink)
    paths = [spec.public_tests] + ([] if public_only else [spec.hidden_tests])
    paths = [str(p) for p in paths if Path(p).is_dir()]
    if not paths:
        raise ConfigError(f"{spec.name}: no test folders found ({spec.public_tests}, {spec.hidden_tests})")
    # The assignment's folder as a fresh package (grader/runner/packages.py): its data
    # generator, helpers and test modules are imported from there, by that name.
    packages.register(spec)
    # The zygote imports the assignment's libraries while this process collects the tests.
    zygote.prestart(zygote_env(), spec.imports)
    staging = Path(tempfile.mkdtemp(prefix="grader-intake-"))
    try:
        staged, intake, refused = _stage(submission_dir, staging, intake_limits)
        if require_files and refused is None:
            problem = missing_files(spec, staged, shown=str(submission_dir))
            if problem:
                raise ConfigError(problem)
        data = resolve_data_dir(spec, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    plugin = GradingPlugin(
        spec=spec,
        submission_dir=staged,
        data_dir=data,
        base_seed=seed,
        threads=threads,
        submission_deadline=started + spec.limits.submission_seconds,
        refused=refused,
        parts=parts,
        progress=progress,
    )
    args = [
        *paths,
        "-c", str(INI_FILE),
        "--rootdir", str(spec.root),
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        "-p", "no:terminal",
        # pytest's own per-test machinery that a grading does not use: student code runs in
        # the child (its output and logs come back through the sandbox), and the end-of-run
        # `gc.collect()` of unraisableexception cost about half a second per grading.
        *("-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging"),
        *("-p", "no:faulthandler", "-p", "no:doctest", "-p", "no:junitxml", "-p", "no:pastebin"),
        "--capture=sys",
    ]  # fmt: skip
    if keyword:
        args += ["-k", keyword]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[plugin])
    finally:
        plugin.close()
        if progress is not None:
            progress.close()
        shutil.rmtree(staging, ignore_errors=True)
    if plugin.config_errors:
        raise ConfigError("\n".join(plugin.config_errors))
    errors = list(plugin.collection_errors)
    if int(code) not in (0, 1) and not errors and plugin.results:
        errors.append(f"pytest ended with exit code {int(code)}")
    if not plugin.results and not errors and keyword and int(code) == int(pytest.ExitCode.USAGE_ERROR):
        said = [ln.strip() for ln in sink.getvalue().splitlines() if ln.strip()]
        raise ConfigError(f"-k {keyword!r} is not a valid expression: {said[-1] if said else 'pytest refused it'}")
    if not plugin.results and not errors and (keyword or parts) and plugin.collected:
        raise ConfigError(_nothing_selected(plugin.collected, keyword, parts, public_only))
    if not plugin.results and not errors:
        errors.append(f"no grading test ran (pytest exit code {int(code)}): {sink.getvalue()[-1500:]}")
    part_results = [PartResult(name=p.name, max_points=float(p.points), description=p.description) for p in spec.parts]
    tests = sorted(plugin.results, key=lambda t: t.nodeid)
    if public_only or parts:  # a part is worth what its tests that ran are worth
        for part in part_results:
            ran = round(sum(t.max_points for t in tests if t.part == part.name), POINTS_DIGITS)
            part.max_points = min(part.max_points, ran)
    total = score_parts(part_results, tests)
    return GradeResult(
        assignment=spec.name,
        title=spec.title,
        assignment_version=str(spec.version),
        submission=label or submission_dir.name,
        score=total,
        max_score=float(sum(p.max_points for p in part_results)),
        parts=part_results,
        tests=tests,
        errors=errors,
        metadata={
            "grader_version": grader.__version__,
            "seed": seed,
            "public_only": public_only,
            # Each part's points in the whole assignment (a part's max_points is capped at what
            # the tests that ran are worth: with public_only, at its public tests' points).
            "full_points": {p.name: float(p.points) for p in spec.parts},
            **({"parts": list(parts)} if parts else {}),
            "hypothesis_max_examples": spec.hypothesis_max_examples,
            "restarts": plugin.restarts,
            "retried": plugin.retried,
            "machine": _machine(),
            "sandbox": sandbox_metadata(),
            "intake": intake,
        },
        duration=round(time.monotonic() - started, 3),
        started_at=started_at,
    )


def _expected_names(files: tuple[str, ...]) -> list[str]:
    """The top-level names of `files`: `model/__init__.py` -> `model/`, `toy.py` -> `toy.py`."""
    names = [f.split("/", 1)[0] + "/" if "/" in f else f for f in files]
    return list(dict.fromkeys(names))


def _holds_any(folder: Path, files: tuple[str, ...]) -> bool:
    return any((folder / f).is_file() and not (folder / f).is_symlink() for f in files)


def missing_files(spec: Any, folder: Path, *, shown: str, show: int = 5) -> str | None:
    """None when `folder` holds at least one of `spec.files`, else a one-line explanation.

    A folder with some files missing is fine (those tests fail); one with none is most
    likely the wrong folder, or the folder above the real one (an unzipped archive).
    """
    files = tuple(spec.files)
    if _holds_any(folder, files):
        return None
    expected = ", ".join(_expected_names(files))
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    found_names = [p.name + ("/" if p.is_dir() else "") for p in entries]
    found = ", ".join(found_names[:show]) + (f", … ({len(found_names)} in all)" if len(found_names) > show else "")
    message = f"submission {shown} has none of {spec.name}'s files (expected {expected}); found: {found or 'nothing'}"
    inside = [p.name for p in entries if p.is_dir() and not p.is_symlink() and _holds_any(p, files)]
    if inside:
        message += f"; did you mean the folder inside? ({inside[0]}/)"
    return message


def _nothing_selected(
    collected: list[str], keyword: str | None, parts: tuple[str, ...] | None, public_only: bool
) -> str:
    """One line: the -k expression or parts selected no test; what exists instead."""
    chosen = " and ".join(
        ([f"-k {keyword!r}"] if keyword else []) + ([f"--part {','.join(parts)}"] if parts else [])
    )
    names = list(dict.fromkeys(collected))
    sample = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    kind = "public test" if public_only else "test"
    return f"{chosen} matched no {kind}; {len(names)} {kind}s exist: {sample}"


def _stage(submission: Path, root: Path, limits: IntakeLimits) -> tuple[Path, dict[str, Any], str | None]:
    """Stage `submission` once under `root`: (staged folder, its metadata, why refused or None)."""
    staged = root / (submission.stem if submission.is_file() else submission.name or "submission")
    try:
        report = stage_submission(submission, staged, limits=limits)
    except NotASubmission as exc:
        raise ConfigError(str(exc)) from None
    except IntakeError as exc:
        staged.mkdir(mode=0o700)
        return staged, {"refused": str(exc), "files": 0, "bytes": 0, "skipped": [], "skipped_total": 0}, str(exc)
    return staged, report.to_metadata(), None


def _machine() -> dict[str, Any]:
    """The interpreter, the platform, and torch's version and GPU where this grading used torch."""
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    torch = sys.modules.get("torch")
    if torch is None:
        return info
    with contextlib.suppress(Exception):
        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def grade_in_subprocess(
    spec_file: Path,
    submission_dir: Path,
    *,
    public_only: bool = False,
    data_dir: Path | None = None,
    seed: int = 0,
    label: str | None = None,
    timeout: float | None = None,
) -> GradeResult:
    """Run `run_session` in a fresh trusted Python process and return its result.

    Raises ConfigError (configuration problems) or RuntimeError (the grader itself failed).
    """
    with tempfile.TemporaryDirectory(prefix="grader-session-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable, "-m", "grader.runner.session",
            "--spec", str(spec_file), "--submission", str(submission_dir),
            "--out", str(out), "--seed", str(seed),
        ]  # fmt: skip
        if public_only:
            cmd.append("--public-only")
        if data_dir is not None:
            cmd += ["--data", str(data_dir)]
        if label:
            cmd += ["--label", label]
        env = {**os.environ, **ONE_THREAD_ENV}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode == 2:
            raise ConfigError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "configuration error")
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"grading process failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return GradeResult.from_json(out.read_text())


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.runner.session`: grade once and write the result as JSON."""
    import argparse

    from grader.spec import SpecError, load_spec

    parser = argparse.ArgumentParser(prog="python -m grader.runner.session")
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--submission", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--label")
    parser.add_argument("--public-only", action="store_true")
    args = parser.parse_args(argv)
    try:
        spec = load_spec(args.spec)
        result = run_session(
            spec, args.submission, public_only=args.public_only, data_dir=args.data,
            seed=args.seed, label=args.label,
        )  # fmt: skip
    except (SpecError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
