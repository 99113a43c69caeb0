"""The Mastodon connector, built on Mastodon.py.

Fetches the account's ``mention`` notifications since the stored cursor and
maps each mentioned status to the ingest service's item format; posts
replies and publications with an ``Idempotency-Key``.

The cursor (``ConnectorState.cursor``) is ``{"since_id": <newest notification
id already stored>}``. A poll pages backwards (``max_id``) from the newest
notification down to ``since_id``; when a poll stops before reaching
``since_id`` (its page or time cap, or a page that failed), the cursor keeps
``since_id`` and remembers where to resume (``max_id``) and the newest id
seen (``newest_id``), so the next poll continues the backlog and nothing in
between is skipped. What was fetched before a failing page is returned with
the error (``FetchResult.error``): it is stored and the next poll resumes at
the failing page.

The first poll of an account (no ``since_id``) takes its newest
``SOCIALOPS_MASTODON_BACKFILL`` mentions (400), over as many polls as that
needs (``backfill_left`` in the cursor counts down); older history is for
``import_messages``.

A failure's wait is the server's when it says one: ``Retry-After`` (seconds
or an HTTP date) on any transient failure, and on a 429 also the rate limit's
reset (``X-RateLimit-Reset``), whichever is later.

The access token is read only through ``credential_for_connector`` and is
never logged nor put in an error message: every Mastodon.py exception is
translated into a ``ConnectorError`` with a message of our own."""

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import requests
from django.conf import settings
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)

from security.models import Credential, Platform
from security.services import credential_for_connector
from security.vault import CredentialDecryptError

from .base import ConnectorError, FetchResult, PublishResult, register

logger = logging.getLogger(__name__)

TRANSIENT_RETRY_SECONDS = 60
CLOCK_LEEWAY = timedelta(minutes=5)  # how far the instance's clock may be from ours (``find_published``)
USER_AGENT = "SocialOpsPortal (+mastodon.py)"
API_VERSION = "4.0.0"  # the oldest Mastodon whose API the connector uses (v2 media and instance)


# --- HTML content -> plain text ---------------------------------------------

class _PlainText(HTMLParser):
    """Collects the text of a status' HTML content: tags are dropped (never
    rendered), character references decoded, paragraphs and line breaks kept
    as newlines. Whatever a ``<script>`` holds ends up as inert text."""

    BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(content: str | None) -> str:
    if not content:
        return ""
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts).replace("\x00", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --- helpers ---------------------------------------------------------------

def id_key(value) -> tuple[int, str]:
    """Orders platform ids: Mastodon ids are decimal strings of growing
    length (numeric order == (length, text) order); other servers use
    fixed-length sortable ids, for which this is plain text order."""
    text = str(value)
    return len(text), text


def _newest(*values):
    present = [str(v) for v in values if v not in (None, "")]
    return max(present, key=id_key) if present else None


def _iso(value) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return value
    return None


def _clip(value, length: int) -> str:
    return "" if value is None else str(value)[:length]


def _language(value) -> str:
    """ISO 639 code as the ingest wants it (at most 8 characters)."""
    text = str(value or "").strip()
    return text if len(text) <= 8 else text.split("-")[0][:8]


def _status_code(exc: MastodonAPIError) -> int | None:
    args = getattr(exc, "args", ())
    if len(args) > 1 and isinstance(args[1], int):
        return args[1]
    return None


def retry_after_seconds(value: str | None, *, server_date: str | None = None,
                        now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds, or an
    HTTP date (counted from the response's ``Date`` when there is one, so a
    skewed server clock does not matter). None when absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    if server_date:
        try:
            reference = parsedate_to_datetime(server_date.strip())
            if reference.tzinfo is None:
                reference = reference.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, (when - reference).total_seconds())


def _server_wait(client) -> float | None:
    """The Retry-After of the client's last response, if it had one."""
    return getattr(getattr(client, "session", None), "socialops_retry_after", None)


def _transient(message: str, server_wait: float | None) -> ConnectorError:
    if server_wait is None:
        return ConnectorError(message, retry_after=TRANSIENT_RETRY_SECONDS)
    wait = max(1.0, server_wait)
    return ConnectorError(f"{message} The server asked to wait {round(wait)} s (Retry-After).", retry_after=wait,
                          server_said=True)


def _platform_message(exc: MastodonAPIError) -> str:
    """The platform's own words for a refusal (the ``error`` of its JSON answer, e.g. "Validation failed: Text
    character limit of 500 exceeded"), one line, clipped; empty when it said nothing."""
    args = getattr(exc, "args", ())
    said = args[3] if len(args) > 3 and isinstance(args[3], str) else ""
    return " ".join(said.split())[:300]


def translate_error(exc: MastodonError, client: Mastodon | None = None, *, action: str) -> ConnectorError:
    """A ConnectorError with our own words: never the token, never the raw
    exception text (it may carry the request's details)."""
    server_wait = _server_wait(client)
    if isinstance(exc, MastodonRatelimitError):
        reset = getattr(client, "ratelimit_reset", None) if client is not None else None
        waits = [wait for wait in (server_wait, float(reset) - time.time() if reset else None) if wait is not None]
        if not waits:
            return ConnectorError(f"Mastodon rate limit reached while {action}; retrying in "
                                  f"{TRANSIENT_RETRY_SECONDS} s.", retry_after=TRANSIENT_RETRY_SECONDS)
        retry_after = max(1.0, *waits)
        return ConnectorError(f"Mastodon rate limit reached while {action}; the server asked to wait "
                              f"{round(retry_after)} s.", retry_after=retry_after, server_said=True)
    if isinstance(exc, MastodonNetworkError):
        return ConnectorError(f"Mastodon server not reachable while {action}.", retry_after=TRANSIENT_RETRY_SECONDS)
    if isinstance(exc, MastodonAPIError):
        status = _status_code(exc)
        if isinstance(exc, MastodonServerError) or (status is not None and status >= 500):
            return _transient(f"Mastodon server error (HTTP {status}) while {action}.", server_wait)
        if status in (401, 403):
            return ConnectorError(f"Mastodon refused the access token (HTTP {status}) while {action}: "
                                  "check the account's API token.")
        if status == 404:
            return ConnectorError(f"Mastodon answered HTTP 404 while {action}: check the server address "
                                  "and that the status still exists.")
        if status in (408, 425, 429):
            return _transient(f"Mastodon asked to try again later (HTTP {status}) while {action}.", server_wait)
        if status is not None:
            said = _platform_message(exc)
            return ConnectorError(f"Mastodon rejected the request (HTTP {status}) while {action}"
                                  + (f": {said}" if said else "."))
        return ConnectorError(f"Mastodon sent an unreadable answer while {action}.",
                              retry_after=TRANSIENT_RETRY_SECONDS)
    return ConnectorError(f"Mastodon client error ({type(exc).__name__}) while {action}.")


# --- the connector -----------------------------------------------------------

class MastodonConnector:
    platform = Platform.MASTODON.value
    page_limit = 40          # Mastodon's maximum for notifications
    max_pages = 10           # per poll; the rest is a backlog for the next poll
    time_budget = 30.0       # seconds of paging per poll (django-q timeout is 60 s)
    request_timeout = 10     # seconds per HTTP request

    @staticmethod
    def backfill() -> int:
        """How many of the newest mentions an account's first poll takes."""
        return max(0, int(getattr(settings, "SOCIALOPS_MASTODON_BACKFILL", 400)))

    # -- plumbing --

    def client(self, account) -> Mastodon:
        from inbox.models import ConnectorState

        base_url = ConnectorState.objects.filter(account=account).values_list("base_url", flat=True).first()
        if not base_url:
            raise ConnectorError("No Mastodon server address is set for this account.")
        try:
            token = credential_for_connector(account=account, kind=Credential.Kind.API_TOKEN)
        except Credential.DoesNotExist:
            raise ConnectorError("No API token is stored for this account.") from None
        except CredentialDecryptError:
            raise ConnectorError("The account's API token cannot be decrypted with the configured vault keys.") \
                from None
        client = Mastodon(api_base_url=base_url, ratelimit_method="throw", version_check_mode="none",
                          request_timeout=self.request_timeout, user_agent=USER_AGENT,
                          session=self._session(), mastodon_version=API_VERSION)
        # The API we speak, without asking: Mastodon.py's own discovery costs two requests per client and, when the
        # instance endpoint fails, asks it again and again until Python's recursion limit. (In "none" mode it does
        # not read ``mastodon_version`` itself.) 4.0: images through /api/v2/media, the instance's /api/v2/instance.
        client.mastodon_major, client.mastodon_minor, client.mastodon_patch = (
            int(part) for part in API_VERSION.split("."))
        # Set after construction: Mastodon.py reads ``access_token`` as a file
        # path when such a file exists, which a secret must never trigger.
        client.access_token = token
        return client

    @staticmethod
    def _session() -> requests.Session:
        """A session that remembers each response's Retry-After (Mastodon.py
        does not keep it) for ``translate_error``."""
        session = requests.Session()
        session.socialops_retry_after = None

        def remember_retry_after(response, *args, **kwargs):
            session.socialops_retry_after = retry_after_seconds(response.headers.get("Retry-After"),
                                                                server_date=response.headers.get("Date"))

        session.hooks["response"].append(remember_retry_after)
        return session

    def _call(self, client: Mastodon, action: str, func, *args, **kwargs):
        session = getattr(client, "session", None)
        if session is not None:
            session.socialops_retry_after = None  # never an earlier response's
        try:
            return func(*args, **kwargs)
        except MastodonError as exc:
            raise translate_error(exc, client, action=action) from None

    # -- fetch --

    def fetch(self, account, cursor: dict) -> FetchResult:
        cursor = cursor or {}
        client = self.client(account)
        since_id = str(cursor["since_id"]) if cursor.get("since_id") else None
        resuming = bool(cursor.get("max_id"))
        max_id = str(cursor["max_id"]) if resuming else None
        newest = _newest(cursor.get("newest_id")) if resuming else None
        # A first poll (no since_id) takes at most ``backfill_left`` more mentions.
        left = None
        if since_id is None:
            left = self.backfill()
            if resuming and cursor.get("backfill_left") is not None:
                left = max(0, int(cursor["backfill_left"]))
        statuses: dict[str, dict] = {}
        exhausted = False
        error = None
        deadline = time.monotonic() + self.time_budget
        for _page in range(self.max_pages):
            # With nothing left to backfill, one mention is fetched only to learn where "now" is.
            limit = self.page_limit if left is None else max(1, min(self.page_limit, left))
            try:
                page = self._call(client, "fetching mentions", client.notifications, types=["mention"],
                                  since_id=since_id, max_id=max_id, limit=limit)
            except ConnectorError as exc:
                error = exc  # keep what the earlier pages brought; resume at this page
                break
            fresh = sorted((n for n in (page or []) if since_id is None or id_key(n["id"]) > id_key(since_id)),
                           key=lambda n: id_key(n["id"]), reverse=True)
            if not fresh:
                exhausted = True
                break
            taken = fresh if left is None else fresh[:left]  # the newest ones
            newest = _newest(newest, fresh[0]["id"])
            for notification in taken:
                status = notification.get("status")
                if notification.get("type") == "mention" and status:
                    statuses.setdefault(str(status["id"]), status)
            if left is not None:
                left -= len(taken)
                if left <= 0:
                    exhausted = True  # the backfill is complete: older history is skipped
                    break
            next_page = getattr(page, "_pagination_next", None) or {}
            next_max = str(next_page["max_id"]) if next_page.get("max_id") else None
            if next_max is None or (max_id is not None and id_key(next_max) >= id_key(max_id)) \
                    or (since_id is not None and id_key(next_max) <= id_key(since_id)):
                exhausted = True
                break
            max_id = next_max
            if time.monotonic() > deadline:
                break
        if exhausted:
            new_cursor = {"since_id": _newest(newest, since_id)} if (newest or since_id) else {}
        elif newest is None:
            new_cursor = dict(cursor)  # nothing new seen: resume exactly where this poll started
        else:
            new_cursor = {"since_id": since_id, "max_id": max_id, "newest_id": newest}
            if left is not None:
                new_cursor["backfill_left"] = left
        items = self._items(account, statuses)
        if error is not None and not items and new_cursor == cursor:
            raise error
        return FetchResult(items=items, cursor=new_cursor, error=error)

    def _items(self, account, statuses: dict[str, dict]) -> list[dict]:
        ordered = sorted(statuses.values(), key=lambda s: id_key(s["id"]))
        known = self._known_threads(account, {str(s["in_reply_to_id"]) for s in ordered if s.get("in_reply_to_id")})
        items = []
        for status in ordered:
            item = self.to_item(status, known_threads=known)
            known.setdefault(item["platform_message_id"], item["thread_id"])
            items.append(item)
        return items

    @staticmethod
    def _known_threads(account, ids: set[str]) -> dict[str, str]:
        """Platform id -> thread id of messages already stored (ours or the
        customer's), so a reply to our reply stays in its conversation."""
        from inbox.models import Message

        if not ids:
            return {}
        known = {}
        rows = Message.objects.filter(account=account, platform_message_id__in=ids) \
            .values_list("platform_message_id", "conversation__thread_key")
        for platform_id, thread_key in rows:
            if thread_key.startswith("thread:"):
                known[platform_id] = thread_key.removeprefix("thread:")
        return known

    @staticmethod
    def to_item(status: dict, *, known_threads: dict[str, str] | None = None) -> dict:
        """A Mastodon status as an ingest item (see ``inbox.ingest``)."""
        account = status.get("account") or {}
        in_reply_to = str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else ""
        own_id = str(status["id"])
        thread_id = (known_threads or {}).get(in_reply_to) or in_reply_to or own_id
        text = html_to_text(status.get("content"))
        spoiler = (status.get("spoiler_text") or "").strip()
        if spoiler:
            text = f"CW: {spoiler}\n\n{text}" if text else f"CW: {spoiler}"
        followers = account.get("followers_count") or 0
        try:
            followers = max(0, int(followers))
        except (TypeError, ValueError):
            followers = 0
        url = status.get("url") or status.get("uri") or ""
        if not str(url).startswith(("https://", "http://")) or len(str(url)) > 500:
            url = ""
        return {
            "platform_message_id": own_id,
            "text": text,
            "sent_at": _iso(status.get("created_at")),
            "kind": "direct" if status.get("visibility") == "direct" else "mention",
            "author": {
                "id": str(account.get("id") or ""),
                "handle": _clip(account.get("acct") or account.get("username"), 200),
                "display_name": _clip(account.get("display_name"), 200),
                "followers": followers,
                "verified": False,  # Mastodon has no verified flag
            },
            "thread_id": thread_id[:250],
            "in_reply_to": in_reply_to,
            "language": _language(status.get("language")),
            "url": str(url),
        }

    # -- replies and posts --

    def send_reply(self, account, *, conversation, text: str, idempotency_key: str) -> str:
        from inbox.models import Message, MessageKind

        last = (Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
                .select_related("author").order_by("-sent_at", "-id").first())
        is_direct = conversation.thread_key.startswith("dm:") or (last is not None and last.kind == MessageKind.DIRECT)
        author = (last.author if last is not None and last.author_id else None) or conversation.author
        handle = (author.handle or "").lstrip("@") if author is not None else ""
        if handle and not re.search(rf"(?<![\w@])@{re.escape(handle)}(?![\w@.-])", text, re.IGNORECASE):
            # Without the mention a direct reply reaches no one and a public one notifies no one.
            text = f"@{handle} {text}"
        client = self.client(account)
        status = self._call(client, "sending a reply", client.status_post, text,
                            in_reply_to_id=last.platform_message_id if last is not None else None,
                            visibility="direct" if is_direct else "unlisted",
                            idempotency_key=str(idempotency_key))
        return str(status["id"])

    def publish(self, account, *, text: str, idempotency_key: str, media=(), visibility: str = "public",
                ) -> PublishResult:
        """Uploads the images (with their alt text), then posts the status under the idempotency key: a second
        call with the same key within the server's window returns the first status (Mastodon keeps keys for an
        hour); ``find_published`` covers a retry after that."""
        client = self.client(account)
        self._remember_max_characters(account, client)  # before the status: nothing between its answer and the save
        media_ids = []
        for item in media:
            with item.file.open("rb") as handle:
                uploaded = self._call(client, "uploading an image", client.media_post, handle,
                                      mime_type=item.content_type, description=item.alt_text or None,
                                      file_name=f"image.{item.content_type.rsplit('/', 1)[-1]}")
            media_ids.append(uploaded["id"])
        status = self._call(client, "publishing a post", client.status_post, text,
                            media_ids=media_ids or None, visibility=visibility or None,
                            idempotency_key=str(idempotency_key))
        return PublishResult(str(status["id"]), _safe_url(status.get("url") or status.get("uri")))

    def find_published(self, account, *, idempotency_key: str, text: str, since: datetime | None = None,
                       ) -> PublishResult | None:
        """Our account's newest statuses, for one with exactly this text: the post an earlier attempt made.
        ``since``: no attempt came before it (the post's time), so an older status with the same text (last
        week's "Happy Monday!") is not this post's; a few minutes of leeway cover the server's clock."""
        client = self.client(account)
        me = self._call(client, "reading the account", client.account_verify_credentials)
        statuses = self._call(client, "reading recent posts", client.account_statuses, me["id"], limit=40)
        wanted = _comparable(text)
        not_before = since - CLOCK_LEEWAY if since is not None else None
        for status in statuses or []:
            created = _parsed_time(status.get("created_at"))
            if not_before is not None and created is not None and created < not_before:
                continue
            if _comparable(html_to_text(status.get("content"))) == wanted:
                return PublishResult(str(status["id"]), _safe_url(status.get("url") or status.get("uri")))
        return None

    def _remember_max_characters(self, account, client: Mastodon) -> None:
        """Stores the instance's own length limit (``ConnectorState.max_characters``) the first time the account
        publishes, for the length check of the next posts. Never stops the publication."""
        from inbox.models import ConnectorState

        if not ConnectorState.objects.filter(account=account, max_characters__isnull=True).exists():
            return
        try:
            limit = self._max_characters(client)
        except Exception as exc:  # noqa: BLE001 - the limit is a nicety; the post goes out regardless
            logger.info("Account %s: the instance's length limit could not be read: %s", account.pk,
                        exc if isinstance(exc, ConnectorError) else type(exc).__name__)
            return
        if limit is not None:
            ConnectorState.objects.filter(account=account, max_characters__isnull=True).update(max_characters=limit)

    def instance_max_characters(self, account) -> int | None:
        """The longest status the account's instance takes, as it reports it (None when it does not say)."""
        return self._max_characters(self.client(account))

    def _max_characters(self, client: Mastodon) -> int | None:
        instance = self._call(client, "reading the instance", client.instance)
        try:
            value = int(instance["configuration"]["statuses"]["max_characters"])
        except (KeyError, TypeError, ValueError):
            return None
        return value if 0 < value <= 100_000 else None


_REMOTE_MENTION = re.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w")


def _comparable(text: str) -> str:
    """A status's text as Mastodon shows it back: a mention by its local part (``@ana@example.social`` is shown
    as ``@ana``), whitespace collapsed."""
    return " ".join(_REMOTE_MENTION.sub(r"\1", text or "").split())


def _parsed_time(value) -> datetime | None:
    """A status's ``created_at`` (Mastodon.py gives a datetime; a plain server may give ISO text)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _safe_url(value) -> str:
    url = str(value or "")
    return url if url.startswith(("https://", "http://")) and len(url) <= 500 else ""


connector = MastodonConnector()
register(connector)
