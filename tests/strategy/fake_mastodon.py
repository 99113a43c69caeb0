"""A fake Mastodon server for the publisher's tests (pytest-httpserver on 127.0.0.1), answering with the documented
JSON shapes and keeping what it was sent:

- ``POST /api/v1/media`` and ``/api/v2/media`` (multipart: ``file``, ``description``) -> ``{"id": ...}``;
- ``POST /api/v1/statuses``, honouring ``Idempotency-Key`` as Mastodon does: a second request with a key that
  already made a status returns that status and creates nothing;
- ``GET /api/v1/accounts/verify_credentials`` and ``GET /api/v1/accounts/:id/statuses`` (newest first, ``limit``);
- ``GET /api/v1/instance`` and ``/api/v2/instance`` with ``configuration.statuses.max_characters``.

``status_posts`` counts every POST to ``/api/v1/statuses`` (answered or failed), ``statuses`` holds the statuses
actually created. ``fail(...)`` makes the next calls to a path fail (500, 503, 429 with Retry-After, 422 ...).
The server answers one request at a time (pytest-httpserver is single-threaded), as the real one answers a key."""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
from datetime import UTC, datetime

from werkzeug.wrappers import Response

STATUSES = "/api/v1/statuses"
ACCOUNT_ID = "109"
DOMAIN = "social.example"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


_TOKENS = re.compile(r"(?P<url>https?://\S+)|(?<![\w@])@(?P<user>\w+)(?:@(?P<domain>[\w.-]+\w))?|(?<![\w#])#(?P<tag>\w+)")


def _render_line(line: str) -> str:
    out, last = [], 0
    for match in _TOKENS.finditer(line):
        out.append(html.escape(line[last:match.start()]))
        if match["url"]:
            scheme, rest = match["url"].split("://", 1)
            out.append(f'<a href="{html.escape(match["url"])}" target="_blank" rel="nofollow noopener noreferrer" '
                       f'translate="no"><span class="invisible">{scheme}://</span><span class="ellipsis">'
                       f'{html.escape(rest[:30])}</span><span class="invisible">{html.escape(rest[30:])}</span></a>')
        elif match["user"]:
            domain = match["domain"] or DOMAIN
            out.append(f'<span class="h-card" translate="no"><a href="https://{domain}/@{match["user"]}" '
                       f'class="u-url mention">@<span>{match["user"]}</span></a></span>')
        else:
            out.append(f'<a href="https://{DOMAIN}/tags/{match["tag"].lower()}" class="mention hashtag" '
                       f'rel="tag">#<span>{match["tag"]}</span></a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def content_html(text: str) -> str:
    """The status text as Mastodon renders it: escaped, paragraphs on blank lines, ``<br>`` on single ones, links
    cut into spans, a mention shown by its local part (``@ana@example.social`` as ``@ana``), hashtags linked."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join("<p>" + "<br>".join(_render_line(line) for line in p.split("\n")) + "</p>" for p in paragraphs)


class FakeMastodon:
    def __init__(self, server, *, max_characters: int | None = 500, username: str = "brand", version: str = "4.3.0"):
        self.server = server
        self.max_characters = max_characters
        self.version = version
        self.account = {
            "id": ACCOUNT_ID, "username": username, "acct": username, "display_name": "Brand",
            "locked": False, "bot": False, "discoverable": True, "group": False,
            "created_at": "2020-01-01T00:00:00.000Z", "note": "", "url": f"https://{DOMAIN}/@{username}",
            "avatar": f"https://{DOMAIN}/a.png", "avatar_static": f"https://{DOMAIN}/a.png",
            "header": f"https://{DOMAIN}/h.png", "header_static": f"https://{DOMAIN}/h.png",
            "followers_count": 10, "following_count": 1, "statuses_count": 0, "last_status_at": None,
            "emojis": [], "fields": [],
        }
        self.statuses: list[dict] = []          # created, oldest first
        self.by_key: dict[str, dict] = {}       # Idempotency-Key -> the status it made
        self.status_posts = 0                   # every POST to /api/v1/statuses
        self.status_requests: list[dict] = []   # what each of those POSTs carried
        self.media: list[dict] = []             # uploaded attachments
        self.requests: list[tuple[str, str]] = []
        self.failures: list[tuple[str, int, dict, dict, bool]] = []
        self.now: datetime | None = None        # the server's clock (created_at); None: the real time
        self._ids = itertools.count(110_000_000_000_000_001)
        self._lock = threading.Lock()
        server.expect_request(re.compile(r"^/api/v[12]/media/?$"), method="POST").respond_with_handler(self._media)
        server.expect_request(STATUSES, method="POST").respond_with_handler(self._post_status)
        server.expect_request("/api/v1/accounts/verify_credentials", method="GET").respond_with_handler(self._me)
        server.expect_request(re.compile(r"^/api/v1/accounts/[^/]+/statuses/?$"), method="GET") \
            .respond_with_handler(self._account_statuses)
        server.expect_request(re.compile(r"^/api/v[12]/instance/?$"), method="GET").respond_with_handler(
            self._instance)

    # -- what the tests set up and read --

    def fail(self, status: int, *, times: int = 1, path: str = STATUSES, retry_after: str | int | None = None,
             error: str | None = None, headers: dict | None = None, after_creating: bool = False):
        """The next ``times`` requests to ``path`` answer ``status`` (with ``Retry-After`` when given).
        ``after_creating``: the status is made first and only the answer is lost (a proxy's 502 or 504)."""
        headers = dict(headers or {})
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        body = {"error": error or {429: "Too many requests", 422: "Validation failed"}.get(status, "Server error")}
        for _ in range(times):
            self.failures.append((path, status, headers, body, after_creating))

    def add_status(self, text: str, *, created_at: datetime | None = None, visibility: str = "public") -> dict:
        """A status the account posted some other way (earlier, by hand...)."""
        with self._lock:
            return self._create(text, visibility=visibility, media=[], created_at=created_at)

    @property
    def created(self) -> int:
        return len(self.statuses)

    # -- plumbing --

    def _failure(self, request, *, after: bool = False):
        for index, (path, status, headers, body, after_creating) in enumerate(self.failures):
            if request.path.rstrip("/") == path.rstrip("/") and after_creating == after:
                del self.failures[index]
                return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
        return None

    @staticmethod
    def _json(data, status=200, headers=None):
        return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")

    def _authorised(self, request) -> bool:
        return (request.headers.get("Authorization") or "").startswith("Bearer ")

    def _create(self, text: str, *, visibility: str, media: list[dict], created_at: datetime | None) -> dict:
        status_id = str(next(self._ids))
        when = created_at or self.now or datetime.now(UTC)
        status = {
            "id": status_id, "created_at": _iso(when), "in_reply_to_id": None, "in_reply_to_account_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": visibility, "language": "en",
            "uri": f"https://{DOMAIN}/users/{self.account['username']}/statuses/{status_id}",
            "url": f"https://{DOMAIN}/@{self.account['username']}/{status_id}",
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": None,
            "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
            "content": content_html(text), "filtered": [], "reblog": None, "application": None,
            "account": self.account, "media_attachments": media, "mentions": [], "tags": [], "emojis": [],
            "card": None, "poll": None,
        }
        self.statuses.append(status)
        return status

    # -- handlers --

    def _media(self, request):
        self.requests.append(("POST", request.path))
        failure = self._failure(request)
        if failure is not None:
            return failure
        upload = request.files.get("file")
        if upload is None or not self._authorised(request):
            return self._json({"error": "file is missing"}, 422)
        data = upload.read()
        with self._lock:
            media_id = str(900 + len(self.media) + 1)
            item = {"id": media_id, "type": "image", "url": f"https://{DOMAIN}/media/{media_id}.png",
                    "preview_url": f"https://{DOMAIN}/media/{media_id}-small.png", "remote_url": None,
                    "text_url": None, "meta": {}, "description": request.form.get("description"),
                    "blurhash": None, "size": len(data), "content_type": upload.content_type,
                    "filename": upload.filename}
            self.media.append(item)
        public = {k: v for k, v in item.items() if k not in ("size", "content_type", "filename")}
        return self._json(public)

    def _post_status(self, request):
        self.requests.append(("POST", request.path))
        with self._lock:
            self.status_posts += 1
            key = request.headers.get("Idempotency-Key")
            form = request.form
            self.status_requests.append({
                "status": form.get("status"), "visibility": form.get("visibility"),
                "media_ids": form.getlist("media_ids[]") or form.getlist("media_ids"), "idempotency_key": key,
                "authorization": request.headers.get("Authorization")})
            failure = self._failure(request)
            if failure is not None:
                return failure
            if key and key in self.by_key:  # Mastodon answers a repeated key with the status it already made
                return self._json(self.by_key[key])
            text = form.get("status") or ""
            media_ids = form.getlist("media_ids[]") or form.getlist("media_ids")
            known = {m["id"]: m for m in self.media}
            if not text and not media_ids:
                return self._json({"error": "Validation failed: Text can't be blank"}, 422)
            if self.max_characters is not None and len(text) > self.max_characters:
                return self._json({"error": f"Validation failed: Text character limit of {self.max_characters} "
                                            "exceeded"}, 422)
            if any(m not in known for m in media_ids):
                return self._json({"error": "Validation failed: media not found"}, 422)
            attachments = [{k: v for k, v in known[m].items() if k not in ("size", "content_type", "filename")}
                           for m in media_ids]
            status = self._create(text, visibility=form.get("visibility") or "public", media=attachments,
                                  created_at=None)
            if key:
                self.by_key[key] = status
            return self._failure(request, after=True) or self._json(status)

    def _me(self, request):
        self.requests.append(("GET", request.path))
        failure = self._failure(request)
        if failure is not None:
            return failure
        if not self._authorised(request):
            return self._json({"error": "The access token is invalid"}, 401)
        return self._json({**self.account, "statuses_count": len(self.statuses), "source": {"privacy": "public"}})

    def _account_statuses(self, request):
        self.requests.append(("GET", request.path))
        failure = self._failure(request)
        if failure is not None:
            return failure
        account_id = request.path.rstrip("/").split("/")[-2]
        limit = min(40, int(request.args.get("limit", 20)))
        with self._lock:
            mine = [s for s in self.statuses if s["account"]["id"] == account_id]
        newest_first = sorted(mine, key=lambda s: int(s["id"]), reverse=True)
        max_id = request.args.get("max_id")
        if max_id:
            newest_first = [s for s in newest_first if int(s["id"]) < int(max_id)]
        return self._json(newest_first[:limit])

    def _instance(self, request):
        self.requests.append(("GET", request.path))
        failure = self._failure(request)
        if failure is not None:
            return failure
        configuration = {"statuses": {"max_media_attachments": 4, "characters_reserved_per_url": 23}}
        if self.max_characters is not None:
            configuration["statuses"]["max_characters"] = self.max_characters
        if request.path.startswith("/api/v2/"):
            return self._json({"domain": DOMAIN, "title": "Social", "version": self.version,
                               "source_url": "https://github.com/mastodon/mastodon", "description": "",
                               "api_versions": {"mastodon": 2}, "configuration": configuration})
        return self._json({"uri": DOMAIN, "title": "Social", "short_description": "", "description": "",
                           "email": "admin@social.example", "version": self.version, "urls": {},
                           "stats": {"user_count": 1, "status_count": 1, "domain_count": 1},
                           "languages": ["en"], "registrations": False, "approval_required": False,
                           "invites_enabled": False, "configuration": configuration})
