"""The engine room of `seqkeras.runtime` stands apart from the task pipelines."""

import ast
import json
import pathlib
import pkgutil
import subprocess
import sys
import textwrap

import seqkeras.runtime
import seqkeras.runtime.pipelines

PIPELINE_MODULES = sorted(
    f"seqkeras.runtime.pipelines.{info.name}"
    for info in pkgutil.iter_modules(seqkeras.runtime.pipelines.__path__)
)
ENGINE_ROOM = ["bundle", "contract", "engines", "images", "loading", "model", "presets", "specs"]


def imported_after(statement):
    """The seqkeras.runtime modules a fresh interpreter holds after `statement`."""
    script = textwrap.dedent(
        f"""
        import json, sys
        {statement}
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("seqkeras.runtime"))))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_engine_room_imports_no_pipeline():
    assert len(PIPELINE_MODULES) == 6, PIPELINE_MODULES
    for module in ENGINE_ROOM:
        imported = imported_after(f"import seqkeras.runtime.{module}")
        assert "seqkeras.runtime.pipelines" not in imported, module
        assert not imported & set(PIPELINE_MODULES), module


def runtime_imports(path):
    """The `seqkeras.runtime...` modules a source file imports (at any depth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("seqkeras.runtime")}


def test_a_pipeline_imports_only_the_engine_room_and_its_siblings():
    engine_room = set(ENGINE_ROOM) - {"loading", "presets"}
    allowed = {f"seqkeras.runtime.{name}" for name in engine_room}
    allowed |= {"seqkeras.runtime.pipelines", *PIPELINE_MODULES}
    folder = pathlib.Path(seqkeras.runtime.pipelines.__file__).parent
    for path in sorted(folder.glob("*.py")):
        imports = runtime_imports(path)
        if path.name != "__init__.py":
            assert imports, path.name
        assert imports <= allowed, (path.name, imports - allowed)


def test_load_and_the_public_names_reach_every_pipeline():
    imported = imported_after(
        "from seqkeras.runtime.loading import registered_pipelines; registered_pipelines()"
    )
    assert set(PIPELINE_MODULES) <= imported
    for name in seqkeras.runtime.__all__:
        assert getattr(seqkeras.runtime, name) is not None, name
    assert set(seqkeras.runtime.__all__) <= set(dir(seqkeras.runtime))
