"""`python -m ops.smoke --endpoint-url` against `python -m sandbox serve --aws-port`: every consumer answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stack_capture import capture_stack
from tests.serve.conftest import PIPELINES, REGION, ROOT


def test_smoke_through_the_served_aws_api(served: dict[str, str], tmp_path: Path) -> None:
    outputs = capture_stack("srv", config={"aws:region": REGION, "async-pipelines:pipelines": PIPELINES}).outputs
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing"}
    done = subprocess.run(
        [sys.executable, "-m", "ops.smoke", "--stack", "srv", "--outputs", str(path), "--endpoint-url",
         served["aws"], "--timeout", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.strip().splitlines()[1:]
    consumers = {tuple(r.split()[:2]) for r in rows}
    assert {("orders", "billing"), ("accounts", "compute"), ("media", "download")} <= consumers
    assert all(r.split()[2] == "OK" for r in rows), done.stdout
