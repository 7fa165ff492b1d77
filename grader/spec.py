"""The `assignment.yaml` schema: loading, validation with line-precise errors, project discovery.

A project root holds `assignments/<name>/assignment.yaml` (with `tests/public/`, `tests/hidden/`),
`reference/<name>/`, `student_template/<name>/` and `tests/mutants/<name>/`.

Validation walks the YAML node tree (`yaml.compose` with the safe loader), so every error names
the file, the key path (`parts[1].points`) and the 1-based line of the offending key or value.
"""

from __future__ import annotations

import difflib
import keyword
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from grader.notebook import safe_path
from grader.sandbox import DEFAULT_IMPORTS

SPEC_FILENAME = "assignment.yaml"

_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_PART_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _dotted(text: str) -> bool:
    return bool(text) and all(_IDENT.fullmatch(p) for p in text.split("."))


# ----------------------------------------------------------------------------------------------
# Data model
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A graded part of an assignment, worth `points`."""

    name: str
    points: float
    description: str = ""


@dataclass(frozen=True)
class Limits:
    """Time limits, in seconds (`call_seconds` of the child's CPU time, with a wall-clock
    backstop; the test and the submission on the wall clock), and sizes in MiB: the child's
    memory, its disk (what it may write in its working folder), and what one answer of the
    child may carry back."""

    call_seconds: float = 10.0
    test_seconds: float = 60.0
    submission_seconds: float = 900.0
    memory_mb: float = 4096.0
    disk_mb: float = 512.0
    return_mb: float = 64.0  # what one answer of the child may carry (a test's: 8× that)


@dataclass(frozen=True)
class DeviceConfig:
    """A training check's settings on one kind of device (`training.cpu`, `training.cuda`).

    The defaults live here, and only here. Keys other than these three are the assignment's
    own (a learning rate, a model width) and are kept in `options`.
    """

    max_epochs: int = 40
    batch_size: int = 32
    epoch_seconds: float = 20.0  # the limit of each call during an epoch (the child's CPU time)
    options: dict[str, Any] = field(default_factory=dict, hash=False)


DEVICE_KEYS = ("max_epochs", "batch_size", "epoch_seconds")


@dataclass(frozen=True)
class TrainingSettings:
    """Settings of the training checks: time budget, metric thresholds, per-device configs."""

    budget_ratio: float = 3.0
    cap_seconds: float = 120.0
    thresholds: dict[str, float] = field(default_factory=dict, hash=False)
    cpu: DeviceConfig = field(default_factory=DeviceConfig)
    cuda: DeviceConfig | None = None  # None: the CPU settings serve on a GPU too

    def device_config(self, device: str) -> DeviceConfig:
        """The config for `device`: `cuda` for "cuda…" when there is one, else `cpu`."""
        return self.cuda if device.startswith("cuda") and self.cuda is not None else self.cpu


@dataclass(frozen=True)
class DataSettings:
    """Where the assignment's data set comes from: a synthetic generator and/or a real path."""

    generator: str | None = None
    seed: int = 0
    path: Path | None = None
    # The file holding the grading seed of the held-out data set (instructor material, never
    # shipped); None: `grading_seed` in the assignment folder, if it exists.
    grading_seed_file: Path | None = None


@dataclass(frozen=True)
class AssignmentSpec:
    """A validated `assignment.yaml`, with every path resolved."""

    name: str
    title: str
    version: str
    root: Path
    spec_file: Path
    files: tuple[str, ...]
    parts: tuple[Part, ...]
    public_tests: Path
    hidden_tests: Path
    limits: Limits
    hypothesis_max_examples: int
    training: TrainingSettings
    data: DataSettings
    reference_dir: Path
    template_dir: Path
    mutants_dir: Path
    # The libraries the student's code uses: preloaded in the zygote, imported in the child
    # before student code. numpy is always there (the wire codec uses it).
    imports: tuple[str, ...] = DEFAULT_IMPORTS
    # The template notebook `grader build` writes (a path in the template folder), or None.
    notebook: str | None = None

    @property
    def max_score(self) -> float:
        """The sum of the parts' points."""
        return float(sum(p.points for p in self.parts))

    @property
    def part_names(self) -> tuple[str, ...]:
        """The part names, in file order."""
        return tuple(p.name for p in self.parts)

    def part(self, name: str) -> Part:
        """The part called `name` (KeyError if there is none)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no part {name!r}; parts: {', '.join(self.part_names)}")


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def _display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, else as given."""
    try:
        p = Path(path)
        if p.is_absolute():
            return os.fspath(p.relative_to(Path.cwd()))
    except (ValueError, OSError):
        pass
    return os.fspath(path)


class SpecError(Exception):
    """An invalid or missing `assignment.yaml` (or project); `str()` is one line.

    `file:line: key: message`, leaving out the pieces that are None. When no `message` is given
    it is built as "expected <expected>, got <got>".
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        file: Path | None = None,
        key: str | None = None,
        line: int | None = None,
        expected: str = "",
        got: str | None = None,
    ) -> None:
        self.file = Path(file) if file is not None else None
        self.key = key
        self.line = line
        self.expected = expected or (message or "")
        self.got = got
        if message is None:
            message = f"expected {expected}" + (f", got {got}" if got is not None else "")
        self.message = " ".join(message.split())
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = _display_path(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_spec_error,
            (self.message, self.file, self.key, self.line, self.expected, self.got),
        )


def _rebuild_spec_error(
    message: str,
    file: Path | None,
    key: str | None,
    line: int | None,
    expected: str,
    got: str | None,
) -> SpecError:
    return SpecError(message, file=file, key=key, line=line, expected=expected, got=got)


# ----------------------------------------------------------------------------------------------
# Node walking
# ----------------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any, node: Node | None = None) -> str:
    """A short description of a bad value for "got ..."."""
    if node is not None and node.tag not in yaml.SafeLoader.yaml_constructors:
        return f"a value with the unsupported tag {_short_tag(repr(node.tag))!r}"
    if isinstance(node, MappingNode) or isinstance(value, dict):
        return "a mapping"
    if isinstance(node, SequenceNode) or isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    text = node.value if isinstance(node, ScalarNode) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _short_tag(problem: str | None) -> str:
    """`!!python/object:x` out of PyYAML's "could not determine a constructor for the tag '...'"."""
    m = re.search(r"'([^']*)'", problem or "")
    tag = m.group(1) if m else (problem or "?")
    return tag.replace("tag:yaml.org,2002:", "!!")


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class _Validator:
    """Builds an AssignmentSpec from a composed node tree, raising SpecError with positions."""

    def __init__(self, loader: yaml.SafeLoader, file: Path) -> None:
        self.loader = loader
        self.file = file
        self._explicit: dict[int, set[int]] = {}

    def flatten(self, node: MappingNode, path: str, what: str) -> set[int]:
        """Resolve YAML merge keys (`<<: *anchor`) in place; the ids of the explicit key nodes."""
        if id(node) not in self._explicit:
            explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
            try:
                self.loader.flatten_mapping(node)
            except yaml.YAMLError as exc:
                problem = getattr(exc, "problem", None) or str(exc)
                raise self.error(
                    node, path, expected=what, message=f"invalid merge key: {problem}"
                ) from None
            self._explicit[id(node)] = explicit
        return self._explicit[id(node)]

    # -- errors -------------------------------------------------------------------------------

    def error(
        self,
        node: Node | None,
        key: str | None,
        *,
        expected: str,
        got: str | None = None,
        message: str | None = None,
    ) -> SpecError:
        line = node.start_mark.line + 1 if node is not None else None
        return SpecError(
            message, file=self.file, key=key or None, line=line, expected=expected, got=got
        )

    # -- scalar access --------------------------------------------------------------------------

    def value(self, node: Node, key: str, expected: str) -> Any:
        """The Python value of `node` (safe constructors only)."""
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = str(getattr(exc, "problem", None) or exc)
            if "could not determine a constructor" in problem:
                got = f"a value with the unsupported tag {_short_tag(problem)!r}"
            else:
                got = f"an unreadable value ({problem})"
            raise self.error(node, key, expected=expected, got=got) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise self.error(
                node, key, expected=expected, got=f"an unreadable value ({exc})"
            ) from None

    def mapping(
        self,
        node: Node,
        path: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        *,
        what: str = "a mapping",
    ) -> dict[str, tuple[Node, Node]]:
        """Check a mapping's keys: all strings, no duplicates, none unknown, none missing."""
        if not isinstance(node, MappingNode):
            raise self.error(
                node, path, expected=what, got=_show(self.value(node, path, what), node)
            )
        explicit = self.flatten(node, path, what)
        allowed = required + optional
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node, path, "a string key")
            if not isinstance(key, str):
                raise self.error(key_node, path, expected="a string key", got=_show(key, key_node))
            if key in out and not (id(key_node) in explicit and id(out[key][0]) in explicit):
                pass  # a merged-in key (<<: *anchor), overridden by a later one
            elif key in out:
                first = out[key][0].start_mark.line + 1
                raise self.error(
                    key_node,
                    _join(path, key),
                    expected="each key once",
                    got=f"a second {key!r}",
                    message=f"duplicate key {key!r} (first given on line {first})",
                )
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error(
                    key_node,
                    _join(path, key),
                    expected=f"one of: {', '.join(allowed)}",
                    got=repr(key),
                    message=f"unknown key {key!r}{hint}; expected one of: {', '.join(allowed)}",
                )
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                where = f" in {path}" if path else ""
                raise self.error(
                    node,
                    _join(path, key),
                    expected=f"a {key!r} key",
                    message=f"missing required key {key!r}{where}",
                )
        return out

    def scalar(
        self,
        node: Node,
        key: str,
        expected: str,
        ok: Callable[[Any], bool],
    ) -> Any:
        if isinstance(node, MappingNode | SequenceNode):
            raise self.error(node, key, expected=expected, got=_show(None, node))
        value = self.value(node, key, expected)
        if not ok(value):
            raise self.error(node, key, expected=expected, got=_show(value, node))
        return value

    def positive_number(self, node: Node, key: str) -> float:
        return float(self.scalar(node, key, "a positive number", lambda v: _is_number(v) and v > 0))

    def number(self, node: Node, key: str) -> float:
        return float(self.scalar(node, key, "a number", _is_number))

    def positive_int(self, node: Node, key: str) -> int:
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0  # noqa: E731
        return int(self.scalar(node, key, "a positive integer", ok))

    def non_negative_int(self, node: Node, key: str) -> int:
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
        return int(self.scalar(node, key, "a non-negative integer", ok))

    def text(self, node: Node, key: str, *, blank_ok: bool = False) -> str:
        expected = "a string" if blank_ok else "a non-empty string"
        ok = lambda v: isinstance(v, str) and (blank_ok or bool(v.strip()))  # noqa: E731
        return str(self.scalar(node, key, expected, ok))

    def optional_text(self, node: Node, key: str) -> str | None:
        ok = lambda v: v is None or (isinstance(v, str) and bool(v.strip()))  # noqa: E731
        value = self.scalar(node, key, "a non-empty string or null", ok)
        return None if value is None else str(value)

    def sequence(self, node: Node, key: str, expected: str) -> Iterator[tuple[int, Node]]:
        if not isinstance(node, SequenceNode):
            got = (
                _show(None, node)
                if isinstance(node, MappingNode)
                else _show(self.value(node, key, expected), node)
            )
            raise self.error(node, key, expected=expected, got=got)
        if not node.value:
            raise self.error(node, key, expected=expected, got="an empty list")
        yield from enumerate(node.value)

    # -- sections -------------------------------------------------------------------------------

    @staticmethod
    def section(keys: dict[str, tuple[Node, Node]], key: str) -> Node | None:
        """The value node of an optional section; None when absent or null (an empty section)."""
        if key not in keys or _is_null(keys[key][1]):
            return None
        return keys[key][1]

    def relative_file(self, node: Node, key: str) -> str:
        raw = self.text(node, key)
        posix = raw.replace("\\", "/")
        parts = posix.split("/")
        if posix.startswith("/") or re.match(r"[A-Za-z]:", posix) or ".." in parts or "" in parts:
            raise self.error(
                node, key, expected="a relative file path inside the submission", got=repr(raw)
            )
        return "/".join(p for p in parts if p != ".")

    def files(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in self.sequence(node, "files", "a non-empty list of relative file paths"):
            key = f"files[{i}]"
            path = self.relative_file(item, key)
            if path in out:
                raise self.error(
                    item, key, expected="each file once", message=f"duplicate file {path!r}"
                )
            out.append(path)
        return tuple(out)

    def imports(self, node: Node) -> tuple[str, ...]:
        """`imports:` a list of module names (`numpy`, `scipy.stats`), each once; [] is allowed."""
        expected = "a list of module names like [numpy, scipy.stats]"
        if isinstance(node, SequenceNode) and not node.value:
            return ()
        out: list[str] = []
        for i, item in self.sequence(node, "imports", expected):
            key = f"imports[{i}]"
            name = self.scalar(item, key, "a module name like numpy or scipy.stats", lambda v: isinstance(v, str) and _dotted(v))
            if name in out:
                raise self.error(item, key, expected="each module once", message=f"duplicate module {name!r}")
            out.append(str(name))
        return tuple(out)

    def notebook(self, node: Node, name: str) -> str | None:
        """`notebook:` true (`<name>.ipynb`), false, or a relative path ending in `.ipynb`."""
        expected = "true, false or a relative path ending in .ipynb"
        value = self.scalar(node, "notebook", expected, lambda v: isinstance(v, bool | str))
        if isinstance(value, bool):
            return f"{name}.ipynb" if value else None
        path = safe_path(value)
        if path is None or not path.endswith(".ipynb"):
            raise self.error(node, "notebook", expected=expected, got=repr(value))
        return path

    def parts(self, node: Node) -> tuple[Part, ...]:
        out: list[Part] = []
        seen: dict[str, int] = {}
        for i, item in self.sequence(
            node, "parts", "a non-empty list of parts (name, points, description)"
        ):
            path = f"parts[{i}]"
            keys = self.mapping(
                item,
                path,
                ("name", "points"),
                ("description",),
                what="a part: a mapping with name, points and description",
            )
            name_node = keys["name"][1]
            name = self.text(name_node, f"{path}.name")
            if not _PART_NAME.fullmatch(name):
                raise self.error(
                    name_node,
                    f"{path}.name",
                    expected="a part name of letters, digits, '_' and '-'",
                    got=repr(name),
                )
            if name in seen:
                raise self.error(
                    name_node,
                    f"{path}.name",
                    expected="unique part names",
                    message=f"duplicate part name {name!r} (also parts[{seen[name]}])",
                )
            seen[name] = i
            points = self.positive_number(keys["points"][1], f"{path}.points")
            description = ""
            if "description" in keys:
                description = self.text(
                    keys["description"][1], f"{path}.description", blank_ok=True
                )
            out.append(Part(name=name, points=points, description=description))
        return tuple(out)

    def limits(self, node: Node) -> Limits:
        keys = self.mapping(
            node,
            "limits",
            (),
            ("call_seconds", "test_seconds", "submission_seconds", "memory_mb", "disk_mb", "return_mb"),
        )
        values = {k: self.positive_number(v, f"limits.{k}") for k, (_, v) in keys.items()}
        return Limits(**values)

    def training(self, node: Node) -> TrainingSettings:
        keys = self.mapping(
            node, "training", (), ("budget_ratio", "cap_seconds", "thresholds", "cpu", "cuda")
        )
        kwargs: dict[str, Any] = {}
        for k in ("budget_ratio", "cap_seconds"):
            if k in keys:
                kwargs[k] = self.positive_number(keys[k][1], f"training.{k}")
        if (tnode := self.section(keys, "thresholds")) is not None:
            tkeys = self.open_mapping(
                tnode, "training.thresholds", "a mapping of metric name to number"
            )
            kwargs["thresholds"] = {
                k: self.number(v, f"training.thresholds.{k}") for k, (_, v) in tkeys.items()
            }
        for k in ("cpu", "cuda"):
            if (cnode := self.section(keys, k)) is not None:
                kwargs[k] = self.device(cnode, f"training.{k}")
        return TrainingSettings(**kwargs)

    def device(self, node: Node, key: str) -> DeviceConfig:
        """`training.cpu` / `training.cuda`: the three known keys checked, others kept."""
        ckeys = self.open_mapping(node, key, "a mapping of config values")
        known: dict[str, Any] = {}
        if "max_epochs" in ckeys:
            known["max_epochs"] = self.positive_int(ckeys["max_epochs"][1], f"{key}.max_epochs")
        if "batch_size" in ckeys:
            known["batch_size"] = self.positive_int(ckeys["batch_size"][1], f"{key}.batch_size")
        if "epoch_seconds" in ckeys:
            known["epoch_seconds"] = self.positive_number(ckeys["epoch_seconds"][1], f"{key}.epoch_seconds")
        options = {
            name: self.value(v, f"{key}.{name}", "a value") for name, (_, v) in ckeys.items() if name not in DEVICE_KEYS
        }
        return DeviceConfig(**known, options=options)

    def open_mapping(self, node: Node, key: str, expected: str) -> dict[str, tuple[Node, Node]]:
        """A mapping with any string keys (each once)."""
        if isinstance(node, MappingNode):
            self.flatten(node, key, expected)
            names = []
            for kn, _ in node.value:
                name = self.value(kn, key, "a string key")
                if isinstance(name, str) and name not in names:
                    names.append(name)
            return self.mapping(node, key, (), tuple(names), what=expected)
        return self.mapping(node, key, (), (), what=expected)

    def data(self, node: Node, folder: Path) -> DataSettings:
        keys = self.mapping(node, "data", (), ("generator", "seed", "path", "grading_seed_file"))
        generator = (
            self.optional_text(keys["generator"][1], "data.generator")
            if "generator" in keys
            else None
        )
        if generator is not None:
            module, colon, function = generator.partition(":")
            if not (colon and _dotted(module) and _IDENT.fullmatch(function)):
                raise self.error(
                    keys["generator"][1],
                    "data.generator",
                    expected="module:function of the assignment folder, like 'data:generate'",
                    got=repr(generator),
                )
            if not (folder / (module.replace(".", "/") + ".py")).is_file():
                raise self.error(
                    keys["generator"][1],
                    "data.generator",
                    expected=f"a module of the assignment folder ({module.replace('.', '/')}.py is missing)",
                    got=repr(generator),
                )
        seed = self.non_negative_int(keys["seed"][1], "data.seed") if "seed" in keys else 0
        path = self.optional_path(keys, "path", folder)
        seed_file = self.optional_path(keys, "grading_seed_file", folder)
        return DataSettings(generator=generator, seed=seed, path=path, grading_seed_file=seed_file)

    def optional_path(self, keys: dict[str, Any], key: str, folder: Path) -> Path | None:
        """`data.<key>` as a path (relative to the assignment folder), or None when absent."""
        if key not in keys:
            return None
        raw = self.optional_text(keys[key][1], f"data.{key}")
        if raw is None:
            return None
        p = Path(raw).expanduser()
        return p if p.is_absolute() else folder / p

    def build(self, top: Node | None, folder: Path, project_root: Path) -> AssignmentSpec:
        if top is None:
            raise SpecError(
                file=self.file,
                line=1,
                expected="a mapping with name, title, version, files and parts",
                got="an empty file",
            )
        if not isinstance(top, MappingNode):
            raise self.error(
                top,
                None,
                expected="a mapping (key: value lines) at the top level",
                got=_show(self.value(top, "", "a mapping"), top),
            )
        keys = self.mapping(
            top,
            "",
            ("name", "title", "version", "files", "parts"),
            ("tests", "limits", "hypothesis", "training", "data", "imports", "notebook"),
        )
        name_node = keys["name"][1]
        name = self.text(name_node, "name")
        if not _SLUG.fullmatch(name) or keyword.iskeyword(name):
            raise self.error(
                name_node,
                "name",
                expected="a lowercase slug matching [a-z][a-z0-9_]*, not a Python keyword (it names the package assignments.<name>)",
                got=repr(name),
            )
        if name != folder.name:
            raise self.error(
                name_node,
                "name",
                expected=f"the assignment folder's name {folder.name!r}",
                got=repr(name),
            )
        title = self.text(keys["title"][1], "title")
        vnode = keys["version"][1]
        ok = lambda v: (isinstance(v, str) and bool(v.strip())) or _is_number(v)  # noqa: E731
        version_value = self.scalar(vnode, "version", 'a version string like "1.0"', ok)
        version = (
            version_value.strip() if isinstance(version_value, str) else str(vnode.value).strip()
        )

        files = self.files(keys["files"][1])
        parts = self.parts(keys["parts"][1])

        public_tests, hidden_tests = folder / "tests" / "public", folder / "tests" / "hidden"
        if (tnode := self.section(keys, "tests")) is not None:
            tkeys = self.mapping(tnode, "tests", (), ("public", "hidden"))
            if "public" in tkeys:
                public_tests = folder / self.text(tkeys["public"][1], "tests.public")
            if "hidden" in tkeys:
                hidden_tests = folder / self.text(tkeys["hidden"][1], "tests.hidden")

        lnode = self.section(keys, "limits")
        limits = Limits() if lnode is None else self.limits(lnode)
        max_examples = 30
        if (hnode := self.section(keys, "hypothesis")) is not None:
            hkeys = self.mapping(hnode, "hypothesis", (), ("max_examples",))
            if "max_examples" in hkeys:
                max_examples = self.positive_int(
                    hkeys["max_examples"][1], "hypothesis.max_examples"
                )
        trnode, dnode = self.section(keys, "training"), self.section(keys, "data")
        training = TrainingSettings() if trnode is None else self.training(trnode)
        data = DataSettings() if dnode is None else self.data(dnode, folder)
        inode = self.section(keys, "imports")
        imports = DEFAULT_IMPORTS if inode is None else self.imports(inode)
        nbnode = self.section(keys, "notebook")
        notebook = None if nbnode is None else self.notebook(nbnode, name)

        return AssignmentSpec(
            name=name,
            title=title,
            version=version,
            root=folder,
            spec_file=self.file,
            files=files,
            parts=parts,
            public_tests=public_tests,
            hidden_tests=hidden_tests,
            limits=limits,
            hypothesis_max_examples=max_examples,
            training=training,
            data=data,
            reference_dir=project_root / "reference" / name,
            template_dir=project_root / "student_template" / name,
            mutants_dir=project_root / "tests" / "mutants" / name,
            imports=imports,
            notebook=notebook,
        )


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------


def load_spec(path: Path, *, project_root: Path | None = None) -> AssignmentSpec:
    """Load and validate an `assignment.yaml` (the file or its assignment folder).

    `project_root` defaults to the folder two levels above the assignment folder. Raises
    SpecError naming the file, key and line of the first problem.
    """
    path = Path(path).expanduser()
    spec_file = path / SPEC_FILENAME if path.is_dir() else path
    spec_file = spec_file.resolve()
    if not spec_file.is_file():
        what = (
            "an assignment folder with an assignment.yaml"
            if path.is_dir()
            else "an assignment.yaml file"
        )
        raise SpecError(f"file not found (expected {what})", file=spec_file, expected=what)
    try:
        text = spec_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=spec_file,
            expected="UTF-8 text",
        ) from None
    except OSError as exc:
        raise SpecError(
            f"cannot read the file: {exc.strerror or exc}",
            file=spec_file,
            expected="a readable file",
        ) from None

    folder = spec_file.parent
    root = (
        Path(project_root).expanduser().resolve()
        if project_root is not None
        else folder.parent.parent
    )

    loader = yaml.SafeLoader(text)
    try:
        try:
            top = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = exc.problem or exc.context or "invalid YAML"
            if exc.context and exc.problem:
                problem = f"{exc.context}: {exc.problem}"
            raise SpecError(
                f"YAML syntax error: {problem}", file=spec_file, line=line, expected="valid YAML"
            ) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"YAML error: {exc}", file=spec_file, expected="valid YAML") from None
        return _Validator(loader, spec_file).build(top, folder, root)
    except RecursionError:
        raise SpecError(
            "YAML nested too deeply", file=spec_file, expected="a shallow mapping"
        ) from None
    finally:
        loader.dispose()


# ----------------------------------------------------------------------------------------------
# Projects
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """A project root: `assignments/`, `reference/`, `student_template/`, `tests/mutants/`."""

    root: Path

    @property
    def assignments_dir(self) -> Path:
        """`<root>/assignments`."""
        return self.root / "assignments"

    def assignment_names(self) -> list[str]:
        """Sorted names of the folders under `assignments/` that hold an assignment.yaml."""
        if not self.assignments_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.assignments_dir.iterdir()
            if p.is_dir() and (p / SPEC_FILENAME).is_file()
        )

    def load(self, name: str) -> AssignmentSpec:
        """Load assignment `name` (SpecError if there is none)."""
        names = self.assignment_names()
        if name not in names:
            known = ", ".join(names) if names else "(none)"
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SpecError(
                f"no assignment named {name!r}{hint} in {_display_path(self.assignments_dir)}; known: {known}",
                expected=f"one of: {known}",
                got=repr(name),
            )
        return load_spec(self.assignments_dir / name / SPEC_FILENAME, project_root=self.root)

    def load_all(self) -> list[AssignmentSpec]:
        """Every assignment, in name order."""
        return [self.load(name) for name in self.assignment_names()]

    @classmethod
    def discover(cls, start: Path | None = None) -> Project:
        """The first folder from `start` (default: cwd) upwards that has an `assignments/` folder."""
        given = Path.cwd() if start is None else Path(start)
        here = given.expanduser().resolve()
        for folder in (here, *here.parents):
            if (folder / "assignments").is_dir():
                return cls(folder)
        raise SpecError(
            f"no project found: no 'assignments/' folder in {given} or above; pass --root",
            expected="a folder with an 'assignments/' sub-folder",
        )
