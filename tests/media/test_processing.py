"""Media processing: WebP → JPEG, image facts, and MP4/MOV probing from hand-built boxes."""

from __future__ import annotations

import io
import struct
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from herald.media.processing import (
    ImageInfo,
    VideoInfo,
    fit_image,
    image_info,
    probe_video,
    webp_to_jpeg,
)
from media_support import (
    ROTATE_90,
    audio_trak,
    box,
    ftyp,
    mp4,
    mvhd,
    video_trak,
)

FPS_30 = video_trak(640, 360, 30000, [(60, 1000)])  # 60 frames of 1/30 s
NTSC_FILM = video_trak(1920, 1080, 24000, [(48, 1001)])  # 23.976 fps


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


def write(tmp_path: Path, data: bytes, name: str = "video.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode"), [("PNG", "RGB"), ("JPEG", "RGB"), ("WEBP", "RGBA"), ("GIF", "P")]
)
def test_image_info_reads_size_and_format(fmt: str, mode: str) -> None:
    data = encode(Image.new(mode, (30, 20)), fmt)
    assert image_info(data) == ImageInfo(30, 20, fmt)


@pytest.mark.parametrize(
    "data", [b"", b"not an image", encode(Image.new("RGB", (4, 4)), "PNG")[:20]]
)
def test_image_info_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a readable image"):
        image_info(data)


def test_webp_becomes_a_jpeg_of_the_same_size_and_colours() -> None:
    source = encode(Image.new("RGB", (64, 48), (200, 30, 40)), "WEBP", quality=100)
    jpeg = webp_to_jpeg(source)
    assert image_info(jpeg) == ImageInfo(64, 48, "JPEG")
    pixel = decode(jpeg).getpixel((32, 24))
    assert isinstance(pixel, tuple)
    assert all(abs(got - want) <= 8 for got, want in zip(pixel, (200, 30, 40), strict=True))


def test_transparency_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # left half fully transparent
    image.paste((255, 0, 0, 128), (20, 0, 40, 20))  # right half: half-transparent red
    jpeg = decode(webp_to_jpeg(encode(image, "WEBP", lossless=True)))
    assert jpeg.mode == "RGB"
    assert jpeg.size == (40, 20)
    white, pink = jpeg.getpixel((5, 10)), jpeg.getpixel((35, 10))
    assert isinstance(white, tuple)
    assert isinstance(pink, tuple)
    assert min(white) >= 250
    assert pink[0] >= 245
    assert 110 <= pink[1] <= 145
    assert 110 <= pink[2] <= 145


def test_an_animated_webp_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((0, 0, 255), (255, 255, 0))]
    source = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    pixel = decode(webp_to_jpeg(source)).getpixel((8, 8))
    assert isinstance(pixel, tuple)
    assert pixel[2] > 200
    assert pixel[0] < 50


def test_quality_is_passed_to_the_encoder() -> None:
    noisy = Image.effect_noise((128, 128), 80).convert("RGB")
    source = encode(noisy, "WEBP", lossless=True)
    assert len(webp_to_jpeg(source, quality=30)) < len(webp_to_jpeg(source, quality=95))


@pytest.mark.parametrize("data", [encode(Image.new("RGB", (8, 8)), "PNG"), b"garbage"])
def test_webp_to_jpeg_refuses_other_inputs(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"WebP|not a readable image"):
        webp_to_jpeg(data)


def test_an_image_within_the_limit_is_left_as_it_is() -> None:
    source = encode(Image.effect_noise((64, 64), 80).convert("RGB"), "PNG")
    assert fit_image(source, len(source)) is source


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_large_image_shrinks_under_the_limit_and_keeps_its_format(fmt: str) -> None:
    noisy = Image.effect_noise((900, 600), 90).convert("RGB")
    source = encode(noisy, fmt, quality=98) if fmt == "JPEG" else encode(noisy, fmt)
    limit = len(source) // 4
    fitted = fit_image(source, limit)
    assert len(fitted) <= limit
    info = image_info(fitted)
    assert info.format == fmt
    # The shape survives the shrinking: only whole steps of the same ratio.
    assert abs(info.width / info.height - 1.5) < 0.02


def test_a_jpeg_tries_lower_quality_before_losing_pixels() -> None:
    photo = Image.effect_noise((400, 400), 40).convert("RGB")
    source = encode(photo, "JPEG", quality=100)
    fitted = fit_image(source, len(encode(photo, "JPEG", quality=80)))
    info = image_info(fitted)
    assert (info.width, info.height, info.format) == (400, 400, "JPEG")


# --- video probing --------------------------------------------------------------------------


def test_probe_reads_brand_duration_size_and_frame_rate(tmp_path: Path) -> None:
    info = probe_video(write(tmp_path, mp4(FPS_30)))
    assert info == VideoInfo("isom", 2.0, 640, 360, 30.0, rotation=0, codec="avc1")


def test_probe_reads_fractional_frame_rates(tmp_path: Path) -> None:
    path = write(tmp_path, mp4(NTSC_FILM, duration=(24000, 48048), brand=b"mp42"))
    info = probe_video(path)
    assert info is not None
    assert info.brand == "mp42"
    assert info.duration_seconds == pytest.approx(2.002)
    assert (info.width, info.height) == (1920, 1080)
    assert info.fps == pytest.approx(24000 / 1001)


def test_frame_rate_sums_every_stts_entry(tmp_path: Path) -> None:
    # Variable timing: 30 frames of 1/30 s and 30 of 1/15 s, i.e. 60 frames in 3 s.
    trak = video_trak(320, 240, 90000, [(30, 3000), (30, 6000)])
    info = probe_video(write(tmp_path, mp4(trak, duration=(1000, 3000))))
    assert info is not None
    assert info.fps == pytest.approx(20.0)


def test_moov_after_mdat_is_found(tmp_path: Path) -> None:
    info = probe_video(write(tmp_path, mp4(FPS_30, moov_first=False)))
    assert info == VideoInfo("isom", 2.0, 640, 360, 30.0, rotation=0, codec="avc1")


def test_version_1_boxes_and_64_bit_sizes(tmp_path: Path) -> None:
    trak = video_trak(1280, 720, 60000, [(120, 1000)], version=1, codec=b"hvc1")
    data = mp4(trak, duration=(600, 1200), version=1, mdat=box(b"mdat", bytes(64), large=True))
    assert probe_video(write(tmp_path, data)) == VideoInfo(
        "isom", 2.0, 1280, 720, 60.0, rotation=0, codec="hvc1"
    )


def test_a_final_box_of_size_zero_runs_to_the_end_of_the_file(tmp_path: Path) -> None:
    open_ended = struct.pack(">I4s", 0, b"mdat") + bytes(1000)
    info = probe_video(write(tmp_path, mp4(FPS_30, mdat=open_ended)))
    assert info is not None
    assert info.fps == 30.0


def test_a_large_mdat_is_skipped_not_read(tmp_path: Path) -> None:
    # A 64 MiB sparse mdat in the 64-bit form, moov after it: probing must seek past it.
    mdat_size = 64 * 1024 * 1024
    path = tmp_path / "big.mp4"
    with path.open("wb") as out:
        out.write(ftyp() + struct.pack(">I4sQ", 1, b"mdat", mdat_size))
        out.seek(mdat_size - 16, io.SEEK_CUR)
        out.write(box(b"moov", mvhd(1000, 2000), FPS_30))
    tracemalloc.start()
    try:
        info = probe_video(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info is not None
    assert info.fps == 30.0
    assert peak < 256 * 1024


def test_the_first_video_track_is_used_not_the_first_track(tmp_path: Path) -> None:
    info = probe_video(write(tmp_path, mp4(audio_trak(), FPS_30, NTSC_FILM)))
    assert info is not None
    assert (info.width, info.height, info.fps) == (640, 360, 30.0)


def test_without_a_handler_box_a_track_with_a_size_counts_as_video(tmp_path: Path) -> None:
    trak = video_trak(640, 360, 30000, [(60, 1000)], handler=None)
    info = probe_video(write(tmp_path, mp4(trak)))
    assert info is not None
    assert (info.width, info.fps) == (640, 30.0)


def test_audio_only_files_have_no_picture(tmp_path: Path) -> None:
    assert probe_video(write(tmp_path, mp4(audio_trak(), brand=b"M4A "))) == VideoInfo(
        "M4A ", 2.0, None, None, None
    )


def test_rotation_comes_from_the_track_matrix(tmp_path: Path) -> None:
    trak = video_trak(1920, 1080, 30000, [(60, 1000)], matrix=ROTATE_90, codec=b"hvc1")
    info = probe_video(write(tmp_path, mp4(trak, brand=b"qt  ")))
    assert info is not None
    assert (info.brand, info.width, info.height, info.rotation) == ("qt  ", 1920, 1080, 90)


def test_every_truncation_inside_a_box_is_refused(tmp_path: Path) -> None:
    data = mp4(FPS_30)
    without_mdat = len(ftyp() + box(b"moov", mvhd(1000, 2000), FPS_30))  # whole boxes: valid
    path = tmp_path / "cut.mp4"
    # Every cut through the headers and tables, and a few through the (zero-filled) mdat.
    cuts = [*range(without_mdat), *range(without_mdat + 1, len(data), 37)]
    for length in cuts:
        path.write_bytes(data[:length])
        assert probe_video(path) is None, f"cut at {length} of {len(data)}"


def test_corrupted_header_bytes_never_raise(tmp_path: Path) -> None:
    data = mp4(NTSC_FILM)
    headers = len(ftyp() + box(b"moov", mvhd(1000, 2000), NTSC_FILM)) + 8
    path = tmp_path / "corrupt.mp4"
    for position in range(headers):
        for value in (0x00, 0xFF):
            path.write_bytes(data[:position] + bytes([value]) + data[position + 1 :])
            result = probe_video(path)
            assert result is None or isinstance(result, VideoInfo)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x18ftypisom",  # ftyp claims more bytes than the file has
        ftyp() + box(b"mdat", bytes(32)),  # no moov
        box(b"moov", mvhd(1000, 2000), FPS_30) + ftyp(),  # ftyp not first
        ftyp() + box(b"moov", FPS_30),  # no mvhd
        ftyp() + box(b"moov", mvhd(0, 2000), FPS_30),  # timescale 0
        ftyp() + box(b"moov", mvhd(1000, 2000)) + b"\x00\x00\x00",  # trailing bytes
        b"GIF89a" + bytes(100),
        bytes(range(256)) * 4,
    ],
)
def test_what_is_not_iso_bmff_gives_none(tmp_path: Path, data: bytes) -> None:
    assert probe_video(write(tmp_path, data)) is None


def test_a_missing_file_gives_none(tmp_path: Path) -> None:
    assert probe_video(tmp_path / "absent.mp4") is None
