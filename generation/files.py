"""Cover files in the storage backend (local files, or S3 and S3-compatible stores through django-storages), and
the signed URLs that serve them without a login: our URL checks the signature and its age, then streams the
file, or redirects to a short-lived presigned URL of the object store."""

import posixpath

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import reverse

SALT = "albumart.files"


def save(path: str, data: bytes) -> str:
    """Store bytes at `path`, replacing what was there; returns the stored name."""
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(data))


def delete(path: str) -> None:
    default_storage.delete(path)


def folder_listing(directory: str) -> list[str]:
    try:
        return default_storage.listdir(directory)[1]
    except FileNotFoundError:  # local storage: no photo was ever stored in this folder
        return []


def delete_source(path: str, listing: list[str] | None = None) -> None:
    """Delete a photo and the prepared copies cached next to it (`<path>.prepared-*`, generation/jobs.py: one per
    segmentation backend and engine version). `listing`: the folder's file names, when the caller has them."""
    directory, name = posixpath.split(path)
    for other in folder_listing(directory) if listing is None else listing:
        if other.startswith(f"{name}.prepared-"):
            delete(posixpath.join(directory, other))
    delete(path)


def read(path: str) -> bytes:
    with default_storage.open(path, "rb") as fh:
        return fh.read()


def signed_url(path: str, filename: str, attachment: bool = False) -> str:
    """`attachment`: the download is saved under `filename` (Content-Disposition: attachment), not shown inline."""
    payload = {"p": path, "n": filename, **({"a": 1} if attachment else {})}
    token = signing.dumps(payload, salt=SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("file", args=[token])


def serve(request, token: str):
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.IMAGE_URL_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise Http404("This link is invalid or has expired; fetch a fresh one from record-info.") from None
    path = payload["p"]
    if not default_storage.exists(path):
        raise Http404("File not found.")
    if getattr(default_storage, "querystring_auth", False):  # an object store: the client fetches it from there
        disposition = f'attachment; filename="{payload["n"]}"'
        response = HttpResponseRedirect(default_storage.url(path, parameters={
            "ResponseContentDisposition": disposition}))
        response["Cache-Control"] = "private, max-age=300"  # shorter than the presigned URL's life
        return response
    response = FileResponse(default_storage.open(path, "rb"), filename=payload["n"],
                            as_attachment=bool(payload.get("a")))
    response["Cache-Control"] = "private, max-age=86400"
    return response
