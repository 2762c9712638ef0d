"""The Lambda deployment package: the Python sources under functions/, nothing else, the same every time.

`FileArchive("functions")` zips whatever the directory holds - after the tests run that includes
`__pycache__/*.pyc`, so every `pulumi preview` showed a code change and shipped junk. An archive of
explicit file assets, from a sorted list of source files, hashes the same whatever ran before.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pulumi

from components import defaults as d

EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test"})


def is_test_file(path: Path) -> bool:
    return path.name == "conftest.py" or path.name.startswith("test_") or path.name.endswith("_test.py")


def source_files(root: Path = d.FUNCTIONS_DIR) -> list[Path]:
    """Every `*.py` under `root` that the Lambda runtime imports, sorted by its path in the package."""
    found = [
        p
        for p in root.rglob("*.py")
        if p.is_file() and not EXCLUDED_DIRS & set(p.relative_to(root).parts[:-1]) and not is_test_file(p)
    ]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


@cache
def lambda_package(root: Path = d.FUNCTIONS_DIR) -> pulumi.AssetArchive:
    """The archive every consumer's function is deployed from: `<path in package>` -> file asset."""
    return pulumi.AssetArchive({p.relative_to(root).as_posix(): pulumi.FileAsset(str(p)) for p in source_files(root)})
