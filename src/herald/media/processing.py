"""Media processing: WebP → JPEG, images shrunk to a byte limit, image facts, and MP4/MOV
probing without ffmpeg."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

# An stts table is read this many entries at a time, however long it is.
_STTS_BATCH = 4096
_UNKNOWN_DURATION = (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str  # Pillow's name: "JPEG", "PNG", "GIF", "WEBP", ...


@dataclass(frozen=True)
class VideoInfo:
    brand: str  # the ftyp major brand, e.g. "isom", "mp42", "qt  "
    duration_seconds: float  # 0.0 when the file does not say (fragmented MP4)
    width: int | None  # the first video track's size before rotation; None without video
    height: int | None
    fps: float | None  # None when the track has no sample timing
    rotation: int = 0  # 0, 90, 180 or 270: how players turn the picture (phones film sideways)
    codec: str | None = None  # first sample entry of the video track, e.g. "avc1", "hvc1"


def _open_image(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except (OSError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError, truncation
        raise ValueError(f"not a readable image: {exc}") from exc


def image_info(data: bytes) -> ImageInfo:
    """Size and format from the header; ValueError when `data` is not an image Pillow reads."""
    with _open_image(data) as image:
        return ImageInfo(image.width, image.height, image.format or "")


def webp_to_jpeg(data: bytes, quality: int = 90) -> bytes:
    """The WebP's first frame as a JPEG of the same size; transparency is flattened on white."""
    with _open_image(data) as image:
        if image.format != "WEBP":
            raise ValueError(f"expected a WebP image, got {image.format}")
        try:
            flattened = _flatten_on_white(image)
        except OSError as exc:  # truncated or corrupt pixel data
            raise ValueError(f"not a readable image: {exc}") from exc
        icc_profile = image.info.get("icc_profile")
    out = io.BytesIO()
    flattened.save(out, "JPEG", quality=quality, icc_profile=icc_profile)
    return out.getvalue()


def image_to_jpeg(data: bytes, quality: int = 90) -> bytes:
    """Any readable image's first frame as a JPEG of the same size, transparency on white."""
    with _open_image(data) as image:
        try:
            flattened = _flatten_on_white(image)
        except OSError as exc:  # truncated or corrupt pixel data
            raise ValueError(f"not a readable image: {exc}") from exc
    out = io.BytesIO()
    flattened.save(out, "JPEG", quality=quality)
    return out.getvalue()


def fit_image(data: bytes, max_bytes: int) -> bytes:
    """`data` itself when it is at most `max_bytes`, else the same image in the same format made
    smaller: a JPEG first at lower quality, then (any format) scaled down step by step. The
    format is kept so the content type the platform was promised stays true."""
    if len(data) <= max_bytes:
        return data
    with _open_image(data) as image:
        fmt = image.format or "PNG"
        try:
            image.load()
        except OSError as exc:
            raise ValueError(f"not a readable image: {exc}") from exc
        options: dict[str, object] = {}
        if "icc_profile" in image.info:
            options["icc_profile"] = image.info["icc_profile"]
        picture = image.convert("RGB") if fmt == "JPEG" and image.mode != "RGB" else image
        if fmt == "JPEG":
            for quality in _JPEG_QUALITIES:
                encoded = _encode(picture, fmt, quality=quality, **options)
                if len(encoded) <= max_bytes:
                    return encoded
        scale = 1.0
        while True:
            scale *= _SHRINK_STEP
            size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
            smaller = picture.resize(size, Image.Resampling.LANCZOS)
            extra = {"quality": _JPEG_QUALITIES[-1]} if fmt == "JPEG" else {}
            encoded = _encode(smaller, fmt, **extra, **options)
            if len(encoded) <= max_bytes or size == (1, 1):
                return encoded


# JPEG qualities tried before scaling down; below ~70 artefacts show on photos.
_JPEG_QUALITIES = (85, 78, 70)
# Each scaling step keeps this much of each side (about half the pixels).
_SHRINK_STEP = 0.7


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _flatten_on_white(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


# --- ISO-BMFF (MP4, MOV) --------------------------------------------------------------------


class _MalformedError(Exception):
    """The file breaks the box structure; `probe_video` answers None."""


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # first byte after the header
    end: int


@dataclass(frozen=True)
class _Track:
    width: int
    height: int
    rotation: int
    fps: float | None
    codec: str | None


def probe_video(path: Path) -> VideoInfo | None:
    """Brand, duration and the first video track's size and frame rate of an MP4/MOV file,
    or None if it is not a well-formed ISO-BMFF file. Seeks from box to box, so only headers
    and small tables are read; `moov` may come before or after `mdat`."""
    try:
        with path.open("rb") as handle:
            return _probe(handle, os.fstat(handle.fileno()).st_size)
    except (_MalformedError, OSError):
        return None


def _probe(handle: BinaryIO, size: int) -> VideoInfo:
    boxes = list(_children(handle, 0, size))
    if not boxes or boxes[0].kind != b"ftyp":
        raise _MalformedError("an ISO-BMFF file starts with ftyp")
    brand = _read_at(handle, boxes[0].start, 4, boxes[0].end).decode("latin-1")
    moov = next((box for box in boxes if box.kind == b"moov"), None)
    if moov is None:
        raise _MalformedError("no moov box")
    duration = _movie_duration(handle, _child(handle, moov, b"mvhd"))
    track = _first_video_track(handle, moov)
    if track is None:
        return VideoInfo(brand, duration, None, None, None)
    return VideoInfo(
        brand, duration, track.width, track.height, track.fps, track.rotation, track.codec
    )


def _children(handle: BinaryIO, start: int, end: int) -> Iterator[_Box]:
    position = start
    while position < end:
        size, kind = struct.unpack(">I4s", _read_at(handle, position, 8, end))
        header = 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack(">Q", _read_at(handle, position + 8, 8, end))
            header = 16
        elif size == 0:  # the box runs to the end of its container
            size = end - position
        if size < header or position + size > end:
            raise _MalformedError(f"box {kind!r} at {position} overruns its container")
        yield _Box(kind, position + header, position + size)
        position += size


def _child(handle: BinaryIO, parent: _Box | None, kind: bytes) -> _Box | None:
    if parent is None:
        return None
    return next(
        (box for box in _children(handle, parent.start, parent.end) if box.kind == kind), None
    )


def _path(handle: BinaryIO, parent: _Box | None, *kinds: bytes) -> _Box | None:
    for kind in kinds:
        parent = _child(handle, parent, kind)
    return parent


def _read_at(handle: BinaryIO, offset: int, length: int, end: int | None = None) -> bytes:
    if end is not None and offset + length > end:
        raise _MalformedError(f"{length} bytes at {offset} run past the container")
    handle.seek(offset)
    data = handle.read(length)
    if len(data) != length:
        raise _MalformedError("file ends early")
    return data


def _full_box(handle: BinaryIO, box: _Box, v0: str, v1: str) -> tuple[int, ...]:
    """The fields of a version 0 or 1 full box, laid out by the struct formats given."""
    version = _read_at(handle, box.start, 1, box.end)[0]
    layout = ">" + (v1 if version == 1 else v0)
    return struct.unpack(layout, _read_at(handle, box.start + 4, struct.calcsize(layout), box.end))


def _movie_duration(handle: BinaryIO, mvhd: _Box | None) -> float:
    if mvhd is None:
        raise _MalformedError("no mvhd box")
    timescale, duration = _full_box(handle, mvhd, "8xII", "16xIQ")
    if timescale == 0:
        raise _MalformedError("mvhd timescale is 0")
    return 0.0 if duration in _UNKNOWN_DURATION else duration / timescale


def _first_video_track(handle: BinaryIO, moov: _Box) -> _Track | None:
    for trak in _children(handle, moov.start, moov.end):
        if trak.kind == b"trak" and _is_video(handle, trak):
            return _track(handle, trak)
    return None


def _is_video(handle: BinaryIO, trak: _Box) -> bool:
    hdlr = _path(handle, trak, b"mdia", b"hdlr")
    if hdlr is not None:
        return _read_at(handle, hdlr.start + 8, 4, hdlr.end) == b"vide"
    # Without a handler box, a track with a picture size is the best sign of video.
    tkhd = _child(handle, trak, b"tkhd")
    return tkhd is not None and _track_header(handle, tkhd)[0] > 0


def _track(handle: BinaryIO, trak: _Box) -> _Track:
    tkhd = _child(handle, trak, b"tkhd")
    if tkhd is None:
        raise _MalformedError("trak without tkhd")
    width, height, rotation = _track_header(handle, tkhd)
    mdia = _child(handle, trak, b"mdia")
    stbl = _path(handle, mdia, b"minf", b"stbl")
    return _Track(width, height, rotation, _frame_rate(handle, mdia, stbl), _codec(handle, stbl))


def _track_header(handle: BinaryIO, tkhd: _Box) -> tuple[int, int, int]:
    # After the times and ids: 8 reserved, layer, group, volume, 2 reserved, a 3x3 matrix,
    # then width and height as 16.16 fixed point.
    a, b, _, c, d, _, _, _, _, width, height = _full_box(handle, tkhd, "20x8x8x9iII", "32x8x8x9iII")
    return width >> 16, height >> 16, _rotation(a, b, c, d)


def _rotation(a: int, b: int, c: int, d: int) -> int:
    # The matrix's top-left 2x2 in 16.16: [a b; c d] = [cos sin; -sin cos] for a turn.
    one = 1 << 16
    turns = {(0, one, -one, 0): 90, (-one, 0, 0, -one): 180, (0, -one, one, 0): 270}
    return turns.get((a, b, c, d), 0)


def _frame_rate(handle: BinaryIO, mdia: _Box | None, stbl: _Box | None) -> float | None:
    mdhd = _child(handle, mdia, b"mdhd")
    stts = _child(handle, stbl, b"stts")
    if mdhd is None or stts is None:
        return None
    timescale = _full_box(handle, mdhd, "8xI", "16xI")[0]
    samples, ticks = _sample_timing(handle, stts)
    if timescale == 0 or ticks == 0:
        return None
    return samples * timescale / ticks


def _sample_timing(handle: BinaryIO, stts: _Box) -> tuple[int, int]:
    """Total samples and total duration in media ticks, summed over the stts table."""
    (count,) = struct.unpack(">I", _read_at(handle, stts.start + 4, 4, stts.end))
    samples = ticks = 0
    position = stts.start + 8
    while count:
        batch = min(count, _STTS_BATCH)
        values = struct.unpack(f">{2 * batch}I", _read_at(handle, position, 8 * batch, stts.end))
        samples += sum(values[0::2])
        ticks += sum(n * delta for n, delta in zip(values[0::2], values[1::2], strict=True))
        position += 8 * batch
        count -= batch
    return samples, ticks


def _codec(handle: BinaryIO, stbl: _Box | None) -> str | None:
    stsd = _child(handle, stbl, b"stsd")
    if stsd is None or stsd.end - stsd.start < 16:
        return None
    return _read_at(handle, stsd.start + 12, 4, stsd.end).decode("latin-1")
