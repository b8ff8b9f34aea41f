"""The type stubs describe exactly what the compiled module has."""

import ast
import pathlib

import chatchunk
from chatchunk import _core

STUB = pathlib.Path(chatchunk.__file__).with_name("_core.pyi")


def stub_classes() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return classes


def test_every_runtime_class_is_in_the_stub_with_the_same_public_members():
    stubbed = stub_classes()
    runtime = {name: obj for name, obj in vars(_core).items() if isinstance(obj, type)}
    assert set(stubbed) == set(runtime)
    for name, cls in runtime.items():
        if issubclass(cls, BaseException):
            continue
        public = {m for m in vars(cls) if not m.startswith("_")}
        stub_public = {m for m in stubbed[name] if not m.startswith("_")}
        assert stub_public == public, name


def test_stub_functions_exist_at_runtime():
    tree = ast.parse(STUB.read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    runtime = {n for n, o in vars(_core).items() if callable(o) and not isinstance(o, type)}
    assert functions == runtime


def test_package_exports_the_core():
    for name in chatchunk.__all__:
        assert hasattr(chatchunk, name), name
