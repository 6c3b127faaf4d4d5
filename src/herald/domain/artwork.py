"""What Herald accepts as a YouTube thumbnail or an Instagram Reels cover (publora-latest §2.7,
§2.8), with Publora's exact refusals. Pure rules: the service reads the image's facts."""

from __future__ import annotations

from dataclasses import dataclass

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class ArtworkRule:
    purpose: str  # stored in post_artwork.purpose
    field: str  # the multipart field carrying the file
    label: str  # how Publora's messages name the upload
    formats: frozenset[str]  # Pillow format names
    max_bytes: int
    min_size: tuple[int, int] | None
    bad_type: str
    too_large: str
    too_small: str | None
    file_name: str  # the stored file's name
    too_large_after_conversion: str | None = None


YOUTUBE_THUMBNAIL = ArtworkRule(
    purpose="youtube_thumbnail",
    field="thumbnail",
    label="YouTube thumbnail",
    formats=frozenset({"JPEG", "PNG"}),
    max_bytes=2 * MEGABYTE,
    min_size=(640, 360),
    bad_type="YouTube thumbnails must be JPEG or PNG images",
    too_large="YouTube thumbnails must be 2 MB or smaller",
    too_small="YouTube thumbnails must be at least 640x360 pixels",
    file_name="thumb",
)
INSTAGRAM_COVER = ArtworkRule(
    purpose="instagram_cover",
    field="cover",
    label="Instagram cover",
    formats=frozenset({"JPEG", "PNG", "WEBP"}),
    max_bytes=8 * MEGABYTE,
    min_size=None,
    bad_type="Instagram covers must be JPEG, PNG, or WebP images",
    too_large="Instagram covers must be 8 MB or smaller",
    too_small=None,
    file_name="reel-cover",
    too_large_after_conversion=(
        "Instagram cover exceeds 8 MB after JPEG conversion; use a smaller image"
    ),
)
# Room for the multipart framing and the postGroupId field around the largest file.
FORM_OVERHEAD_BYTES = 64 * 1024
