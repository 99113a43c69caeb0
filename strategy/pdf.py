"""The reputation report as a PDF: WeasyPrint lays out the same HTML as the page.

WeasyPrint needs pango (Debian: libpango-1.0-0, libpangoft2-1.0-0) and
draws text with the system's fonts (fonts-dejavu-core); ``.ci/run``
installs them. It is imported on first use, so the rest of the portal runs
on a machine without pango.

Rendering never goes to the network: the portal's own static files
(``{% static %}`` URLs, whatever host ``base_url`` names) are read from
disk, ``data:`` URLs are decoded, and every other URL is refused (WeasyPrint
logs a warning and leaves the resource out). A PDF built inside a request
therefore never waits on the server it is running in.
"""

from __future__ import annotations

import mimetypes
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation

__all__ = ["PdfUnavailableError", "render_pdf", "weasyprint_problem"]

# Relative URLs (``/static/...``) need a base to resolve against; this host
# does not exist (RFC 2606) and is never contacted: the fetcher below maps
# static paths to files.
PLACEHOLDER_BASE_URL = "http://portal.invalid/"


class PdfUnavailableError(RuntimeError):
    """WeasyPrint or the system libraries it needs (pango) are missing."""


def weasyprint_problem() -> str | None:
    """Why WeasyPrint cannot run here, or ``None`` when it can."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "WeasyPrint is not installed: `make test` installs it from requirements.txt."
    except OSError as error:  # WeasyPrint loads pango with ctypes/cffi at import time
        return (f"WeasyPrint cannot load pango ({error}); install it with "
                "`apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core`.")
    return None


def _static_file(name: str) -> Path | None:
    try:
        found = finders.find(name)
        if found:
            return Path(found)
        if getattr(settings, "STATIC_ROOT", None):
            # Hashed names (ManifestStaticFilesStorage) exist only in STATIC_ROOT after collectstatic.
            collected = Path(staticfiles_storage.path(name))
            if collected.is_file():
                return collected
    except (SuspiciousFileOperation, NotImplementedError, ValueError):
        return None
    return None


def fetch_local(url: str) -> tuple[bytes, str, str]:
    """``(body, mime type, url)`` for a static file or a ``data:`` URL; ``ValueError`` for anything else."""
    if url.startswith("data:"):
        with urllib.request.urlopen(url) as response:  # noqa: S310 - data: URLs only, decoded in memory
            return response.read(), response.headers.get_content_type(), url
    static_prefix = urlsplit(settings.STATIC_URL).path or "/static/"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.path.startswith(static_prefix):
        name = unquote(parts.path[len(static_prefix):])
        path = _static_file(name)
        if path is not None:
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return path.read_bytes(), mime_type, url
    raise ValueError(f"the PDF renderer only reads the portal's static files, not {url!r}")


def _url_fetcher():
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except ImportError:  # WeasyPrint before the URLFetcher class: a function returning a dict
        def fetcher(url, timeout=10, ssl_context=None):
            body, mime_type, resolved = fetch_local(url)
            return {"string": body, "mime_type": mime_type, "redirected_url": resolved}

        return fetcher

    class LocalFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            body, mime_type, resolved = fetch_local(url)
            return URLFetcherResponse(resolved, body, headers={"Content-Type": mime_type})

    return LocalFetcher()


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document (a full page with its print stylesheet linked or inline).

    ``base_url`` resolves relative links; only static files and ``data:`` URLs
    are ever read. Raises ``PdfUnavailableError`` when WeasyPrint cannot run here.
    """
    problem = weasyprint_problem()
    if problem:
        raise PdfUnavailableError(problem)
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url or PLACEHOLDER_BASE_URL, url_fetcher=_url_fetcher())
    return document.write_pdf()
