"""Uploaded media as the X simulator holds it: a session from initialize, its appended
segments, its processing after finalize, and whether a tweet may attach it."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

# media_key prefixes X uses per kind (3_ photo, 16_ animated GIF, 7_ video, 13_ amplify video).
KEY_PREFIX = {"tweet_image": "3", "tweet_gif": "16", "tweet_video": "7", "amplify_video": "13"}
EXPIRES_AFTER_S = 86400  # a media id is attachable for a day after its upload started
BAD_MEDIA = "Your media IDs are invalid."


@dataclass(slots=True)
class SimMedia:
    id: str
    owner_id: str
    category: str  # tweet_image | tweet_gif | tweet_video
    media_type: str
    total_bytes: int
    created: float = field(default_factory=time.monotonic)
    segments: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    finalized_at: float = 0.0  # time.monotonic() of the first finalize
    ready_at: float = 0.0  # time.monotonic() when processing ends
    fails: bool = False  # processing ends in failure
    alt_text: str | None = None  # set through POST /2/media/metadata

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX[self.category]}_{self.id}"

    @property
    def size(self) -> int:
        return sum(len(chunk) for chunk in self.segments.values())

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for index in sorted(self.segments):
            digest.update(self.segments[index])
        return digest.hexdigest()

    def state(self) -> str | None:
        """X's processing_info state: None for media that needs no processing (images)."""
        if not self.finalized:
            return "pending"
        if self.category == "tweet_image":
            return None
        if time.monotonic() < self.ready_at:
            progress = self.progress()
            return "pending" if progress == 0 else "in_progress"
        return "failed" if self.fails else "succeeded"

    def progress(self) -> int:
        if not self.finalized or time.monotonic() >= self.ready_at:
            return 100
        total = max(self.ready_at - self.finalized_at, 1e-9)
        return min(99, int(100 * (time.monotonic() - self.finalized_at) / total))

    def attachable(self) -> bool:
        expired = time.monotonic() - self.created > EXPIRES_AFTER_S
        return self.finalized and self.state() in (None, "succeeded") and not expired


def refusal(media: dict[str, SimMedia], ids: list[str], owner_id: str) -> str | None:
    """Why a tweet may not attach `ids`, or None: each must be the caller's, finalized and
    processed; photos go up to four, a GIF or a video alone."""
    found = [media.get(media_id) for media_id in ids]
    if any(m is None or m.owner_id != owner_id or not m.attachable() for m in found):
        return BAD_MEDIA
    kinds = {m.category for m in found if m is not None}
    if kinds - {"tweet_image"} and len(ids) > 1:
        return BAD_MEDIA
    return None
