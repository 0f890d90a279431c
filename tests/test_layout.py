"""The layout read from the source (``ast``, nothing imported): small modules, no import circle, and
arrows that run one way — the scoring path (rubric, strategies, scoring, reward, judge) never imports
the parts built on it, and the loaders in data/ read and write files and call no model (DESIGN.md, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 400

#: The scoring path, and the packages it must never import.
SCORING_PATH = ("rareval.rubric", "rareval.strategies", "rareval.scoring", "rareval.reward", "rareval.defence",
                "rareval.judge")
ABOVE_IT = ("rareval.evals", "rareval.train", "rareval.experiments", "rareval.regress", "rareval.models",
            "rareval.rubrics", "rareval.reliability", "rareval.cli")

#: What a loader (``rareval/data/``) may import: the other loaders, the rubric a row converts to, the errors.
DATA_MAY_IMPORT = ("rareval.data", "rareval.rubric", "rareval.errors")
#: Libraries that call a model: a loader imports none of them (pair building with a generator lives above data/).
CALLS_A_MODEL = ("inspect_ai.model", "openai", "anthropic", "transformers", "llama_cpp", "vllm")

#: The layers, lowest first: a module imports its own layer and those below it, never one above.
LAYERS = (
    ("rareval.errors", "rareval.stats", "rareval.prompts"),
    ("rareval.rubric",),
    ("rareval.data",),
    ("rareval.strategies", "rareval.judge"),
    ("rareval.scoring",),
    ("rareval.reward", "rareval.defence"),
    ("rareval.rubrics", "rareval.models", "rareval.reliability"),
    ("rareval.evals",),
    ("rareval.train", "rareval.regress"),
    ("rareval.experiments",),
    ("rareval.cli", "rareval._registry", "rareval"),
)


def module_files() -> dict[str, Path]:
    """``{dotted name: file}`` of every module of the package (a package by its ``__init__``)."""
    out = {}
    for path in sorted((REPO / "rareval").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported_names(path: Path, known: set[str] = frozenset()) -> set[str]:
    """Every module ``path`` imports anywhere in it (module level, in functions, under TYPE_CHECKING).

    ``from a.b import c`` is an import of ``a.b.c`` where that is in ``known``, else of ``a.b``.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                      for a in node.names}
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The rareval modules ``path`` imports anywhere in it (:func:`imported_names`)."""
    return {name for name in imported_names(path, known) if name in known}


def graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(path, set(files)) for name, path in files.items()}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer(name: str) -> int | None:
    """The index in :data:`LAYERS` of the entry that holds ``name`` (None: none does). ``rareval`` holds only
    the package's own ``__init__``, so a new package must be given its place."""
    return next((i for i, group in enumerate(LAYERS) for p in group
                 if name == p or (p != "rareval" and within(name, (p,)))), None)


def upward(edges: dict[str, set[str]]) -> list[str]:
    """``"a imports b"`` for every import of a module in a higher layer than the importer's."""
    return sorted(f"{a} imports {b}" for a, targets in edges.items() for b in targets if layer(b) > layer(a))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_checks_can_fail():
    """The circle finder and the arrow rule catch what they are for, on a made-up graph."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert within("rareval.judge.core", SCORING_PATH) and within("rareval.models.catalog", ABOVE_IT)
    assert not within("rareval.judgement", SCORING_PATH)
    assert layer("rareval.data.alignment") == layer("rareval.data") < layer("rareval.rubrics.generate")
    assert layer("rareval") > layer("rareval.reward") > layer("rareval.judge.core") and layer("rareval.new") is None
    assert upward({"rareval.data.alignment": {"rareval.rubrics.generate", "rareval.rubric"},
                   "rareval.evals.x": {"rareval.data"}}) == ["rareval.data.alignment imports rareval.rubrics.generate"]


@pytest.mark.parametrize("path", sorted([*(REPO / "rareval").rglob("*.py"), *(REPO / "tasks").glob("*.py")]),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_over_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines; split it by what it does"


def test_no_import_circle():
    found = cycles(graph())
    assert not found, "import circles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_scoring_path_imports_nothing_above_it():
    edges = graph()
    assert "rareval.judge.core" in edges and "rareval.judge.calibration" in edges["rareval.judge.core"]
    upward = sorted(f"{a} imports {b}" for a, targets in edges.items() if within(a, SCORING_PATH)
                    for b in targets if within(b, ABOVE_IT))
    assert not upward, "\n".join(upward)


def test_tasks_are_thin_files_over_rareval_evals():
    """Each Inspect task file builds its task from ``rareval.evals`` (and loaders), defining no scorer."""
    files = module_files()
    for path in sorted((REPO / "tasks").glob("*.py")):
        imported = imports_of(path, set(files))
        assert any(within(m, ("rareval.evals",)) for m in imported), path.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        decorators = {ast.unparse(d).split("(")[0] for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                      for d in node.decorator_list}
        assert "task" in decorators and "scorer" not in decorators, f"{path.name}: a task, and no scorer of its own"


def test_every_module_has_a_layer():
    unplaced = [name for name in module_files() if layer(name) is None]
    assert not unplaced, f"give these a layer in LAYERS: {unplaced}"


def test_loaders_only_load():
    """A module of ``rareval/data/`` reads and writes files: it imports the other loaders, the rubric and the
    errors, nothing that runs a judge or a generator, and no library that calls a model."""
    files = module_files()
    found = []
    for name, path in files.items():
        if within(name, ("rareval.data",)):
            imported = imported_names(path, set(files))
            found += [f"{name} imports {m}" for m in sorted(imported)
                      if (m in files and not within(m, DATA_MAY_IMPORT)) or within(m, CALLS_A_MODEL)]
    assert not found, "\n".join(found)


def test_no_import_runs_up_the_layout():
    found = upward(graph())
    assert not found, "\n".join(found)
