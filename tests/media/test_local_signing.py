"""LocalMediaStore: signed upload URLs, their verification, and streaming, size-capped uploads."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from herald.config import Settings
from herald.media.base import CHUNK_SIZE, MediaStoreError, StoredFile, UploadTicket
from herald.media.factory import create_media_store
from herald.media.local import LocalMediaStore, UploadRefused, UploadTooLarge
from media_support import chunks_of, read_chunks

KEY = "0123456789abcdef01234567/89abcdef0123456789abcdef/photo.png"
SIGNING_KEY = b"k" * 32
BASE_URL = "https://herald.example/base"
MIB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media", BASE_URL + "/", SIGNING_KEY)


@pytest.fixture
def expires_at() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def ticket(store: LocalMediaStore, expires_at: datetime) -> UploadTicket:
    return asyncio.run(store.presign_upload(KEY, "image/png", expires_at))


def url_fields(ticket: UploadTicket) -> dict[str, str]:
    query = parse_qs(urlsplit(ticket.upload_url).query, strict_parsing=True)
    return {name: values[0] for name, values in query.items()}


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_upload_url_has_the_documented_shape(ticket: UploadTicket, expires_at: datetime) -> None:
    url = urlsplit(ticket.upload_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE_URL}/media/upload/{KEY}"
    assert "contentType=image%2Fpng" in url.query
    expires = str(int(expires_at.timestamp()))
    message = f"{KEY}\n{expires}\nimage/png".encode()
    assert url_fields(ticket) == {
        "expires": expires,
        "contentType": "image/png",
        "signature": hmac.new(SIGNING_KEY, message, hashlib.sha256).hexdigest(),
    }
    assert ticket.file_url == f"{BASE_URL}/media/files/{KEY}"
    assert ticket.expires_at == expires_at


def verify(
    store: LocalMediaStore,
    fields: dict[str, str],
    sent: str | None = "image/png",
    now: datetime | None = None,
    key: str = KEY,
) -> None:
    store.verify_upload(
        key,
        fields["expires"],
        fields["contentType"],
        fields["signature"],
        sent,
        now or datetime.now(UTC),
    )


@pytest.mark.parametrize("sent", ["image/png", "IMAGE/PNG", "image/png; charset=binary"])
def test_the_signed_values_are_accepted(
    store: LocalMediaStore, ticket: UploadTicket, sent: str
) -> None:
    verify(store, url_fields(ticket), sent)


def refusal(store: LocalMediaStore, fields: dict[str, str], **kwargs: object) -> str:
    with pytest.raises(UploadRefused) as refused:
        verify(store, fields, **kwargs)  # type: ignore[arg-type]
    assert isinstance(refused.value, MediaStoreError)
    return refused.value.reason


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_an_expired_url_is_refused(
    store: LocalMediaStore, ticket: UploadTicket, expires_at: datetime, late: timedelta
) -> None:
    assert refusal(store, url_fields(ticket), now=expires_at + late) == "expired"


def test_the_url_works_until_its_last_second(
    store: LocalMediaStore, ticket: UploadTicket, expires_at: datetime
) -> None:
    verify(store, url_fields(ticket), now=expires_at - timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires", "9999999999"),
        ("contentType", "image/jpeg"),
        ("contentType", "image/png; x=1"),
        ("signature", "0" * 64),
        ("signature", ""),
        ("signature", "é" * 64),
    ],
)
def test_a_tampered_field_is_refused(
    store: LocalMediaStore, ticket: UploadTicket, field: str, value: str
) -> None:
    fields = {**url_fields(ticket), field: value}
    assert refusal(store, fields, sent=fields["contentType"]) == "bad_signature"


@pytest.mark.parametrize("key", [KEY.replace("photo", "other"), "a/b/c.png", "../etc/passwd"])
def test_a_url_for_another_key_is_refused(
    store: LocalMediaStore, ticket: UploadTicket, key: str
) -> None:
    assert refusal(store, url_fields(ticket), key=key) == "bad_signature"


def test_a_url_signed_with_another_key_is_refused(tmp_path: Path, ticket: UploadTicket) -> None:
    other = LocalMediaStore(tmp_path / "other", BASE_URL, b"x" * 32)
    assert refusal(other, url_fields(ticket)) == "bad_signature"


@pytest.mark.parametrize("sent", [None, "", "image/jpeg", "image/pngx", "text/plain"])
def test_another_content_type_is_refused(
    store: LocalMediaStore, ticket: UploadTicket, sent: str | None
) -> None:
    assert refusal(store, url_fields(ticket), sent=sent) == "content_type_mismatch"


def test_the_time_must_be_aware(store: LocalMediaStore, ticket: UploadTicket) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(store, url_fields(ticket), now=datetime(2030, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "image",
        "image/png\r\nX-Evil: 1",
        "image/ png",
        "image/png; x=1, text/html",
        "image/png;charset=binary",
        "image/png, text/html",
    ],
)
def test_presign_refuses_a_malformed_content_type(
    store: LocalMediaStore, expires_at: datetime, content_type: str
) -> None:
    with pytest.raises(ValueError, match="content type"):
        asyncio.run(store.presign_upload(KEY, content_type, expires_at))


def test_no_key_names_a_sidecar(store: LocalMediaStore) -> None:
    """Sidecars end in "~meta.json", and "~" is outside the key alphabet: a key ending in the
    old sidecar suffix is a file like any other, beside the file it would once have shadowed."""
    for key, data, content_type in [
        (KEY, b"png", "image/png"),
        (KEY + ".meta.json", b"{", "video/mp4"),
    ]:
        asyncio.run(store.receive(key, chunks_of(data), content_type=content_type))
    assert asyncio.run(store.stat(KEY)) == StoredFile(3, "image/png")
    assert asyncio.run(store.stat(KEY + ".meta.json")) == StoredFile(1, "video/mp4")
    asyncio.run(store.delete(KEY))
    assert b"".join(read_chunks(store, KEY + ".meta.json")) == b"{"
    with pytest.raises(ValueError, match="media key"):
        store.path_for(KEY + "~meta.json")


def test_files_stored_by_older_versions_keep_their_type(store: LocalMediaStore) -> None:
    """Older versions wrote `<name>.meta.json`; such a file is read, and deleted with its file."""
    path = store.path_for(KEY)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"png")
    legacy = path.with_name("photo.png.meta.json")
    legacy.write_text('{"contentType": "image/png"}')
    assert asyncio.run(store.stat(KEY)) == StoredFile(3, "image/png")
    asyncio.run(store.delete(KEY))
    assert files_under(store.root) == []


# --- receive --------------------------------------------------------------------------------


class CountingBody:
    """An upload body of `total` bytes in `size` chunks that counts what was taken from it."""

    def __init__(self, total: int, size: int = CHUNK_SIZE) -> None:
        self.total, self.size, self.taken = total, size, 0
        self.digest = hashlib.sha256()

    async def chunks(self) -> AsyncIterator[bytes]:
        while self.taken < self.total:
            chunk = (self.taken // self.size % 251).to_bytes(1, "big") * min(
                self.size, self.total - self.taken
            )
            self.taken += len(chunk)
            self.digest.update(chunk)
            yield chunk


def test_receive_over_the_limit_stops_early_and_keeps_nothing(store: LocalMediaStore) -> None:
    body = CountingBody(total=5 * MIB)
    with pytest.raises(UploadTooLarge) as too_large:
        asyncio.run(store.receive(KEY, body.chunks(), max_bytes=MIB))
    assert too_large.value.max_bytes == MIB
    assert body.taken == MIB + CHUNK_SIZE  # refused at the first chunk past the limit
    assert files_under(store.root) == []
    assert asyncio.run(store.stat(KEY)) is None


def test_receive_takes_exactly_the_limit(store: LocalMediaStore) -> None:
    assert asyncio.run(store.receive(KEY, CountingBody(MIB).chunks(), max_bytes=MIB)) == MIB


def test_a_refused_upload_leaves_the_earlier_file_alone(store: LocalMediaStore) -> None:
    asyncio.run(store.receive(KEY, chunks_of(b"first version"), content_type="image/png"))
    with pytest.raises(UploadTooLarge):
        asyncio.run(store.receive(KEY, CountingBody(2 * MIB).chunks(), max_bytes=MIB))
    assert b"".join(read_chunks(store, KEY)) == b"first version"
    assert files_under(store.root) == sorted([KEY, KEY + "~meta.json"])


def test_a_body_that_breaks_off_leaves_no_file(store: LocalMediaStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * CHUNK_SIZE
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(store.receive(KEY, broken()))
    assert files_under(store.root) == []


def test_a_cancelled_upload_leaves_no_file(store: LocalMediaStore) -> None:
    async def scenario() -> None:
        started = asyncio.Event()

        async def stalls() -> AsyncIterator[bytes]:
            yield b"x" * CHUNK_SIZE
            started.set()
            await asyncio.sleep(60)
            yield b"never"

        task = asyncio.create_task(store.receive(KEY, stalls()))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert files_under(store.root) == []


def test_receive_streams_a_large_body_in_bounded_memory(store: LocalMediaStore) -> None:
    body = CountingBody(total=50 * MIB)
    tracemalloc.start()
    try:
        size = asyncio.run(store.receive(KEY, body.chunks(), max_bytes=64 * MIB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 50 * MIB
    assert peak < 4 * MIB, f"peak {peak / MIB:.1f} MiB for a 50 MiB body"
    on_disk = hashlib.sha256()
    with store.path_for(KEY).open("rb") as stored:
        while block := stored.read(MIB):
            on_disk.update(block)
    assert on_disk.hexdigest() == body.digest.hexdigest()


def test_the_presigned_content_type_is_kept_and_can_be_overridden(
    store: LocalMediaStore, ticket: UploadTicket
) -> None:
    asyncio.run(store.receive(KEY, chunks_of(b"png bytes")))
    stored = asyncio.run(store.stat(KEY))
    assert stored is not None
    assert (stored.size, stored.content_type) == (9, "image/png")
    asyncio.run(store.receive(KEY, chunks_of(b"webp"), content_type="image/webp"))
    stored = asyncio.run(store.stat(KEY))
    assert stored is not None
    assert (stored.size, stored.content_type) == (4, "image/webp")


def test_a_file_without_metadata_is_octet_stream(store: LocalMediaStore) -> None:
    asyncio.run(store.receive(KEY, chunks_of(b"data")))
    stored = asyncio.run(store.stat(KEY))
    assert stored is not None
    assert stored.content_type == "application/octet-stream"


def test_a_key_under_a_file_is_a_store_error_not_a_crash(store: LocalMediaStore) -> None:
    asyncio.run(store.receive("a/b", chunks_of(b"file"), content_type="image/png"))
    with pytest.raises(MediaStoreError):
        asyncio.run(store.receive("a/b/c.png", chunks_of(b"nested"), content_type="image/png"))
    assert asyncio.run(store.stat("a/b/c.png")) is None
    asyncio.run(store.delete("a/b/c.png"))


def test_an_upload_url_signed_before_a_key_rotation_still_works_until_the_key_is_pruned(
    tmp_path: Path, expires_at: datetime
) -> None:
    """`herald secrets rotate` puts a new key first; URLs handed out before it (valid for an
    hour) must keep working after a restart, and stop once the old key is pruned."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def store_with(ring: str) -> LocalMediaStore:
        settings = Settings(data_dir=tmp_path / "data", secret_key=ring, public_url=BASE_URL)
        made = create_media_store(settings)
        assert isinstance(made, LocalMediaStore)
        return made

    before = store_with(old)
    fields = url_fields(asyncio.run(before.presign_upload(KEY, "image/png", expires_at)))
    verify(store_with(f"{new},{old}"), fields)  # rotated: the old key still opens
    assert refusal(store_with(new), fields) == "bad_signature"  # pruned
    fresh = url_fields(
        asyncio.run(store_with(f"{new},{old}").presign_upload(KEY, "image/png", expires_at))
    )
    verify(store_with(new), fresh)  # new URLs are signed with the new key
