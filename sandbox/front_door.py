"""Each pipeline's HTTP front door as a reviewer needs to see it: auth, public, throttle, maxBodyBytes.

`sandbox plan` and the `sandbox serve` status page both show it, so an API that anyone can call
(`auth: none`, `public: true`) is visible before it is deployed, not found later in the console.
Read from the validated stack config (`http:` of each enabled pipeline, docs/http.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config import StackConfig

OPEN_WARNING = "anyone who can reach the URL can send"


@dataclass(frozen=True)
class FrontDoor:
    """One enabled pipeline's `http:`; `auth` None: the pipeline has no API in AWS."""

    pipeline: str
    auth: str | None
    public: bool = False
    throttle_rate: float = 0.0
    throttle_burst: int = 0
    max_body_bytes: int = 0

    @property
    def open(self) -> bool:
        return self.auth == "none"

    def describe(self) -> str:
        """One line: `auth none (anyone ...) · public · throttle 10/s burst 20 · maxBodyBytes 1024`."""
        if self.auth is None:
            return "no HTTP front door (no API in AWS)"
        auth = f"auth {self.auth}" + (f" ({OPEN_WARNING})" if self.open else "")
        return (f"POST /pipelines/{self.pipeline} · {auth} · {'public' if self.public else 'private'} · "
                f"throttle {self.throttle_rate:g}/s burst {self.throttle_burst} · maxBodyBytes {self.max_body_bytes}")


def front_doors(config: StackConfig) -> list[FrontDoor]:
    """Every enabled pipeline, in config order."""
    doors = []
    for p in config.enabled_pipelines:
        h = p.http
        if h is None:
            doors.append(FrontDoor(p.name, None))
        else:
            doors.append(FrontDoor(p.name, h.auth, h.public, h.throttle_rate, h.throttle_burst, h.max_body_bytes))
    return doors


def markdown(doors: list[FrontDoor]) -> str:
    """A Markdown table for `sandbox plan`'s report (a pull-request comment)."""
    rows = ["| pipeline | auth | public | throttle | maxBodyBytes |", "|---|---|---|---|---|"]
    for d in doors:
        if d.auth is None:
            rows.append(f"| `{d.pipeline}` | no HTTP front door | | | |")
            continue
        auth = f"**none** ({OPEN_WARNING})" if d.open else d.auth
        rows.append(f"| `{d.pipeline}` | {auth} | {'yes' if d.public else 'no'} | "
                    f"{d.throttle_rate:g}/s, burst {d.throttle_burst} | {d.max_body_bytes} |")
    return "\n".join(rows) + "\n"


def text(doors: list[FrontDoor]) -> str:
    return "HTTP front doors:\n" + "".join(f"  {d.pipeline}: {d.describe()}\n" for d in doors)
