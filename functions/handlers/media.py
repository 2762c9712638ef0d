"""Media: a three-stage chain ``download -> thumbnail -> publish`` (each returns the next stage's message).

``download``  ``{"url": "https://cdn.example.com/cat.jpg"}`` (optional ``"id"``) -> media metadata
``thumbnail`` the metadata -> metadata + ``thumbnail`` geometry (images and videos only)
``publish``   writes the final record to ``AP_RESULTS_BUCKET`` with ``put_json`` and returns its URI

The "download" is simulated from a hash of the URL, so every run gives the same sizes.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from handlers.common import carry_simulation, require_str, simulate
from pipeline_runtime import PermanentError, put_json

__all__ = ["CONTENT_TYPES", "SAMPLE_MEDIA", "THUMBNAIL_WIDTH", "download", "publish", "thumbnail"]

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "pdf": "application/pdf",
}
THUMBNAIL_WIDTH = 128

SAMPLE_MEDIA: dict[str, Any] = {"url": "https://cdn.example.com/photos/cat.jpg"}


def download(message: dict[str, Any]) -> dict[str, Any]:
    url = require_str(message, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentError(f"'url' must be an http(s) URL, got {url!r}")
    extension = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path.rsplit("/", 1)[-1] else ""
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:
        raise PermanentError(f"unsupported media type {extension or '(none)'!r} in {url!r}")
    simulate(message, "download", timeout="origin server timed out", throttle="origin server throttled")

    digest = hashlib.sha256(url.encode()).hexdigest()
    media_id = require_str(message, "id", token=True) if "id" in message else f"m-{digest[:12]}"
    result: dict[str, Any] = {
        "media_id": media_id,
        "url": url,
        "content_type": content_type,
        "size_bytes": 10_000 + int(digest[:8], 16) % 5_000_000,
    }
    if content_type.startswith(("image/", "video/")):
        result["width"] = 640 + int(digest[8:11], 16) % 3200
        result["height"] = 480 + int(digest[11:14], 16) % 2400
    return carry_simulation(message, result)


def thumbnail(message: dict[str, Any]) -> dict[str, Any]:
    require_str(message, "media_id", token=True)
    content_type = require_str(message, "content_type")
    if not content_type.startswith(("image/", "video/")):
        raise PermanentError(f"cannot make a thumbnail of {content_type}")
    width, height = message.get("width"), message.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        raise PermanentError("'width' and 'height' must be positive integers")
    assert isinstance(width, int) and isinstance(height, int)
    simulate(message, "thumbnail", timeout="image service timed out", throttle="image service throttled")
    scaled = max(1, round(height * THUMBNAIL_WIDTH / width))
    result = {**message, "thumbnail": {"width": THUMBNAIL_WIDTH, "height": scaled, "format": "image/webp"}}
    return carry_simulation(message, result)


def publish(message: dict[str, Any]) -> dict[str, Any]:
    media_id = require_str(message, "media_id", token=True)
    thumb = message.get("thumbnail")
    if not isinstance(thumb, dict):
        raise PermanentError("'thumbnail' is required (run the thumbnail stage first)")
    simulate(message, "publish", timeout="results store timed out", throttle="results store throttled")
    record = {
        "media_id": media_id,
        "url": message.get("url"),
        "content_type": message.get("content_type"),
        "size_bytes": message.get("size_bytes"),
        "thumbnail": thumb,
        "status": "published",
    }
    return {"media_id": media_id, "result": put_json(media_id, record)}
