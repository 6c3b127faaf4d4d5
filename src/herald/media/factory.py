"""The media store the settings ask for: local disk under the data dir (default) or S3."""

from __future__ import annotations

from herald.config import Settings
from herald.keys import derived_keys
from herald.media.base import MediaStore
from herald.media.local import LocalMediaStore
from herald.media.s3 import S3MediaStore


def create_media_store(settings: Settings) -> MediaStore:
    if settings.media_backend == "s3":
        return S3MediaStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key=settings.s3_access_key_id,
            secret_key=settings.s3_secret_access_key,
            public_base_url=settings.s3_public_url,
            reachable_networks=settings.media_reachable_networks,
        )
    signing, *older = derived_keys(settings, "herald media upload URLs")
    return LocalMediaStore(
        settings.data_dir / "media",
        settings.resolved_public_url,
        signing,
        older_keys=older,
        reachable_networks=settings.media_reachable_networks,
    )
