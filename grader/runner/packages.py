"""An assignment's folder, importable in the trusted process as the package `assignments.<name>`.

Everything specific to one assignment lives in its folder: the data generator and trusted
loaders (`assignments/landmarks/data.py` is `assignments.landmarks.data`), child-side helper
files, stand-ins, and the test modules themselves (`tests/hidden/test_training.py` is
`assignments.landmarks.tests.hidden.test_training`). Test modules import their helpers by
that name or relatively (`from ...data import load_partition`), never by a bare name on
`sys.path`, so two assignments graded in one process cannot share a helper module.

Each grading starts from a fresh import of the package (module-level state of one grading
never reaches the next), and an assignment of the same name from another folder replaces the
one registered before.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

TOP = "assignments"


def package_name(spec: Any) -> str:
    """The package name of `spec`'s assignment folder: `assignments.<name>`."""
    return f"{TOP}.{spec.name}"


def _top() -> types.ModuleType:
    top = sys.modules.get(TOP)
    if top is None or getattr(top, "__grader_packages__", False) is not True:
        top = types.ModuleType(TOP, "Assignment folders registered by the grader.")
        top.__path__ = []  # submodules are registered by `register`, never searched for
        top.__grader_packages__ = True  # type: ignore[attr-defined]
        sys.modules[TOP] = top
    return top


def forget(name: str) -> None:
    """Drop the package `name` and every module under it from `sys.modules`."""
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def register(spec: Any, *, fresh: bool = True) -> types.ModuleType:
    """Register `spec.root` as the package `assignments.<name>` and return it.

    With `fresh` (the default) every module imported from it before is dropped first, so a
    grading starts from the files as they are now.
    """
    name = package_name(spec)
    root = str(Path(spec.root).resolve())
    current = sys.modules.get(name)
    if current is not None and (fresh or list(getattr(current, "__path__", [])) != [root]):
        forget(name)
        current = None
    if current is not None:
        return current
    top = _top()
    pkg = types.ModuleType(name, f"The assignment folder {root}.")
    pkg.__path__ = [root]
    pkg.__package__ = name
    pkg.__file__ = None
    spec_obj = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec_obj.submodule_search_locations = [root]
    pkg.__spec__ = spec_obj
    sys.modules[name] = pkg
    setattr(top, spec.name, pkg)
    importlib.invalidate_caches()
    return pkg


def module_name_for(spec: Any, path: Path) -> str | None:
    """The dotted name of the file `path` inside `spec`'s package, or None if it lies outside."""
    try:
        rel = Path(path).resolve().relative_to(Path(spec.root).resolve())
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package_name(spec), *parts])


def import_from(spec: Any, dotted: str) -> Any:
    """`module:attribute` or `module` of `spec`'s package (e.g. `data:generate`), imported."""
    module, _, attr = dotted.partition(":")
    register(spec, fresh=False)
    mod = importlib.import_module(f"{package_name(spec)}.{module}")
    return getattr(mod, attr) if attr else mod
