"""POST requests with media: a media_url kept as given, a multipart photo through the one photo path."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from geo_siac.open311.tests.contract import get, items, post
from geo_siac.open311.tests.test_post_requests import api_key, errors, form  # noqa: F401 (api_key is a fixture)
from geo_siac.reports.models import Report

FORMATS = ["xml", "json"]


def jpeg(size=(640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "JPEG", quality=90)
    return SimpleUploadedFile("bache.jpg", buffer.getvalue(), content_type="image/jpeg")


def created_report(body) -> Report:
    return Report.objects.get(pk=int(body[0]["service_request_id"]))


def test_media_url_is_kept_as_given_and_shown_where_the_description_is(client, api_key, make_report):
    link = "https://fotos.example.cl/reportes/bache%20grande.jpg?v=2"
    response, body = post(client, "json", form(api_key, media_url=link))
    assert response.status_code == 201
    posted = created_report(body)
    assert posted.media_url == link
    # Open311 POSTs are not marked public, so their link, like their description, is not shown.
    _response, shown = get(client, f"requests/{posted.pk}", "json")
    assert (shown[0]["media_url"], shown[0]["description"]) == ("", "")
    public = make_report(public_visibility=True, media_url=link)
    _response, shown = get(client, f"requests/{public.pk}", "json")
    assert shown[0]["media_url"] == link


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "ftp://fotos.example.cl/a.jpg", "fotos.example.cl/a.jpg", "https://" + "a" * 500 + ".cl/"],
)
def test_a_media_url_that_is_not_an_http_link_is_a_400_naming_it(client, api_key, fmt, link):
    response, body = post(client, fmt, form(api_key, media_url=link))
    assert response.status_code == 400
    (error,) = errors(body, fmt)
    assert error["description"].startswith("media_url: ")
    assert not Report.objects.exists()


def test_an_uploaded_jpeg_is_kept_as_the_request_photo(client, api_key):
    response, body = post(client, "json", {**form(api_key), "media": jpeg()})
    assert response.status_code == 201
    (photo,) = created_report(body).photos.all()
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 640, 480)
    with photo.image.open("rb") as stored:
        assert Image.open(stored).format == "JPEG"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"esto no es una foto", "El archivo no es una imagen JPEG, PNG o WebP válida."),
        (b"%PDF-1.4 un informe", "El formato PDF no está permitido: solo se aceptan fotos JPEG, PNG o WebP."),
    ],
)
def test_a_file_that_is_not_a_photo_is_a_400_and_nothing_is_written(client, api_key, fmt, content, message):
    fake = SimpleUploadedFile("bache.jpg", content, content_type="image/jpeg")
    response, body = post(client, fmt, {**form(api_key), "media": fake})
    assert response.status_code == 400
    (error,) = errors(body, fmt)
    assert error["description"] == f"media: {message}"
    assert not Report.objects.exists()


def test_a_photo_over_the_size_limit_is_a_400_naming_the_limit(client, api_key, settings):
    settings.GEO_SIAC_PHOTO_MAX_BYTES = 1024
    response, body = post(client, "json", {**form(api_key), "media": jpeg()})
    assert response.status_code == 400
    (error,) = items(body, "json", "errors", "error")
    assert error["description"].startswith("media: ") and "MB" in error["description"]
    assert not Report.objects.exists()


def test_media_sent_as_text_instead_of_a_file_is_a_400(client, api_key):
    response, body = post(client, "json", form(api_key, media="https://fotos.example.cl/a.jpg"))
    assert response.status_code == 400
    assert body[0]["description"].startswith("media: ")
