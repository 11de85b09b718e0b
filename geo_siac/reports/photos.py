"""Citizen uploads: accept only real JPEG/PNG/WebP images and re-encode them without metadata, and (where a request's
kind takes documents, catalogue.kinds) PDF documents checked by their content. The one rule for what a person may
upload; the PDF rule is at the end of this module.

What a citizen uploads is untrusted. The type is decided by decoding the bytes with Pillow, never by the file
name or the client's Content-Type. The stored file is always a fresh encoding of the decoded pixels, so

* EXIF (GPS position of the citizen's home, camera serial...), XMP, IPTC, comments and text chunks are gone;
* anything appended to or hidden inside the file (a ZIP or HTML payload after the PNG ``IEND``, a JPEG
  comment with a script: "polyglot" files) is gone;
* the EXIF orientation is applied to the pixels first, so the photo still displays upright.

Rejected, with a Spanish (Chile) ``ValidationError``: empty or too large files (checked before any decoding; at
most ``max_bytes + 1`` bytes are read from a stream), other formats (GIF, BMP, TIFF, SVG, PDF, HEIC...),
corrupt or truncated images and decompression bombs (more than ``max_pixels`` pixels, checked from the header
before the pixels are decoded; Pillow's own ``DecompressionBombError``/``Warning`` are caught as well).

Choices:

* Animated images (APNG, animated WebP) and multi-picture JPEGs (MPO, common on phones): the **first frame**
  is kept and stored as a still image; only that frame is decoded.
* Output format = decoded input format: JPEG -> JPEG (quality 85, optimised, progressive), PNG -> PNG
  (optimised; modes 1/L/LA/P/RGB/RGBA kept, so palette images keep their transparency), WebP -> WebP
  (quality 85, alpha kept). CMYK/YCbCr and other modes are converted to RGB (RGBA when there is alpha; JPEG
  drops alpha onto white); 16-bit greyscale is scaled to 8 bits.
* An embedded ICC colour profile is applied (converted to sRGB) and then dropped, so wide-gamut phone photos
  keep their colours without carrying a profile.
* The thumbnail has the same format as the photo, keeps the aspect ratio, its longest side is
  ``thumb_size`` and it is never upscaled (a smaller photo gives a thumbnail of its own size).

Thread-safe: no global Pillow setting (``Image.MAX_IMAGE_PIXELS``, ``LOAD_TRUNCATED_IMAGES``) or warnings
filter is changed. Truncated images are rejected only while ``ImageFile.LOAD_TRUNCATED_IMAGES`` is False (the
default), so do not enable it in the project.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from geo_siac.text import decimal

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "DOCUMENT_CONTENT_TYPE",
    "ProcessedDocument",
    "ProcessedPhoto",
    "process_document",
    "process_photo",
]

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_THUMB_SIZE = 320
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMB_QUALITY = 80

# Pillow format name -> (output format, content type, extension). MPO is a multi-picture JPEG.
_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
}
# Only these decoders ever see the bytes (Image.open(formats=...)), so other parsers are not reachable.
_DECODERS = ("JPEG", "PNG", "WEBP")
ALLOWED_CONTENT_TYPES = frozenset(content_type for _fmt, content_type, _ext in _FORMATS.values())
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}

MSG_EMPTY = _("El archivo de la foto está vacío.")
MSG_UNREADABLE = _("No se pudo leer el archivo de la foto.")
MSG_TOO_LARGE = _("La foto supera el tamaño máximo de %(max)s MB.")
MSG_INVALID = _("El archivo no es una imagen JPEG, PNG o WebP válida.")
MSG_FORMAT = _("El formato %(format)s no está permitido: solo se aceptan fotos JPEG, PNG o WebP.")
MSG_CORRUPT = _("La imagen está dañada o incompleta.")
MSG_TOO_MANY_PIXELS = _("La imagen tiene demasiados píxeles; el máximo es %(max)s megapíxeles.")


@dataclass(frozen=True)
class ProcessedPhoto:
    """A re-encoded photo and its thumbnail (same format), free of metadata."""

    image: bytes
    thumbnail: bytes
    content_type: str  # image/jpeg, image/png or image/webp (also the thumbnail's)
    extension: str  # jpg, png or webp, without the dot
    width: int  # after applying the EXIF orientation
    height: int

    @property
    def size(self) -> int:
        return len(self.image)


def _too_large(max_bytes: int) -> ValidationError:
    return ValidationError(MSG_TOO_LARGE, code="photo_too_large", params={"max": decimal(max_bytes / MB)})


def _too_many_pixels(max_pixels: int) -> ValidationError:
    return ValidationError(
        MSG_TOO_MANY_PIXELS, code="photo_too_many_pixels", params={"max": decimal(max_pixels / 1_000_000)}
    )


def _corrupt() -> ValidationError:
    return ValidationError(MSG_CORRUPT, code="photo_corrupt")


def _unreadable() -> ValidationError:
    return ValidationError(MSG_UNREADABLE, code="photo_unreadable")


def _read_limited(
    data: bytes | bytearray | memoryview | BinaryIO,
    max_bytes: int,
    too_large: Callable[[int], ValidationError] = _too_large,
    unreadable: Callable[[], ValidationError] = _unreadable,
) -> bytes:
    """The upload's bytes, reading at most ``max_bytes + 1`` from a stream; raises ``too_large(max_bytes)`` if
    larger, ``unreadable()`` if the stream fails."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise too_large(max_bytes)
        return raw
    if not hasattr(data, "read"):
        raise TypeError(f"process_photo() needs bytes or a binary file-like object, not {type(data).__name__}")
    declared = getattr(data, "size", None)  # Django UploadedFile knows its size without reading it
    if isinstance(declared, int) and declared > max_bytes:
        raise too_large(max_bytes)
    try:
        if getattr(data, "seekable", lambda: False)():
            data.seek(0)  # form validation may have read the upload already
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = data.read(min(remaining, MB))
            if not chunk:
                break
            if not isinstance(chunk, (bytes, bytearray)):
                raise TypeError("process_photo() needs a stream opened in binary mode")
            chunks.append(bytes(chunk))
            remaining -= len(chunk)
    except (OSError, ValueError) as exc:
        raise unreadable() from exc
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    return raw


def _sniff_other_format(raw: bytes) -> str | None:
    """Name a well-known non-accepted format, for a clearer message. Only looks at the bytes."""
    head = raw[:512]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    signatures = (
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"BM", "BMP"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"%PDF", "PDF"),
        (b"\x00\x00\x01\x00", "ICO"),
        (b"8BPS", "PSD"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"heim", b"heis"):
        return "HEIC"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in raw[:4096].lower()):
        return "SVG"
    return None


def _open(raw: bytes, max_pixels: int) -> Image.Image:
    """Image.open restricted to JPEG/PNG/WebP, with the header-level checks. Decodes no pixels."""
    try:
        image = Image.open(io.BytesIO(raw), formats=_DECODERS)
    except UnidentifiedImageError:
        other = _sniff_other_format(raw)
        if other:
            raise ValidationError(MSG_FORMAT, code="photo_format", params={"format": other}) from None
        raise ValidationError(MSG_INVALID, code="photo_invalid") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except Exception as exc:  # a malformed header can raise about anything inside a plugin
        raise _corrupt() from exc
    if image.format not in _FORMATS:
        image.close()
        raise ValidationError(MSG_INVALID, code="photo_invalid")
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise _corrupt()
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels(max_pixels)
    return image


def _decode(raw: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Verify, then reopen and fully decode the first frame. Returns (image, Pillow format)."""
    probe = _open(raw, max_pixels)
    try:
        probe.verify()  # structure / checksums (PNG CRCs); the image is unusable afterwards
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except Exception as exc:  # structure/checksum errors
        raise _corrupt() from exc
    finally:
        probe.close()

    image = _open(raw, max_pixels)
    try:
        fmt = image.format
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated / multi-picture: keep the first frame only
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        image.close()
        raise _too_many_pixels(max_pixels) from None
    except Exception as exc:  # truncated data raises OSError, bad streams SyntaxError etc.
        image.close()
        raise _corrupt() from exc
    return image, fmt


def _to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (to sRGB) so that dropping it does not change the colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except Exception:  # a broken profile is just ignored (plain conversion below)
        return image
    return converted if converted is not None else image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info


def _normalise_mode(image: Image.Image, fmt: str) -> Image.Image:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        mode = "L"
    if fmt == "JPEG":
        if mode in ("L", "RGB"):
            return image
        if _has_alpha(image):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")
    if fmt == "PNG":
        if mode in _PNG_MODES:
            return image
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    # WEBP
    if mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _strip_info(image: Image.Image) -> Image.Image:
    """Forget every metadata item Pillow would otherwise write back (exif, icc, xmp, comments, text...)."""
    keep_transparency = "transparency" in image.info and image.mode in ("1", "L", "P", "RGB")
    image.info = {"transparency": image.info["transparency"]} if keep_transparency else {}
    if hasattr(image, "_exif"):
        image._exif = None
    return image


def _encode(image: Image.Image, fmt: str, *, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True, exif=b"")
    elif fmt == "PNG":
        params = {"optimize": True}
        if "transparency" in image.info:
            params["transparency"] = image.info["transparency"]
        image.save(out, "PNG", **params)
    else:
        image.save(out, "WEBP", quality=quality, method=4, exif=b"", icc_profile=b"", xmp=b"")
    return out.getvalue()


def _thumbnail(image: Image.Image, fmt: str, thumb_size: int) -> bytes:
    thumb = image
    if thumb.mode == "P":
        thumb = thumb.convert("RGBA" if "transparency" in thumb.info else "RGB")
    elif thumb.mode == "1":
        thumb = thumb.convert("L")
    else:
        thumb = thumb.copy()
    thumb.thumbnail((thumb_size, thumb_size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    _strip_info(thumb)
    return _encode(thumb, fmt, quality=THUMB_QUALITY)


def process_photo(
    data: bytes | bytearray | memoryview | BinaryIO,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    thumb_size: int = DEFAULT_THUMB_SIZE,
) -> ProcessedPhoto:
    """Validate and re-encode a citizen photo. ``data``: bytes or a binary file-like (e.g. UploadedFile).

    Raises ``django.core.exceptions.ValidationError`` (codes ``photo_empty``, ``photo_unreadable``,
    ``photo_too_large``, ``photo_invalid``, ``photo_format``, ``photo_corrupt``, ``photo_too_many_pixels``).
    """
    if max_bytes <= 0 or max_pixels <= 0 or thumb_size <= 0:
        raise ValueError("max_bytes, max_pixels and thumb_size must be positive")
    raw = _read_limited(data, max_bytes)
    if not raw:
        raise ValidationError(MSG_EMPTY, code="photo_empty")

    image, decoded_format = _decode(raw, max_pixels)
    fmt, content_type, extension = _FORMATS[decoded_format]
    try:
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # a malformed EXIF block must not lose the photo
            upright = image.copy()
        upright = _to_srgb(upright)
        upright = _normalise_mode(upright, fmt)
        if upright is image:  # never mutate the decoded image's info in place
            upright = image.copy()
        upright = _strip_info(upright)
        encoded = _encode(upright, fmt, quality=JPEG_QUALITY if fmt == "JPEG" else WEBP_QUALITY)
        thumbnail = _thumbnail(upright, fmt, thumb_size)
        width, height = upright.size
    finally:
        image.close()
    return ProcessedPhoto(
        image=encoded,
        thumbnail=thumbnail,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
    )


# PDF documents (a scanned power of attorney, a document a Ley 20.285 requester attaches). A PDF cannot be
# re-encoded like a photo, so it is kept as sent and only ever served as a download (workspace.photo_views).
DOCUMENT_CONTENT_TYPE = "application/pdf"
# The header a PDF reader requires at the start (ISO 32000: "%PDF-1.x" or "%PDF-2.0"), and the end-of-file
# marker it looks for in the last 1024 bytes: an image or an HTML page renamed .pdf has neither where it must.
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_END = b"%%EOF"
_PDF_END_WINDOW = 1024
_NAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/<>:|?*]+')
DEFAULT_DOCUMENT_NAME = "documento.pdf"

MSG_DOCUMENT_EMPTY = _("El archivo «%(name)s» está vacío.")
MSG_DOCUMENT_UNREADABLE = _("No se pudo leer el archivo «%(name)s».")
MSG_DOCUMENT_TOO_LARGE = _("El archivo «%(name)s» supera el tamaño máximo de %(max)s MB.")
MSG_DOCUMENT_NOT_PDF = _(
    "El archivo «%(name)s» no es un documento PDF: su contenido no es el de un PDF, "
    "cualquiera sea su nombre. Adjunte el documento guardado como PDF."
)
MSG_DOCUMENT_INCOMPLETE = _(
    "El archivo «%(name)s» no es un PDF completo: le falta el final del documento. Guárdelo de nuevo como PDF."
)


@dataclass(frozen=True)
class ProcessedDocument:
    """A checked PDF, as sent, and the name it is offered for download under."""

    content: bytes
    name: str

    content_type = DOCUMENT_CONTENT_TYPE
    extension = "pdf"

    @property
    def size(self) -> int:
        return len(self.content)


def document_name(raw: str | None) -> str:
    """The sender's file name, safe to show: no folders, quotes or control characters, at most 120 characters."""
    return _NAME_UNSAFE.sub("_", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")[:120]


def download_name(shown: str) -> str:
    """The name a checked PDF is offered for download under: the sender's, ending in .pdf."""
    if not shown:
        return DEFAULT_DOCUMENT_NAME
    return shown if shown.lower().endswith(".pdf") else f"{shown[:116]}.pdf"


def process_document(
    data: bytes | bytearray | memoryview | BinaryIO, *, name: str = "", max_bytes: int = DEFAULT_MAX_BYTES
) -> ProcessedDocument:
    """Check a PDF by its bytes, never by its name or the client's Content-Type. ``name``: the sender's file name,
    named in the Spanish (Chile) ``ValidationError`` (codes ``document_empty``, ``document_unreadable``,
    ``document_too_large``, ``document_not_pdf``, ``document_incomplete``)."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    shown = document_name(name or getattr(data, "name", ""))
    params = {"name": shown or DEFAULT_DOCUMENT_NAME}
    raw = _read_limited(
        data,
        max_bytes,
        too_large=lambda limit: ValidationError(
            MSG_DOCUMENT_TOO_LARGE, code="document_too_large", params={**params, "max": decimal(limit / MB)}
        ),
        unreadable=lambda: ValidationError(MSG_DOCUMENT_UNREADABLE, code="document_unreadable", params=params),
    )
    if not raw:
        raise ValidationError(MSG_DOCUMENT_EMPTY, code="document_empty", params=params)
    if not _PDF_HEADER.match(raw):
        raise ValidationError(MSG_DOCUMENT_NOT_PDF, code="document_not_pdf", params=params)
    if _PDF_END not in raw[-_PDF_END_WINDOW:]:
        raise ValidationError(MSG_DOCUMENT_INCOMPLETE, code="document_incomplete", params=params)
    return ProcessedDocument(content=raw, name=download_name(shown))
