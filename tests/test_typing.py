"""The typed packages: every public function and method is annotated, and py.typed ships."""

import importlib
import inspect
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TYPED_PACKAGES = (
    "seqkeras.decoding",
    "seqkeras.metrics",
    "seqkeras.text",
    "seqkeras.layers",
    "seqkeras.export",
    "seqkeras.runtime",
)
# Classes typed outside a typed package: their public methods.
TYPED_CLASSES = ("seqkeras.tasks.base.Task",)


def class_methods(name, cls):
    for attribute, member in vars(cls).items():
        if isinstance(member, classmethod | staticmethod):
            member = member.__func__
        elif isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member) and (
            not attribute.startswith("_") or attribute == "__init__"
        ):
            yield f"{name}.{attribute}", member


def public_callables(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        if name == "Perplexity":  # a Keras metric: its methods are Keras's
            continue
        obj = getattr(module, name)
        if inspect.isclass(obj):
            yield from class_methods(f"{package}.{name}", obj)
        elif inspect.isfunction(obj):
            yield f"{package}.{name}", obj


def unannotated(callables):
    missing = []
    for name, function in callables:
        signature = inspect.signature(function)
        parameters = [
            p.name
            for p in signature.parameters.values()
            if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
        ]
        if parameters or signature.return_annotation is inspect.Signature.empty:
            missing.append(f"{name}({', '.join(parameters)})")
    return missing


@pytest.mark.parametrize("package", TYPED_PACKAGES)
def test_public_api_is_annotated(package):
    assert not unannotated(public_callables(package))


@pytest.mark.parametrize("path", TYPED_CLASSES)
def test_typed_classes_are_annotated(path):
    module, name = path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert not unannotated(class_methods(path, cls))


def test_the_makefile_type_checks_the_typed_packages():
    typed = next(
        line.split(":=")[1].split()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("TYPED :=")
    )
    for package in TYPED_PACKAGES:
        relative = package.replace(".", "/")
        assert relative.replace("seqkeras/export", "export") in typed, package
    for path in TYPED_CLASSES:
        assert path.rsplit(".", 1)[0].replace(".", "/") + ".py" in typed, path


def test_py_typed_marker_is_packaged():
    import configparser

    assert (ROOT / "seqkeras" / "py.typed").is_file()
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "py.typed" in config["options.package_data"]["seqkeras"]
