"""The Lambda package is the Python sources of functions/ and nothing else, byte-identical every run, and
it works on its own: unpacked into an empty directory, with only what the Lambda python3.13 runtime
(boto3 and its dependencies) and the Powertools layer (aws-lambda-powertools and its dependencies)
provide, the entry point and every handler configured in the stacks import.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pulumi

from components import defaults as d
from components.package import lambda_package, source_files
from stack_capture import Capture

FUNCTION = "aws:lambda/function:Function"
RUNTIME_DISTRIBUTIONS = ("boto3",)
"""What the Lambda python3.13 runtime ships besides the standard library: the AWS SDK (boto3, botocore,
s3transfer, jmespath, python-dateutil, six, urllib3)."""
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools",)
"""What the Powertools layer adds: the package and what it requires (without extras)."""
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _deployed_archive(capture: Capture) -> pulumi.AssetArchive:
    archives = [f.inputs["code"] for f in capture.of_type(FUNCTION)]
    assert archives and all(isinstance(a, pulumi.AssetArchive) for a in archives)
    first = archives[0]
    assert all(_digest(a) == _digest(first) for a in archives), "every function ships the same package"
    return first


def _entries(archive: pulumi.AssetArchive) -> list[tuple[str, bytes]]:
    out = []
    for name, asset in sorted(archive.assets.items()):
        assert isinstance(asset, pulumi.FileAsset), f"{name}: only file assets"
        out.append((name, Path(asset.path).read_bytes()))
    return out


def _digest(archive: pulumi.AssetArchive) -> str:
    h = hashlib.sha256()
    for name, data in _entries(archive):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def write_zip(archive: pulumi.AssetArchive, path: Path) -> Path:
    """The archive as the engine uploads it: entries sorted by name, fixed timestamps."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _entries(archive):
            z.writestr(zipfile.ZipInfo(name, ZIP_EPOCH), data)
    return path


def _sources(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if "__pycache__" not in p.parts)


# --- contents and determinism -------------------------------------------------------------------


def test_package_is_exactly_the_python_sources(project_stacks: dict[str, Capture]) -> None:
    for capture in project_stacks.values():
        names = sorted(_deployed_archive(capture).assets)
        assert names == _sources(d.FUNCTIONS_DIR)
        assert not [n for n in names if "__pycache__" in n or not n.endswith(".py") or "/tests/" in f"/{n}"]


def test_package_hash_ignores_caches_tests_and_junk_left_by_earlier_runs(tmp_path: Path) -> None:
    root = tmp_path / "functions"
    shutil.copytree(d.FUNCTIONS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    build = lambda_package.__wrapped__  # the uncached builder: the tree changes under it here
    before = _digest(build(root))
    # What running the tests, an editor or a local build leaves behind:
    (root / "pipeline_runtime" / "__pycache__").mkdir()
    (root / "pipeline_runtime" / "__pycache__" / "entry.cpython-313.pyc").write_bytes(b"\x00junk")
    (root / "handlers" / "orders.pyc").write_bytes(b"\x00junk")
    (root / "tests").mkdir()
    (root / "tests" / "test_orders.py").write_text("def test_x(): pass\n")
    (root / "handlers" / "test_notify.py").write_text("def test_y(): pass\n")
    (root / "conftest.py").write_text("")
    (root / "notes.txt").write_text("scratch")
    after = build(root)
    assert _digest(after) == before
    assert sorted(after.assets) == _sources(d.FUNCTIONS_DIR)


def test_two_builds_give_byte_identical_zips(tmp_path: Path, project_stacks: dict[str, Capture]) -> None:
    first = write_zip(_deployed_archive(project_stacks["dev"]), tmp_path / "a.zip").read_bytes()
    second = write_zip(lambda_package.__wrapped__(d.FUNCTIONS_DIR), tmp_path / "b.zip").read_bytes()
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_source_files_skip_test_modules(tmp_path: Path) -> None:
    for name in ("a.py", "pkg/__init__.py", "pkg/b.py", "pkg/test_b.py", "pkg/b_test.py", "tests/c.py", "conftest.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in source_files(tmp_path)] == [
        "a.py",
        "pkg/__init__.py",
        "pkg/b.py",
    ]


# --- it imports on its own, with only the runtime and the layer ---------------------------------


def _requirement_names(distribution: str) -> set[str]:
    """`distribution` and, recursively, what it requires (no extras, no markers that exclude Linux)."""
    seen: set[str] = set()
    todo = [distribution]
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        for req in importlib.metadata.requires(name) or []:
            spec, _, marker = req.partition(";")
            if "extra" in marker or "sys_platform == \"win32\"" in marker:
                continue
            todo.append(re.split(r"[\s\[<>=!~(]", spec.strip(), maxsplit=1)[0])
    return seen


def _provided_site(target: Path) -> Path:
    """A site directory holding ONLY the runtime's and the layer's packages (symlinked from this venv)."""
    target.mkdir()
    names = set().union(*(_requirement_names(n) for n in (*RUNTIME_DISTRIBUTIONS, *LAYER_DISTRIBUTIONS)))
    for name in sorted(names):
        dist = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top == "__pycache__":
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source)
    return target


CHECK = r"""
import importlib, json, sys, sysconfig
package, site, stdlib, handlers, lazy = sys.argv[1:6]
installed = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
assert not [p for p in sys.path if p.startswith(installed)], "no site-packages on sys.path"
sys.path[:0] = [package, site]
entry = importlib.import_module("pipeline_runtime.entry")
assert callable(entry.handler), "pipeline_runtime.entry.handler"
for spec in json.loads(handlers):
    module, _, function = spec.partition(":")
    assert callable(getattr(importlib.import_module(module), function)), spec
for module in json.loads(lazy):
    importlib.import_module(module)
files = {name: m.__file__ for name, m in list(sys.modules.items()) if getattr(m, "__file__", None)}
outside = sorted(
    n for n, f in files.items()
    if not f.startswith((package, site)) and (not f.startswith(stdlib) or f.startswith(installed))
)
layer = sorted(n for n, f in files.items() if f.startswith(site))
print(json.dumps({"outside": outside, "entry": entry.__file__, "from_runtime_and_layer": layer}))
"""


def _run_check(package: Path, site: Path, handlers: list[str], lazy: list[str]) -> subprocess.CompletedProcess:
    """`CHECK` in a fresh interpreter: -I (no PYTHONPATH, no user site), -S (no site-packages), bare env."""
    stdlib = sysconfig.get_paths()["stdlib"]
    args = [str(package), str(site), stdlib, json.dumps(handlers), json.dumps(lazy)]
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", CHECK, *args],
        capture_output=True,
        text=True,
        cwd=package.parent,
        env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"},
        check=False,
    )


def _imported_modules(root: Path) -> list[str]:
    """Every absolute module name the package imports, also lazily inside functions."""
    names: set[str] = set()
    for path in source_files(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return sorted(n for n in names if n != "__future__" and not n.startswith("mypy_boto3"))


def test_unpacked_package_imports_entry_point_and_every_configured_handler(
    tmp_path: Path, project_stacks: dict[str, Capture]
) -> None:
    handlers = sorted(
        {
            f.inputs["environment"]["variables"]["AP_HANDLER"]
            for capture in project_stacks.values()
            for f in capture.of_type(FUNCTION)
        }
    )
    assert len(handlers) >= 4
    assert {f.inputs["handler"] for c in project_stacks.values() for f in c.of_type(FUNCTION)} == {d.ENTRY_POINT}
    package = tmp_path / "task"  # Lambda unpacks the package into /var/task
    with zipfile.ZipFile(write_zip(_deployed_archive(project_stacks["prod"]), tmp_path / "package.zip")) as z:
        z.extractall(package)
    site = _provided_site(tmp_path / "runtime")
    lazy = [m for m in _imported_modules(package) if m.split(".")[0] not in {"pipeline_runtime", "handlers"}]
    result = _run_check(package, site, handlers, lazy)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["entry"] == str(package / "pipeline_runtime" / "entry.py")
    assert report["outside"] == [], "imported from outside the package, the runtime and the layer"
    provided = {name.split(".")[0] for name in report["from_runtime_and_layer"]}
    assert {"aws_lambda_powertools", "boto3", "botocore", "jmespath"} <= provided


def test_the_import_check_fails_without_the_layer(tmp_path: Path, project_stacks: dict[str, Capture]) -> None:
    """The check is real: with the runtime alone (no Powertools layer) the package does not import."""
    package = tmp_path / "task"
    with zipfile.ZipFile(write_zip(_deployed_archive(project_stacks["dev"]), tmp_path / "package.zip")) as z:
        z.extractall(package)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _run_check(package, empty, [], ["boto3"])
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr
