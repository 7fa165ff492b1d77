"""The `grader` command: a thin layer over the library's functions.

Exit codes: 0 when the command ran (whatever the score), 1 when `build --check` found template
drift, `verify` found a failed check or `lint` found problems, 2 for a usage or configuration
error (one line each, no traceback: `build` and `verify` on an assignment that does not lint, a
broken solution marker in a reference file, a malformed mutant or one naming an unknown part),
3 when the grader itself failed.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grader

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_GRADER_FAILED = 0, 1, 2, 3
EXIT_CODES_HELP = (
    "Exit codes: 0 ran (whatever the score); 1 a check failed: `build --check` found template "
    "drift, `verify` found a failed check, `lint` found problems; 2 usage/configuration error "
    "(one line each: a bad option or assignment.yaml, a broken solution marker, a bad mutant, "
    "an assignment that does not lint); 3 grader failure."
)


class UsageError(Exception):
    """A command-line or configuration mistake: reported in one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description=(
            "Grade deep-learning (PyTorch, CNN) assignments: build student templates from "
            "reference solutions, check and grade submissions in a sandbox, verify that the "
            "grading is valid."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"grader {grader.__version__}")
    parser.add_argument(
        "--root", type=Path, help="project root (the folder holding assignments/); default: found from the current folder"
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks of grader failures")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the assignments, their parts and points")
    p.add_argument("--names", action="store_true", help="print only the names, one a line (for scripts)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "new",
        help="scaffold a new assignment that build, verify and make test accept at once",
        description="Write assignments/NAME/ (assignment.yaml with comments, a data generator, one "
        "public and one hidden test), reference/NAME/ (a reference file with solution markers) and "
        "tests/mutants/NAME/ (a mutant per part). Nothing is overwritten. docs/new-assignment.md "
        "walks through the files.",
    )
    p.add_argument("name", help="the assignment's name: lower-case letters, digits and _")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser(
        "build",
        help="generate student_template/ from reference/",
        description="Strip solution markers from reference/<a>/ into student_template/<a>/.",
    )
    p.add_argument("assignment", nargs="?", help="assignment name (or use --all)")
    p.add_argument("--all", action="store_true", help="build every assignment")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if student_template/ differs from what build would write")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser(
        "lint",
        help="check an assignment statically: assignment.yaml, files, @points, public fixtures",
        description="Check, in about a second and without running anything: assignment.yaml is "
        "valid, its files are in the reference, every test has @points(n, part=...) "
        "with a part of assignment.yaml, every part can earn its points, and no public test asks "
        "for a hidden-only fixture (reference). One line per problem, as file:line: message; "
        "exit 1 when there are problems. build and verify run it first.",
    )
    p.add_argument("assignment", nargs="?", help="assignment name (or use --all)")
    p.add_argument("--all", action="store_true", help="lint every assignment")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser(
        "check",
        help="check a submission against the public tests (what students run)",
        description="Grade a submission with the public tests only and print a scorecard.",
    )
    _submission_options(p)
    _grading_options(p)
    p.add_argument(
        "--watch",
        action="store_true",
        help="check again each time a file of the submission changes, in a warm process (Ctrl-C stops)",
    )
    p.set_defaults(func=cmd_check, public_only=True)

    p = sub.add_parser(
        "grade",
        help="grade a submission with all tests and write scorecards",
        description="Grade a submission with public and hidden tests; render the result in the chosen formats.",
    )
    _submission_options(p)
    p.add_argument("--public-only", action="store_true", help="run the public tests only")
    _grading_options(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser(
        "verify",
        help="prove the grading valid: reference full, template zero, mutants lose the right part",
    )
    p.add_argument("assignment", nargs="?")
    p.add_argument("--all", action="store_true", help="verify every assignment")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded in parallel (default: CPU count)")
    p.add_argument(
        "--extended",
        action="store_true",
        help="also grade the extended mutants (tests/mutants/NAME/extended/; slower, CI runs the core set)",
    )
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "data",
        help="write an assignment's synthetic data set in the real on-disk layout",
        description="Write the public synthetic data set (seed: data.seed, or --seed). The held-out "
        "set that decides training thresholds comes from the grading seed at grading time and is "
        "never written or shown here (docs/writing-tests.md, 'Held-out data').",
    )
    p.add_argument("assignment")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.add_argument("--seed", type=int, help="generator seed (default: the assignment's)")
    p.add_argument("--size", choices=["small", "full"], default="small", help="small (CPU checks) or full")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser(
        "doctor",
        help="show which sandbox layers are active on this machine",
        description="Start a sandboxed child and report each layer (active, or why not) and what the child can reach.",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser(
        "publish",
        help="write the artefacts to upload: Gradescope autograder, GitHub Classroom repository, student zip",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write one or more artefacts for ASSIGNMENT (docs/publishing.md):\n"
        "  --gradescope OUT.zip     Gradescope autograder: setup.sh, run_autograder, the grader, the\n"
        "                           tests (hidden ones too), data generator and reference (read only by\n"
        "                           the trusted grading process), pinned requirements; it grades\n"
        "                           /autograder/submission (files, a zip or a .ipynb) and writes\n"
        "                           /autograder/results/results.json.\n"
        "  --github-classroom DIR   a starter repository: the template, handout, public tests, the\n"
        "                           vendored grader, check.py and .github/workflows/classroom.yml (public\n"
        "                           grading on push, scorecard in the job summary, JUnit artifact,\n"
        "                           points for GitHub Classroom).\n"
        "  --student OUT.zip        what students download: template (and notebook), handout, public\n"
        "                           tests, the grader and check.py; nothing hidden.\n"
        "  --all OUT_DIR            every artefact of every assignment, with OUT_DIR/index.md.",
    )
    p.add_argument("assignment", nargs="?", help="assignment name (or use --all OUT_DIR)")
    p.add_argument("--gradescope", type=Path, metavar="OUT.zip", help="write the Gradescope autograder zip")
    p.add_argument("--github-classroom", type=Path, metavar="DIR", help="write the GitHub Classroom starter repository (a new folder)")
    p.add_argument("--student", type=Path, metavar="OUT.zip", help="write the student zip")
    p.add_argument("--all", type=Path, metavar="OUT_DIR", dest="all_out", help="every artefact of every assignment, with an index.md")
    p.set_defaults(func=cmd_publish)
    _batch_parsers(sub)
    for command in sub.choices.values():  # every command's --help ends with the exit codes too
        command.epilog = EXIT_CODES_HELP
    return parser


def _submission_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("assignment")
    p.add_argument("path", nargs="?", type=Path, help="submission folder, .zip or .ipynb (default: the current folder)")
    p.add_argument("--submission", type=Path, help="submission folder, .zip or .ipynb (same as PATH)")


def _grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="terminal", help="comma-separated: terminal,json,gradescope,junit,markdown,html (default: terminal)")
    p.add_argument(
        "--audience",
        choices=("instructor", "student"),
        help="who the scorecards are for: students never see hidden tests' details "
        "(default: student for check, instructor for grade; docs/scorecards.md)",
    )
    p.add_argument(
        "--gradescope-hidden",
        choices=("hidden", "after_due_date", "after_published", "visible"),
        default="after_published",
        help="Gradescope visibility of hidden tests (default: after_published)",
    )
    p.add_argument("--out", type=Path, help="folder for the file formats")
    p.add_argument("--data", type=Path, help="use this data set folder instead of the generated one")
    p.add_argument("--seed", type=int, default=0, help="base seed of the run (default 0)")
    p.add_argument("-k", dest="keyword", help="only run tests matching this pytest -k expression")
    p.add_argument(
        "--part",
        dest="parts",
        action="append",
        metavar="NAME",
        help="only run the tests of this part (repeat, or comma-separate, for several)",
    )


def _project(args: argparse.Namespace) -> Any:
    from grader.spec import Project

    return Project(args.root.resolve()) if args.root else Project.discover()


def _console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=140)  # CI logs: wide enough for the tables
    return console


def cmd_list(args: argparse.Namespace) -> int:
    """Print the assignments with their parts."""
    from rich.table import Table

    project = _project(args)
    if args.names:
        for name in project.assignment_names():
            print(name)
        return EXIT_OK
    table = Table(title=f"Assignments in {project.root}")
    for col in ("assignment", "version", "parts", "points"):
        table.add_column(col)
    for spec in project.load_all():
        parts = ", ".join(f"{p.name} ({p.points:g})" for p in spec.parts)
        table.add_row(spec.name, spec.version, parts, f"{spec.max_score:g}")
    _console().print(table)
    return EXIT_OK


def _names(args: argparse.Namespace, project: Any) -> list[str]:
    if args.all:
        return project.assignment_names()
    if not args.assignment:
        raise UsageError("name an assignment or pass --all")
    return [args.assignment]


def cmd_new(args: argparse.Namespace) -> int:
    """Scaffold a new assignment."""
    from grader.scaffold import ScaffoldError, create, next_steps

    root = args.root if args.root is not None else _project_root_for_new()
    try:
        written = create(root, args.name)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    console = _console()
    console.print(f"new assignment {args.name}: wrote {len(written)} files under {root}")
    for path in written:
        console.print(f"  {path.relative_to(root)}")
    console.print(next_steps(args.name))
    return EXIT_OK


def _project_root_for_new() -> Path:
    """The project to add to: the one found from the current folder, else the current folder."""
    from grader.spec import Project, SpecError

    try:
        return Project.discover().root
    except SpecError:
        return Path.cwd()


def cmd_lint(args: argparse.Namespace) -> int:
    """Lint one or all assignments: a line per problem, exit 1 when any was found."""
    from grader.lint import lint_project

    project = _project(args)
    ok = True
    for name in _names(args, project):
        report = lint_project(project=project, name=name)
        for problem in report.problems:
            print(problem)
        print(report.summary())
        ok &= report.ok
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _refuse_unless_linted(project: Any, names: list[str]) -> None:
    """Lint `names` before `build` or `verify`; problems are a configuration error (exit 2)."""
    from grader.lint import lint_project

    problems = [str(p) for name in names for p in lint_project(project=project, name=name).problems]
    if problems:
        raise UsageError("\n".join(problems))


def cmd_build(args: argparse.Namespace) -> int:
    """Generate (or check) the student templates."""
    from grader.template import build_assignment, find_reference_in_public_tests

    project = _project(args)
    console = _console()
    drift = False
    names = _names(args, project)
    _refuse_unless_linted(project, names)
    for name in names:
        spec = project.load(name)
        refused = find_reference_in_public_tests(spec.public_tests)
        if refused:
            raise UsageError(f"{name}: public tests may not use the reference: {refused[0]}")
        report = build_assignment(spec.reference_dir, spec.template_dir, check=args.check, spec=spec)
        if args.check:
            if report.ok:
                console.print(f"{name}: student_template is up to date")
            else:
                drift = True
                console.print(f"{name}: student_template differs from a fresh build:")
                for rel in report.changed:
                    console.print(f"  {rel} (differs or is missing)")
                for rel in report.removed:
                    console.print(f"  {rel} (not in the reference: would be removed)")
        else:
            console.print(f"{name}: wrote {len(report.written)} files into {spec.template_dir}")
    if drift:
        console.print("run `grader build --all` and commit the result")
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _submission(args: argparse.Namespace) -> Path:
    given, flag = getattr(args, "path", None), args.submission
    if given is not None and flag is not None and given.resolve() != flag.resolve():
        raise UsageError(f"two submissions given ({given} and --submission {flag}): pass one")
    path = flag or given or Path.cwd()
    if not path.exists():  # a folder, a .zip or a .ipynb: intake checks which
        raise UsageError(f"submission {path} does not exist")
    return path.resolve()


def check_out_folder(out: Path, option: str = "--out") -> None:
    """Refuse (UsageError) an output folder that cannot be written, before any work starts.

    `out` may exist as a writable folder, or be missing with an existing, writable parent
    folder (it is created when the results are written); anything else is a usage error.
    """
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"{option} {out} is a file, not a folder")
        if not os.access(out, os.W_OK | os.X_OK):
            raise UsageError(f"{option} {out} is not writable")
        return
    parent = out.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"{option} {out}: its parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {out}: its parent folder {parent} is not writable")


def _parts(args: argparse.Namespace, spec: Any) -> tuple[str, ...] | None:
    """The parts named by --part (comma-separated or repeated), checked against `spec`."""
    if not args.parts:
        return None
    names = tuple(dict.fromkeys(n.strip() for value in args.parts for n in value.split(",") if n.strip()))
    if not names:
        raise UsageError("--part needs a part name")
    for name in names:
        if name not in spec.part_names:
            close = difflib.get_close_matches(name, spec.part_names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"{spec.name} has no part {name!r}{hint}; parts: {', '.join(spec.part_names)}")
    return names


def _grade(args: argparse.Namespace, public_only: bool, student: bool = False) -> int:
    from grader.runner.session import run_session
    from grader.scorecard import Policy, parse_formats, render

    try:
        formats = parse_formats(args.format)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    audience = getattr(args, "audience", None) or ("student" if student else "instructor")
    policy = Policy(audience, getattr(args, "gradescope_hidden", "after_published"))
    if any(f != "terminal" for f in formats) and args.out is None:
        raise UsageError("--out DIR is needed for the file formats")
    if args.out is not None:
        check_out_folder(args.out)
    spec = _project(args).load(args.assignment)
    parts = _parts(args, spec)
    submission = _submission(args)
    console = _console()
    label = f"{'checking' if public_only else 'grading'} {submission.name} ({spec.name})"

    def grade(selected: tuple[str, ...] | None = None, progress: Any = None) -> Any:
        return run_session(
            spec,
            submission,
            public_only=public_only,
            data_dir=args.data,
            seed=args.seed,
            keyword=args.keyword,
            parts=selected or parts,
            require_files=True,
            progress=progress if progress is not None else progress_for(label),
        )

    def show(result: Any) -> int:
        if args.out is not None:
            args.out.mkdir(exist_ok=True)
        written = render(result, formats, args.out, console=console, policy=policy)
        for path in written:
            console.print(f"wrote {path}")
        return EXIT_GRADER_FAILED if result.errors else EXIT_OK

    if not getattr(args, "watch", False):
        return show(grade())
    from grader.runner.dependencies import fingerprint
    from grader.watch import Rechecker

    if not submission.is_dir():
        raise UsageError("--watch needs a submission folder (not a .zip or a notebook)")
    watched = [spec.spec_file.parent, spec.public_tests, spec.hidden_tests, spec.reference_dir]
    rechecker = Rechecker(
        submission,
        grade,
        selection=(args.keyword, parts, args.seed, str(args.data), public_only),
        fingerprint=lambda: fingerprint([*watched, *([args.data] if args.data else [])]),
    )

    def grade_once() -> int:
        done = rechecker.check(progress_for(label))
        code = show(done.result)
        if done.reused:
            console.print(f"reused: {', '.join(done.reused)} (their files did not change)")
            if done.rerun:
                console.print(f"checked again: {', '.join(done.rerun)}")
        elif done.reason and done.reason != "first check":
            console.print(f"checked every part again: {done.reason}")
        return code

    return _watch(grade_once, submission, console)


def _watch(grade_once: Callable[[], int], submission: Path, console: Any) -> int:
    """Check now and after every change to the submission, in this (warm) process.

    `grade_once` checks and prints a card; with grader.watch.Rechecker behind it, a check after
    an edit reruns only the parts whose files changed.
    """
    from grader.runner.plugin import ConfigError
    from grader.watch import watch

    if not submission.is_dir():
        raise UsageError("--watch needs a submission folder (not a .zip or a notebook)")

    def check(files: list[str]) -> None:
        if files:
            shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            console.rule(f"changed: {shown}")
        t0 = time.monotonic()
        try:
            grade_once()
        except ConfigError as exc:  # e.g. every file removed: say so and keep watching
            console.print(f"grader: {exc}")
        console.print(f"checked in {time.monotonic() - t0:.1f} s; watching {submission} for changes (Ctrl-C to stop)")

    watch(check, submission)
    return EXIT_OK


def progress_for(label: str) -> Any:
    """Progress on stderr: a live bar on a terminal, plain lines in a log (grader.progress)."""
    from grader.progress import for_stream

    return for_stream(label)


def cmd_check(args: argparse.Namespace) -> int:
    """Grade with the public tests only: the student's card."""
    return _grade(args, public_only=True, student=True)


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade with all tests."""
    return _grade(args, public_only=args.public_only)


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify one or all assignments."""
    from grader.verify import verify_overlapped

    project = _project(args)
    console = _console()
    all_ok = True
    names = _names(args, project)
    _refuse_unless_linted(project, names)
    specs = [project.load(name) for name in names]
    with console.status(f"verifying {', '.join(names)}…") as status:
        # One assignment after another, each starting as the one before hands out its last
        # submission (grader/verify.py); each table is printed as soon as its assignment is done.
        done = verify_overlapped(
            specs, jobs=args.jobs, extended=args.extended,
            progress=lambda spec: _verify_progress(f"verify {spec.name}", status),
        )  # fmt: skip
        for spec, report in done:
            _print_verify_table(console, spec.name, report)
            all_ok &= report.ok
    console.print("verify: all checks passed" if all_ok else "verify: FAILED")
    return EXIT_OK if all_ok else EXIT_CHECK_FAILED


def _print_verify_table(console: Any, name: str, report: Any) -> None:
    """One assignment's verify rows as a table."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"grader verify {name}")
    table.add_column("submission", no_wrap=True)
    table.add_column("expected")
    table.add_column("score", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for row in report.rows:
        mark = "[green]ok[/green]" if row.ok else "[red]FAILED[/red]"
        table.add_row(
            escape(row.submission),
            escape(row.expectation),
            f"{row.score:g}/{row.max_score:g}",
            mark,
            escape(row.detail),
        )
    console.print(table)


def _verify_progress(label: str, status: Any) -> dict[str, Any]:
    """verify's on_start/on_row: the status line on a terminal, a line per grading in a log."""
    from grader.progress import Submissions

    tracker: list[Submissions] = []

    def on_row(row: Any) -> None:
        verdict = f"{row.submission} {row.score:g}/{row.max_score:g} {'ok' if row.ok else 'FAILED'}"
        status.update(tracker[0].update(verdict) if tracker else verdict)

    return {"on_start": lambda n: tracker.append(Submissions(label, n)), "on_row": on_row}


def cmd_data(args: argparse.Namespace) -> int:
    """Write an assignment's synthetic data set."""
    from grader.runner.data import generator_of

    check_out_folder(args.out)
    spec = _project(args).load(args.assignment)
    if not spec.data.generator:
        raise UsageError(f"{spec.name} has no synthetic data generator (assignment.yaml: data.generator)")
    seed = spec.data.seed if args.seed is None else args.seed
    out = generator_of(spec)(args.out, seed, size=args.size)
    _console().print(f"wrote the {spec.name} data set (seed {seed}, {args.size}) to {out}")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report the sandbox's layers on this machine."""
    import json

    from grader.sandbox.host.doctor import diagnose, render

    report = diagnose()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report, _console())
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Write the Gradescope bundle, the GitHub Classroom repository and/or the student zip."""
    from grader.publish import publish_all, publish_classroom, publish_gradescope, publish_student

    targets = [args.gradescope, args.github_classroom, args.student]
    project = _project(args)
    console = _console()
    if args.all_out is not None:
        if args.assignment or any(t is not None for t in targets):
            raise UsageError("--all OUT_DIR writes every artefact of every assignment: pass no ASSIGNMENT or target")
        check_out_folder(args.all_out, "--all")
        if args.all_out.is_dir() and any(args.all_out.iterdir()):
            raise UsageError(f"--all {args.all_out} is not empty: pick a new folder")
        index, done = publish_all(project.load_all(), args.all_out)
        for item in done:
            console.print(f"{item.name}: {item.gradescope}, {item.student}, {item.classroom}")
        console.print(f"wrote {index}")
        return EXIT_OK
    if not args.assignment:
        raise UsageError("name an assignment (or use --all OUT_DIR)")
    if all(t is None for t in targets):
        raise UsageError("name at least one target: --gradescope OUT.zip, --github-classroom DIR, --student OUT.zip")
    for option, path in (("--gradescope", args.gradescope), ("--student", args.student)):
        if path is not None:
            check_out_folder(path.absolute().parent, option)
            if path.suffix.lower() != ".zip":
                raise UsageError(f"{option} {path}: the file name must end in .zip")
    if args.github_classroom is not None:
        check_out_folder(args.github_classroom, "--github-classroom")
        if args.github_classroom.is_dir() and any(args.github_classroom.iterdir()):
            raise UsageError(f"--github-classroom {args.github_classroom} is not empty: pick a new folder")
    spec = project.load(args.assignment)
    if args.gradescope is not None:
        console.print(f"wrote {publish_gradescope(spec, args.gradescope)} (Gradescope autograder)")
    if args.github_classroom is not None:
        console.print(f"wrote {publish_classroom(spec, args.github_classroom)} (GitHub Classroom repository)")
    if args.student is not None:
        console.print(f"wrote {publish_student(spec, args.student)} (student zip)")
    return EXIT_OK


def _batch_parsers(sub: Any) -> None:
    """`grader batch` and `grader gradebook export|report` (docs/batch.md)."""
    p = sub.add_parser(
        "batch",
        help="grade a whole class's submissions in parallel into a resumable gradebook",
        description="Grade every submission of SUBMISSIONS (a folder of folders/.zip/.ipynb, a Gradescope "
        "export zip, a Canvas bulk download, GitHub Classroom clones) into an SQLite gradebook; rerun to "
        "resume (done submissions are skipped).",
    )
    p.add_argument("assignment")
    p.add_argument("submissions", type=Path, help="folder or export .zip of the class's submissions")
    p.add_argument("--jobs", type=int, help="submissions graded in parallel (default: the cores)")
    p.add_argument("--gradebook", type=Path, help="SQLite gradebook (default: gradebook-ASSIGNMENT.sqlite)")
    p.add_argument("--regrade", action="store_true", help="grade again what the gradebook already holds")
    p.add_argument("--retry-failed", action="store_true", help="grade again the submissions whose grading failed")
    p.add_argument("--seed", type=int, default=0, help="base seed of the run (default 0)")
    p.add_argument("--gpus", type=int, help="GPUs to share among the jobs (0: CPU only; default: as the environment says)")
    p.add_argument("--timeout", type=float, help="wall-clock seconds per submission (default: limits.submission_seconds + 60)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (an address, or 'local'); needs the [ray] extra")
    p.add_argument("--report", action="store_true", help="print the class report at the end")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("gradebook", help="export a batch's gradebook, or show its class report")
    gsub = p.add_subparsers(dest="gradebook_command", metavar="ACTION", required=True)
    e = gsub.add_parser("export", help="CSV (one row per student), or per-submission Gradescope/JUnit files")
    e.add_argument("gradebook", type=Path)
    e.add_argument("--csv", type=Path, help="write the CSV here")
    e.add_argument("--gradescope", type=Path, metavar="DIR", help="write DIR/<id>/results.json (Gradescope) for each")
    e.add_argument("--junit", type=Path, metavar="DIR", help="write DIR/<id>/ JUnit XML for each")
    e.set_defaults(func=cmd_gradebook_export)
    r = gsub.add_parser("report", help="the class report: score distribution, part means, test failure rates")
    r.add_argument("gradebook", type=Path)
    r.add_argument("--markdown", type=Path, metavar="FILE", help="also write the report as Markdown")
    r.add_argument("--html", type=Path, metavar="DIR", help="also write DIR/index.html and a linked report per submission")
    r.set_defaults(func=cmd_gradebook_report)


def cmd_batch(args: argparse.Namespace) -> int:
    """Grade a class into a gradebook."""
    from grader.batch.exports import ExportError
    from grader.batch.report import class_report, render_terminal
    from grader.batch.run import BatchProgress, default_jobs, run_batch

    spec = _project(args).load(args.assignment)
    book = args.gradebook or Path(f"gradebook-{spec.name}.sqlite")
    console = _console()
    progress = BatchProgress()

    def said(layout: str, found: int, todo: int) -> None:
        print(f"batch: {found} submissions ({layout} layout), {found - todo} already in {book}, {todo} to grade",
              file=sys.stderr, flush=True)  # fmt: skip

    try:
        summary = run_batch(
            spec, args.submissions, book, jobs=args.jobs or default_jobs(), regrade=args.regrade,
            retry_failed=args.retry_failed, seed=args.seed, gpus=args.gpus, timeout=args.timeout, ray=args.ray,
            progress=progress, on_layout=said,
        )  # fmt: skip
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        progress.close()
    console.print(f"batch: {summary.graded} graded, {summary.failed} not graded or refused, "
                  f"{summary.skipped} already done; gradebook {book}")  # fmt: skip
    if args.report:
        from grader.batch.gradebook import Gradebook

        with Gradebook(book) as gb:
            render_terminal(class_report(gb), console)
    return EXIT_OK


def _open_gradebook(path: Path) -> Any:
    from grader.batch.gradebook import Gradebook

    if not path.is_file():
        raise UsageError(f"gradebook {path} does not exist")
    return Gradebook(path)


def cmd_gradebook_export(args: argparse.Namespace) -> int:
    """Export a gradebook as CSV, Gradescope or JUnit files."""
    from grader.batch.gradebook import export_csv, export_results

    if not (args.csv or args.gradescope or args.junit):
        raise UsageError("gradebook export: give --csv FILE, --gradescope DIR or --junit DIR")
    with _open_gradebook(args.gradebook) as book:
        if args.csv:
            print(f"wrote {export_csv(book, args.csv)} rows to {args.csv}")
        for fmt, out in (("gradescope", args.gradescope), ("junit", args.junit)):
            if out:
                print(f"wrote {export_results(book, out, fmt)} {fmt} results under {out}")
    return EXIT_OK


def cmd_gradebook_report(args: argparse.Namespace) -> int:
    """Show the class report of a gradebook (and write it as Markdown)."""
    from grader.batch.report import class_report, render_markdown, render_terminal

    with _open_gradebook(args.gradebook) as book:
        report = class_report(book)
    render_terminal(report, _console())
    if args.markdown:
        args.markdown.write_text(render_markdown(report), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.html:
        from grader.batch.report_html import write_class_html

        with _open_gradebook(args.gradebook) as book:
            print(f"wrote {write_class_html(book, args.html)}")
    return EXIT_OK


# Errors that are the user's to fix, by module: a command that never imported the module
# (`check` never imports the template builder) cannot have raised its error.
_USER_ERRORS = (
    ("grader.spec", "SpecError"),
    ("grader.runner.plugin", "ConfigError"),
    ("grader.mutants", "MutantError"),
    ("grader.template", "MarkerError"),
)


def _user_errors() -> tuple[type[BaseException], ...]:
    """UsageError, FileNotFoundError and the error classes of the modules imported so far."""
    found: list[type[BaseException]] = [UsageError, FileNotFoundError]
    for module, name in _USER_ERRORS:
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from grader.runner.threads import ONE_THREAD_ENV

    os.environ.update(ONE_THREAD_ENV)  # before numpy or torch load: see grader/runner/threads.py
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except _user_errors() as exc:
        # One line per problem (a configuration check may find several), never a traceback.
        for line in str(exc).strip().splitlines() or [type(exc).__name__]:
            print(f"grader: error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"grader: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        else:
            print("grader: run again with --debug for the full traceback", file=sys.stderr)
        return EXIT_GRADER_FAILED
