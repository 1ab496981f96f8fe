"""The typed packages: every public function and method is annotated, and py.typed ships."""

import importlib
import inspect
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TYPED_PACKAGES = ("seqkeras.decoding", "seqkeras.metrics", "seqkeras.text", "seqkeras.runtime")


def public_callables(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        if name == "Perplexity":  # a Keras metric: its methods are Keras's
            continue
        obj = getattr(module, name)
        if inspect.isclass(obj):
            for attribute, member in vars(obj).items():
                if inspect.isfunction(member) and (
                    not attribute.startswith("_") or attribute == "__init__"
                ):
                    yield f"{package}.{name}.{attribute}", member
        elif inspect.isfunction(obj):
            yield f"{package}.{name}", obj


@pytest.mark.parametrize("package", TYPED_PACKAGES)
def test_public_api_is_annotated(package):
    missing = []
    for name, function in public_callables(package):
        signature = inspect.signature(function)
        unannotated = [
            p.name
            for p in signature.parameters.values()
            if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
        ]
        if unannotated or signature.return_annotation is inspect.Signature.empty:
            missing.append(f"{name}({', '.join(unannotated)})")
    assert not missing


def test_py_typed_marker_is_packaged():
    import configparser

    assert (ROOT / "seqkeras" / "py.typed").is_file()
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "py.typed" in config["options.package_data"]["seqkeras"]
