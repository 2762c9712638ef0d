"""`sandbox serve` for the tests' own stack config, in a process of its own (argv[1]: the config as JSON).

A separate process keeps its in-process moto apart from the moto of other tests in the same worker.
Prints the URL once serving; stops on SIGTERM like `python -m sandbox serve`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from sandbox.serve import ServeOptions, serve


def main() -> None:
    settings = json.loads(sys.argv[1])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    options = ServeOptions(stack=settings["stack"], port=0, api_key=settings["apiKey"], config=settings["config"],
                           aws_port=settings.get("awsPort"))
    serve(options, stop, lambda url, aws: print(json.dumps({"url": url, "aws": aws}), flush=True))


if __name__ == "__main__":
    main()
    # Served and stopped cleanly: skip the interpreter's teardown of a large frozen heap (~0.5 s per server,
    # which the test that stops it waits out). `python -m sandbox serve` itself exits normally.
    sys.stdout.flush()
    os._exit(0)
