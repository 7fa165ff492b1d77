"""Notebook submissions: `%%writefile` cells to and from an assignment's files.

A notebook form of a submission holds one code cell per file whose first line is the
Jupyter/Colab cell magic ``%%writefile PATH`` (``%%writefile -a PATH`` appends): run in
Colab, the cells write the files, so later cells can ``import`` them. `build_notebook` writes
such a notebook from ``{path: source}`` (the template's, byte-stable: cell ids derive from the
file names); `extract_files` reads the files back out of a parsed notebook without running
anything. Only cells whose first non-empty line is ``%%writefile [-a] PATH`` count; every other
cell (markdown, code that trains or plots, ``!pip``, other magics) and every output is ignored.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = "%%writefile"
APPEND_FLAGS = ("-a", "--append")
MAX_PATH_DEPTH = 16
MAX_PATH_CHARS = 255
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
NO_WRITEFILE = (
    "the notebook has no `%%writefile` cells: each file of the submission goes in a code cell "
    "whose first line is `%%writefile FILE.py` (as the template notebook has; docs/notebooks.md)"
)


class NotebookError(ValueError):
    """A notebook that holds no file to grade; `str()` is one line."""


@dataclass
class Extracted:
    """The files a notebook writes, and the `%%writefile` cells left out (cell, reason)."""

    files: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def safe_path(raw: str) -> str | None:
    """`raw` as a normalised relative POSIX path, or None when it is not a safe file name.

    Safe: relative, segments of letters, digits and ``_ . + -`` (not starting with a dot or a
    dash), no ``..``, no backslash, at most `MAX_PATH_DEPTH` segments and `MAX_PATH_CHARS`
    characters. ``.`` segments are dropped (``./data.py`` is ``data.py``).
    """
    if not raw or len(raw) > MAX_PATH_CHARS or raw.startswith("/"):
        return None
    parts = [p for p in raw.split("/") if p != "."]
    if not parts or len(parts) > MAX_PATH_DEPTH or "" in parts:
        return None
    if not all(_SEGMENT.fullmatch(p) and p != ".." for p in parts):
        return None
    return "/".join(parts)


def module_names(paths: Iterable[str]) -> list[str]:
    """The importable module names of the `.py` paths (``model/__init__.py`` is ``model``)."""
    names = []
    for path in paths:
        if path.endswith(".py"):
            dotted = path[: -len(".py")].replace("/", ".").removesuffix(".__init__")
            if all(s.isidentifier() for s in dotted.split(".")):
                names.append(dotted)
    return list(dict.fromkeys(names))


def _cell_id(index: int, path: str, suffix: str = "") -> str:
    """A stable, unique, valid nbformat cell id (``[A-Za-z0-9_-]``, at most 64 characters)."""
    head = f"c{index:02d}-"
    return head + _ID_CHARS.sub("-", path)[: 64 - len(head) - len(suffix)] + suffix


def build_notebook(files: Mapping[str, str], *, title: str, intro: str = "") -> str:
    """The notebook (nbformat 4 JSON text) whose `%%writefile` cells write `files`.

    `files` maps safe relative paths to their text, in the order the cells take. The same
    arguments always give the same bytes.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    bad = [p for p in files if safe_path(p) != p]
    if bad:
        raise ValueError(f"not a safe relative file path for a %%writefile cell: {bad[0]!r}")
    names = ", ".join(f"`{p}`" for p in files)
    head = [
        f"# {title}",
        "",
        *([intro.strip(), ""] if intro.strip() else []),
        f"Each code cell that starts with `{MAGIC} FILE` is one file of your submission ({names}).",
        "Fill in the TODOs in those cells. Running a cell writes its file, so later cells can",
        "`import` it (run them again after every change).",
        "",
        "**To submit**, hand in either this notebook (`.ipynb`) or the `.py` files it writes:",
        "both are graded the same way. When grading a notebook, only the `%%writefile` cells",
        "are read; other cells (your experiments, training runs, plots) and all outputs are",
        "ignored and never run. Keep the first line of each file cell as it is.",
    ]
    cells = [new_markdown_cell("\n".join(head), id="title")]
    folders = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
    if folders:  # %%writefile does not create folders
        make = "import os\n\n" + "".join(f"os.makedirs({f!r}, exist_ok=True)\n" for f in folders)
        cells.append(new_code_cell(make.rstrip("\n"), id="folders"))
    for i, (path, text) in enumerate(files.items(), start=1):
        cells.append(new_markdown_cell(f"## `{path}`", id=_cell_id(i, path, "-md")))
        cells.append(new_code_cell(f"{MAGIC} {path}\n{text}", id=_cell_id(i, path)))
    modules = module_names(files)
    if modules:
        cells.append(new_markdown_cell("## Try it", id="try-it-md"))
        listed = ", ".join(repr(m) for m in modules)
        check = (
            "# Imports your files (after the cells above ran): an error here is one to fix.\n"
            "import importlib\n\n"
            f"for name in [{listed}]:\n"
            "    importlib.reload(importlib.import_module(name))\n"
            'print("all files import")'
        )
        cells.append(new_code_cell(check, id="try-it"))
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nbformat.writes(nb)


def _source(cell: Any) -> str | None:
    """A code cell's source as one string; None for any other cell or a malformed one."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    source = cell.get("source")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def _magic(source: str) -> tuple[str, str] | None:
    """(magic line, body) when the first non-empty line is a `%%writefile` line, else None.

    The body is what Colab/IPython writes: the lines after the magic line, with a final line
    break added when the cell has none.
    """
    text = source.lstrip("\r\n\t ")
    line, newline, body = text.partition("\n")
    line = line.rstrip("\r")
    if line.split(maxsplit=1)[:1] != [MAGIC]:
        return None
    if not newline:
        return line, ""
    return line, body if not body or body.endswith("\n") else body + "\n"


def _target(line: str) -> tuple[str, bool] | str:
    """(path, append) named by a `%%writefile` line, or why it cannot be used."""
    try:
        args = shlex.split(line)[1:]
    except ValueError:
        return "cannot be read (unbalanced quotes), not extracted"
    append = any(a in APPEND_FLAGS for a in args)
    rest = [a for a in args if a not in APPEND_FLAGS]
    if len(rest) != 1 or rest[0].startswith("-"):
        return "expected one file name (and optionally -a), not extracted"
    path = safe_path(rest[0])
    if path is None:
        return "not a safe relative path (absolute, `..` or odd characters), not extracted"
    return path, append


def extract_files(nb: Any, *, tick: Callable[[], None] | None = None) -> Extracted:
    """The files the `%%writefile` cells of a parsed notebook write, in notebook order.

    Nothing is run: a cell counts only when it is a code cell whose first non-empty line is
    ``%%writefile [-a] PATH``. A later cell for the same path replaces the earlier one, as
    running the notebook top to bottom would (the earlier is listed as skipped); ``-a``
    appends. Cells with an unusable PATH are listed as skipped, as ``cell N `magic line```
    with the reason. Raises NotebookError when no file is left. `tick` is called once per
    cell (a time limit).
    """
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("the file is not a Jupyter notebook (no `cells` list)")
    out = Extracted()
    written_by: dict[str, str] = {}
    seen = 0
    for number, cell in enumerate(cells, start=1):
        if tick is not None:
            tick()
        source = _source(cell)
        found = _magic(source) if source is not None else None
        if found is None:
            continue
        seen += 1
        line, body = found
        where = f"cell {number} `{line if len(line) <= 60 else line[:57] + '...'}`"
        target = _target(line)
        if isinstance(target, str):
            out.skipped.append((where, target))
            continue
        path, append = target
        clash = _clash(path, out.files)
        if clash is not None:
            out.skipped.append((where, f"clashes with {clash}, not extracted"))
            continue
        if append and path in out.files:
            out.files[path] += body
            continue
        if path in out.files:
            out.skipped.append(
                (written_by[path], f"replaced by cell {number}, as running the notebook would")
            )
        out.files[path] = body
        written_by[path] = where
    if seen == 0:
        raise NotebookError(NO_WRITEFILE)
    if not out.files:
        where, reason = out.skipped[0]
        raise NotebookError(f"no `%%writefile` cell of the notebook can be used: {where}: {reason}")
    return out


def _clash(path: str, files: Mapping[str, str]) -> str | None:
    """The file already written that `path` cannot sit beside (a file where a folder is)."""
    for other in files:
        if other != path and (other.startswith(path + "/") or path.startswith(other + "/")):
            return other
    return None


def folder_files(folder: Path, first: Iterable[str] = ()) -> dict[str, str]:
    """``{path: text}`` of the UTF-8 `.py` files under `folder` (and the `first` files, first).

    The notebook form of a submission folder (verify's, the tests'): links, caches and hidden
    entries are left out; `first` orders the assignment's own files before the rest.
    """
    found: dict[str, str] = {}
    wanted = [p for p in first if (folder / p).is_file() and not (folder / p).is_symlink()]
    others = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.py")
        if p.is_file()
        and not p.is_symlink()
        and not any(s.startswith(".") or s == "__pycache__" for s in p.relative_to(folder).parts)
    )
    for rel in [*wanted, *others]:
        if rel in found or safe_path(rel) != rel:
            continue
        try:
            found[rel] = (folder / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return found
