"""Write every stack's captured resources as canonical JSON, to prove a refactor changes nothing.

    python scripts/capture_snapshot.py /tmp/before      # on the commit before the refactor
    python scripts/capture_snapshot.py /tmp/after       # after it
    diff -r /tmp/before /tmp/after                      # empty: byte-identical captures

Each resource is written with its URN (type chain and names, so no resource would be replaced), parent,
dependencies and inputs; file assets are written as the SHA-256 of their content (what the engine
compares), and the stack outputs follow. Keys are sorted; resources keep their registration order.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pulumi

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "functions")]

from stack_capture import Capture, capture_stack, stack_names  # noqa: E402


def _plain(value: Any) -> Any:
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _plain(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        return {"sha256": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
    if isinstance(value, pulumi.FileArchive):
        return {"file_archive": value.path}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(capture: Capture) -> str:
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "dependencies": sorted(r.dependencies),
            "property_dependencies": {k: sorted(v) for k, v in sorted(r.property_dependencies.items())},
            "inputs": _plain(r.inputs),
        }
        for r in capture.resources
    ]
    # Registration order of siblings under mocks can vary between runs; sort for a stable file.
    resources.sort(key=lambda r: r["urn"])
    return json.dumps({"resources": resources, "outputs": _plain(capture.outputs)}, indent=1, sort_keys=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/capture_snapshot.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for stack in stack_names():
        (out / f"{stack}.json").write_text(snapshot(capture_stack(stack)) + "\n")
        print(f"{out / stack}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
