"""The status page of `sandbox serve`, loaded in a headless Chromium (Debian's `chromium`, installed by .ci/run).

Chromium runs the page's script, so what is checked is what a browser shows: the stack's diagram (one box
per queue, topic and function), the live count of a DLQ holding a message, and the last-messages table the
page fills from /status.json by itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.serve.conftest import Client

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
# Under CI (`CI=true`, where .ci/run installs chromium) a missing browser fails instead of skipping.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="no chromium (.ci/run installs Debian's package)"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--virtual-time-budget=5000"]


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120)


def test_page_shows_the_diagram_live_counts_and_the_last_messages(server: Client) -> None:
    sent = server.post("email", {"to": "nobody-at-all"}).body["messageId"]
    assert server.settled(sent)["consumers"][0]["state"] == "dlq"
    dom = chromium("--dump-dom", f"{server.url}/").stdout
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="diagram"' in dom
    for name in ("ap-srv-orders", "ap-srv-orders-billing", "ap-srv-email", "ap-srv-email-retry-2", "ap-srv-email-dlq"):
        assert f'data-name="{name}"' in dom
    count = re.search(r'id="count-ap-srv-email-dlq">(\d+) visible · (\d+) in flight · (\d+) delayed<', dom)
    assert count is not None and int(count.group(1)) >= 1
    table = dom.split('<tbody id="messages">', 1)[1].split("</tbody>", 1)[0]
    assert f"<td>{sent}</td><td>email</td>" in table  # filled by the page's own script from /status.json
    assert "consumer: in DLQ (permanent: no valid recipient" in table
    assert "setInterval(refresh, 1000)" in dom
    assert "flowchart LR" in dom  # the Mermaid source of the same diagram


def test_page_renders_to_a_screenshot(server: Client, tmp_path: Path) -> None:
    shot = tmp_path / "status.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1200", f"{server.url}/")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
