"""The package's import graph runs one way: every module sits in a layer and imports only from its own
layer or those below; the graph has no cycle; an import inside a function is kept for optional heavy
extras only, each with a comment saying which.

    data → model → generators/scm → finetuning → runs → study → report → cli/reproduce

(the foundation below them all: safe files, provenance, seeds, parameters, selection, encoding, metrics).
A new module must be placed here, which is the point: its room is decided once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "causalmix"

LAYERS: list[tuple[str, list[str]]] = [
    ("foundation", ["io", "provenance", "seeds", "params", "selection", "encoding", "metrics"]),
    ("data", ["data"]),
    ("model", ["model", "evaluation", "rule_prior", "prior", "tabicl_prior", "pretrain_config", "pretraining"]),
    ("generators", ["generator_base", "generators", "discovery", "scm_steps", "scm", "tabebm", "fidelity"]),
    ("finetuning", ["finetune_config", "finetuning", "classifier"]),
    ("runs", ["runs", "records", "claims", "sweep_config", "costs", "experiment", "plan", "distributed"]),
    ("study", ["study", "publish", "rederive", "verify"]),
    ("report", ["report", "book_params"]),
    ("app", ["cli", "commands", "clidoc", "compare", "sampling", "reproduce", "__main__", "__init__"]),
]

#: (importer, imported): the function-local imports allowed, each an optional heavy extra.
LOCAL_ALLOWED = {
    ("prior", "tabicl_prior"),  # TabICL's priors (causalmix[tabicl-prior]) load only when asked for
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _top(name: str) -> str:
    """A module's unit of layering: ``report.stats`` -> ``report``, ``data.splits`` -> ``data``."""
    return name.split(".", 1)[0]


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported causalmix module, line, inside a function) for every import of the package in a file."""
    tree = ast.parse(path.read_text())
    here = _module_name(path)
    package = here.rsplit(".", 1)[0] if path.name != "__init__.py" else here
    inside: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(fn)}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "causalmix"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importing module's package
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(["causalmix", *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] == "causalmix":
                names = [module] if module != "causalmix" else [f"causalmix.{a.name}" for a in node.names]
        for name in names:
            rest = name.removeprefix("causalmix").lstrip(".")
            if rest:
                found.append((rest, node.lineno, id(node) in inside))
    return found


def _graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


LAYER_OF = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def test_every_module_has_a_layer():
    unplaced = sorted({_top(m) for m in _graph()} - set(LAYER_OF))
    assert not unplaced, f"place these modules in a layer of tests/test_layers.py: {unplaced}"


def test_imports_only_go_down_the_layers():
    upward = [f"{m} (layer {LAYERS[LAYER_OF[_top(m)]][0]}) imports {t} (layer {LAYERS[LAYER_OF[_top(t)]][0]}), line {line}"
              for m, edges in _graph().items() for t, line, _ in edges
              if _top(t) in LAYER_OF and LAYER_OF[_top(t)] > LAYER_OF[_top(m)]]
    assert not upward, "\n".join(upward)


def test_the_import_graph_has_no_cycle():
    edges_of = _graph()
    graph = {m: {t for t, _, _ in edges if t in edges_of} for m, edges in edges_of.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_function_local_imports_are_the_commented_optional_extras_only():
    local = [(m, t, line) for m, edges in _graph().items() for t, line, inside in edges if inside]
    assert len(local) <= 5
    for module, target, line in local:
        assert (_top(module), _top(target)) in LOCAL_ALLOWED, f"{module} imports {target} inside a function (line {line})"
        source = (PACKAGE / (module.replace(".", "/") + ".py")).read_text().splitlines()
        assert "#" in source[line - 1] or source[line - 2].strip().startswith("#"), \
            f"{module}:{line}: say in a comment which optional extra this import waits for"


def test_the_layering_test_sees_a_violation(tmp_path):
    """The rules can fail: a model module importing the report is caught."""
    fake = tmp_path / "causalmix"
    (fake / "report").mkdir(parents=True)
    (fake / "report" / "__init__.py").write_text("")
    (fake / "model.py").write_text("from causalmix.report import x\n\ndef f():\n    from causalmix import study\n")
    globals()["PACKAGE"], saved = fake, PACKAGE
    try:
        with pytest.raises(AssertionError, match="model .* imports report"):
            test_imports_only_go_down_the_layers()
        with pytest.raises(AssertionError, match="imports study inside a function"):
            test_function_local_imports_are_the_commented_optional_extras_only()
    finally:
        globals()["PACKAGE"] = saved
