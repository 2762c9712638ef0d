"""``python -m producer send --stack dev --pipeline orders --file msgs.jsonl`` (see producer/cli.py)."""

import sys

from producer.cli import main

sys.exit(main())
