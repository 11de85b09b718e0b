"""Citizen photos: decoded truth decides the type, metadata and payloads never survive re-encoding."""

import io
import os
import struct
import zipfile
import zlib

import pytest
from django.conf import settings

if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    # Runs without the project settings too (pytest -p no:django): messages stay untranslated Spanish.
    settings.configure(USE_I18N=False)

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import ExifTags, Image, ImageDraw

from geo_siac.reports import photos
from geo_siac.reports.photos import ProcessedPhoto, process_photo

GPS_IFD = ExifTags.IFD.GPSInfo  # 34853


# --- builders -------------------------------------------------------------------------------------------


def _picture(size=(800, 600), mode="RGB") -> Image.Image:
    image = Image.new("RGB", size, (30, 120, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, size[0] // 2, size[1] // 3], fill=(220, 40, 40))  # marks the top-left corner
    draw.ellipse([size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2], fill=(250, 250, 0))
    return image.convert(mode) if mode != "RGB" else image


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _jpeg_with_gps(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CámaraDePrueba"
    exif[ExifTags.Base.Model] = "Modelo 1"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (33.0, 26.0, 15.5)  # Santiago
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (70.0, 39.0, 2.0)
    return _encode(_picture(), "JPEG", quality=95, exif=exif, comment=b"secret comment")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width x height, single colour, a few dozen KB on disk."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _messages(excinfo) -> list[str]:
    return [str(message) for message in excinfo.value.messages]


def _reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- metadata -------------------------------------------------------------------------------------------


def test_jpeg_gps_exif_and_comment_are_removed():
    data = _jpeg_with_gps()
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(GPS_IFD)  # the test input really carries a position
    assert b"secret comment" in data

    photo = process_photo(data)

    assert isinstance(photo, ProcessedPhoto)
    assert (photo.content_type, photo.extension, photo.width, photo.height) == ("image/jpeg", "jpg", 800, 600)
    for blob in (photo.image, photo.thumbnail):
        output = _reopen(blob)
        assert output.format == "JPEG"
        assert len(output.getexif()) == 0
        assert not output.getexif().get_ifd(GPS_IFD)
        assert "exif" not in output.info and "comment" not in output.info and "icc_profile" not in output.info
        assert b"Exif\x00\x00" not in blob and b"secret comment" not in blob and "CámaraDePrueba".encode() not in blob


def test_exif_orientation_is_applied_then_dropped():
    photo = process_photo(_jpeg_with_gps(orientation=6))  # 6 = rotate 90° clockwise to display
    assert (photo.width, photo.height) == (600, 800)
    output = _reopen(photo.image)
    assert output.size == (600, 800)
    assert ExifTags.Base.Orientation not in output.getexif()
    # The red block that was top-left is now top-right.
    red, _green, blue = output.getpixel((output.width - 10, 10))
    assert red > 180 and blue < 90


def test_png_text_chunks_are_removed():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    data = _encode(_picture(), "PNG", pnginfo=info, exif=_jpeg_exif_bytes())
    photo = process_photo(data)
    assert photo.content_type == "image/png"
    assert b"<script>" not in photo.image and b"tEXt" not in photo.image and b"eXIf" not in photo.image
    assert len(_reopen(photo.image).getexif()) == 0


def _jpeg_exif_bytes() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD)[ExifTags.GPS.GPSLatitudeRef] = "S"
    return exif.tobytes()


# --- the decoded type wins ------------------------------------------------------------------------------


def test_png_named_jpg_is_accepted_as_png():
    upload = SimpleUploadedFile("photo.jpg", _encode(_picture(), "PNG"), content_type="image/jpeg")
    upload.read()  # form validation may already have consumed the stream
    photo = process_photo(upload)
    assert (photo.content_type, photo.extension) == ("image/png", "png")
    assert _reopen(photo.image).format == "PNG"


def test_text_file_named_jpg_is_rejected():
    upload = SimpleUploadedFile("photo.jpg", b"hola, esto no es una foto\n" * 20, content_type="image/jpeg")
    with pytest.raises(ValidationError) as excinfo:
        process_photo(upload)
    assert excinfo.value.code == "photo_invalid"
    assert _messages(excinfo) == ["El archivo no es una imagen JPEG, PNG o WebP válida."]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_encode(_picture((40, 30)), "GIF"), "GIF"),
        (_encode(_picture((40, 30)), "BMP"), "BMP"),
        (_encode(_picture((40, 30)), "TIFF"), "TIFF"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b"<svg onload=alert(1)></svg>", "SVG"),
    ],
)
def test_other_formats_are_rejected_with_their_name(data, name):
    with pytest.raises(ValidationError) as excinfo:
        process_photo(data)
    assert excinfo.value.code == "photo_format"
    assert _messages(excinfo) == [f"El formato {name} no está permitido: solo se aceptan fotos JPEG, PNG o WebP."]


def test_webp_stays_webp_and_keeps_alpha():
    image = _picture((300, 200)).convert("RGBA")
    image.putalpha(128)
    photo = process_photo(_encode(image, "WEBP", quality=90))
    assert (photo.content_type, photo.extension) == ("image/webp", "webp")
    output = _reopen(photo.image)
    assert output.format == "WEBP" and output.mode == "RGBA"
    assert 100 < output.getpixel((150, 190))[3] < 160


def test_cmyk_jpeg_becomes_rgb():
    photo = process_photo(_encode(_picture(mode="CMYK"), "JPEG"))
    assert _reopen(photo.image).mode == "RGB"


def test_palette_png_keeps_transparency():
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0, 0, 0] * 254)
    image.paste(1, (16, 16, 48, 48))
    photo = process_photo(_encode(image, "PNG", transparency=0))
    output = _reopen(photo.image)
    assert output.format == "PNG"
    rgba = output.convert("RGBA")
    assert rgba.getpixel((0, 0))[3] == 0 and rgba.getpixel((32, 32)) == (200, 0, 0, 255)


def test_animated_image_keeps_only_the_first_frame():
    frames = [Image.new("RGB", (50, 40), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = _encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    photo = process_photo(data)
    output = Image.open(io.BytesIO(photo.image))
    assert getattr(output, "n_frames", 1) == 1
    assert output.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


# --- size limits ----------------------------------------------------------------------------------------


def test_20_mb_bytes_rejected_before_decoding(monkeypatch):
    monkeypatch.setattr(photos.Image, "open", lambda *a, **k: pytest.fail("decoded an oversized upload"))
    with pytest.raises(ValidationError) as excinfo:
        process_photo(b"\xff\xd8\xff" + b"\x00" * (20 * 1024 * 1024))
    assert excinfo.value.code == "photo_too_large"
    assert _messages(excinfo) == ["La foto supera el tamaño máximo de 10 MB."]


def test_20_mb_stream_rejected_after_reading_at_most_max_bytes_plus_one(monkeypatch):
    monkeypatch.setattr(photos.Image, "open", lambda *a, **k: pytest.fail("decoded an oversized upload"))

    class CountingStream(io.RawIOBase):
        def __init__(self, total):
            self.total, self.served = total, 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = self.total - self.served if n is None or n < 0 else min(n, self.total - self.served)
            self.served += n
            return b"\x89" * n

    stream = CountingStream(20 * 1024 * 1024)
    with pytest.raises(ValidationError) as excinfo:
        process_photo(stream)
    assert excinfo.value.code == "photo_too_large"
    assert stream.served == 10 * 1024 * 1024 + 1


def test_declared_upload_size_rejected_without_reading():
    class Upload:  # what matters of django.core.files.uploadedfile.UploadedFile
        name, content_type, size = "big.jpg", "image/jpeg", 20 * 1024 * 1024

        def read(self, *args):
            pytest.fail("read an upload whose declared size is too large")

    upload = Upload()
    with pytest.raises(ValidationError) as excinfo:
        process_photo(upload)
    assert excinfo.value.code == "photo_too_large"


def test_custom_limit_message_writes_the_limit_in_the_active_languages_numbers():
    with pytest.raises(ValidationError) as excinfo:
        process_photo(b"x" * 3_000_000, max_bytes=int(2.5 * 1024 * 1024))
    assert _messages(excinfo) == ["La foto supera el tamaño máximo de 2,5 MB."]
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            process_photo(b"x" * 3_000_000, max_bytes=int(2.5 * 1024 * 1024))
        assert _messages(excinfo) == ["The photo is larger than the 2.5 MB limit."]


def test_empty_file_rejected():
    with pytest.raises(ValidationError) as excinfo:
        process_photo(b"")
    assert excinfo.value.code == "photo_empty"


# --- damaged / hostile files ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_image_rejected(fmt):
    data = _encode(_picture(), fmt)
    with pytest.raises(ValidationError) as excinfo:
        process_photo(data[: len(data) // 2])
    assert excinfo.value.code in ("photo_corrupt", "photo_invalid")
    if fmt != "WEBP":
        assert _messages(excinfo) == ["La imagen está dañada o incompleta."]


def test_png_with_bad_checksum_rejected():
    data = bytearray(_encode(_picture((64, 64)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    with pytest.raises(ValidationError) as excinfo:
        process_photo(bytes(data))
    assert excinfo.value.code == "photo_corrupt"


def test_decompression_bomb_png_rejected():
    data = _bomb_png(20000, 20000)
    assert len(data) < 200_000  # tiny on disk, 400 megapixels once decoded
    with pytest.raises(ValidationError) as excinfo:
        process_photo(data)
    assert excinfo.value.code == "photo_too_many_pixels"
    assert _messages(excinfo) == ["La imagen tiene demasiados píxeles; el máximo es 40 megapíxeles."]


def test_image_above_max_pixels_but_below_pillow_limit_rejected():
    data = _bomb_png(7000, 7000)  # 49 Mpx: Pillow would only warn, our limit is 40 Mpx
    with pytest.raises(ValidationError) as excinfo:
        process_photo(data)
    assert excinfo.value.code == "photo_too_many_pixels"
    with pytest.raises(ValidationError):
        process_photo(_encode(_picture((200, 100)), "PNG"), max_pixels=10_000)


def test_polyglot_trailing_payload_is_stripped():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.html", "<html><script>fetch('/steal?c='+document.cookie)</script></html>")
    payload = archive.getvalue() + b"<html><body onload=alert(1)>POLYGLOT-MARKER</body></html>"
    png = _encode(_picture((120, 80)), "PNG")
    polyglot = png + payload
    assert zipfile.is_zipfile(io.BytesIO(polyglot))  # really a PNG and a ZIP at the same time

    photo = process_photo(polyglot)

    assert photo.content_type == "image/png"
    assert photo.image.endswith(b"IEND\xaeB`\x82")
    for marker in (b"PK\x03\x04", b"PK\x05\x06", b"POLYGLOT-MARKER", b"<script", b"<html"):
        assert marker not in photo.image and marker not in photo.thumbnail
    assert not zipfile.is_zipfile(io.BytesIO(photo.image))
    assert _reopen(photo.image).size == (120, 80)


def test_jpeg_polyglot_trailing_html_is_stripped():
    data = _encode(_picture((100, 100)), "JPEG") + b"<html><script>alert(1)</script></html>"
    photo = process_photo(data)
    assert b"<script>" not in photo.image and photo.image.endswith(b"\xff\xd9")


# --- thumbnail ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "fmt"), [((1200, 900), "JPEG"), ((500, 1000), "PNG"), ((2000, 400), "WEBP")])
def test_thumbnail_longest_side_is_thumb_size(size, fmt):
    photo = process_photo(_encode(_picture(size), fmt))
    thumb = _reopen(photo.thumbnail)
    assert thumb.format == _reopen(photo.image).format
    assert max(thumb.size) == 320
    assert abs(thumb.width / thumb.height - size[0] / size[1]) < 0.02
    assert max(_reopen(process_photo(_encode(_picture(size), fmt), thumb_size=100).thumbnail).size) == 100


def test_small_photo_thumbnail_is_not_upscaled():
    photo = process_photo(_encode(_picture((200, 100)), "PNG"))
    assert _reopen(photo.thumbnail).size == (200, 100)


def test_processed_photo_is_frozen():
    photo = process_photo(_encode(_picture((50, 50)), "PNG"))
    with pytest.raises(AttributeError):
        photo.width = 1  # type: ignore[misc]


def test_icc_profile_is_applied_and_dropped():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_picture((100, 80)), "JPEG", quality=95, icc_profile=icc)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")
    photo = process_photo(data)
    output = _reopen(photo.image)
    assert "icc_profile" not in output.info
    red, green, blue = output.getpixel((5, 5))
    assert red > 190 and green < 80 and blue < 80
