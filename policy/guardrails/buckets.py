"""S3 bucket names: a fixed name is global across every AWS account.

S3 user guide, "Namespaces for general purpose buckets": names in the shared global namespace are unique
across all accounts of a partition, a deleted name can be re-created by anyone, and code should not assume
a chosen name is available. A fixed name such as ``<project>-<stack>-results`` therefore makes the first
deploy of a second user fail with ``BucketAlreadyExists`` (or lets whoever took the name first decide).
Accepted as unique: Pulumi auto-naming (``<logical name>-<7 hex>``), ``bucketPrefix``, a name containing
the 12-digit account id, and buckets in the account regional namespace (``bucketNamespace =
"account-regional"``, names ending ``-<account>-<region>-an``, creatable only by that account).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from .model import Resource, text

_ACCOUNT_ID: Final = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _autonamed(bucket: Resource, name: str) -> bool:
    """Pulumi's auto-name: the logical name, a dash and 7 random hex digits (computed by the provider)."""
    return re.fullmatch(re.escape(bucket.name) + r"-[0-9a-f]{7}", name) is not None


def check_bucket_name_unique(bucket: Resource) -> Iterator[str]:
    name = text(bucket.get("bucket"))
    if not isinstance(name, str) or text(bucket.get("bucketPrefix")) is not None:
        return  # auto-named / prefixed (name computed), or unknown during a preview
    if bucket.get("bucketNamespace") == "account-regional" or _ACCOUNT_ID.search(name) or _autonamed(bucket, name):
        return
    yield (
        f'{bucket.label} has the fixed name "{name}": S3 bucket names are global across all AWS accounts, so '
        "the next account to deploy this program fails with BucketAlreadyExists (and anyone may take the name "
        "first). Fix: drop `bucket` and let Pulumi auto-name it, use bucket_prefix, or put the account id in "
        "the name (or bucket_namespace=\"account-regional\"); export the real name for whoever reads it. An "
        "existing bucket you own and import may keep its name: then this warning can be ignored."
    )
