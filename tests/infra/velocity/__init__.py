"""API Gateway mapping templates rendered by Apache Velocity 1.7 (`ApiGatewayVtl.java`), one JVM per test session.

Debian's `velocity` and `libcommons-lang-java` packages provide the jars (`.ci/run` installs them with a
headless JRE where missing); the harness runs as a Java single-file source program, so nothing is built.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).resolve().parent / "ApiGatewayVtl.java"
JAR_DIR = Path("/usr/share/java")
JARS = (("velocity-1.7.jar", "velocity.jar"), ("commons-lang-2.6.jar", "commons-lang.jar"),
        ("commons-collections3.jar",))
"""Velocity 1.7 and its two dependencies, as the Debian packages install them (first name found wins)."""
PACKAGES = "velocity libcommons-lang-java and a Java >= 11 runtime"


@dataclass(frozen=True)
class Request:
    """What a template sees: `$input` (body and method request parameters) and `$context`."""

    template: str
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    querystring: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    output: str
    status: int | None
    """`$context.responseOverride.status` when the template set it."""
    error: str | None


def classpath() -> str | None:
    """The jars' class path, or None when a jar is missing."""
    found = []
    for names in JARS:
        jar = next((JAR_DIR / n for n in names if (JAR_DIR / n).is_file()), None)
        if jar is None:
            return None
        found.append(str(jar))
    return ":".join(found)


def missing() -> str | None:
    """Why templates cannot be rendered here (None: they can)."""
    java = shutil.which("java")
    if java is None or classpath() is None:
        return f"needs {PACKAGES} (.ci/run installs them)"
    return None


class Velocity:
    """One harness JVM: `render` sends a batch on one line and reads the answers' line."""

    def __init__(self) -> None:
        cp = classpath()
        if cp is None:
            raise RuntimeError(f"Velocity jars not found in {JAR_DIR}: install {PACKAGES}")
        self._process = subprocess.Popen(
            ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", cp, str(HARNESS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        )

    def render(self, requests: Sequence[Request]) -> list[Rendered]:
        assert self._process.stdin is not None and self._process.stdout is not None
        cases = [
            {"template": r.template, "body": r.body, "headers": dict(r.headers), "context": dict(r.context),
             "path": dict(r.path), "querystring": dict(r.querystring)}
            for r in requests
        ]
        self._process.stdin.write(json.dumps(cases) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            stderr = self._process.stderr.read() if self._process.stderr else ""
            raise RuntimeError(f"the Velocity harness stopped: {stderr}")
        answers = json.loads(line)
        return [Rendered(a["output"], None if a["status"] is None else int(a["status"]), a["error"]) for a in answers]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


def velocity_session() -> Iterator[Velocity]:
    """Generator for a session fixture: one JVM for every render of the session."""
    engine = Velocity()
    try:
        yield engine
    finally:
        engine.close()
