"""The sandbox connector: the portal's own platform for demo and training
channels (``SocialAccount.sandbox``).

Every sandbox channel uses it whatever its platform (``connector_for_account``),
so a demo reply or post completes end to end and never leaves the portal. A
reply or a post is "sent" by recording a ``SandboxPost``; the sandbox channel
page (``inbox.views_sandbox``) shows the channel as a customer would see it.

As a real platform's ``Idempotency-Key`` does, a second send with the same key
returns the first post's id and records nothing, even when both sends race
(the key is unique in the database). ``fetch`` brings nothing: the messages of
a sandbox channel are seeded or imported, so polling one succeeds quietly."""

from django.db import IntegrityError, transaction

from .base import SANDBOX, ConnectorError, FetchResult, PublishResult, register

MAX_KEY_LENGTH = 100  # SandboxPost.idempotency_key


class SandboxConnector:
    platform = SANDBOX

    def fetch(self, account, cursor: dict) -> FetchResult:
        return FetchResult(items=[], cursor=dict(cursor or {}))

    def send_reply(self, account, *, conversation, text: str, idempotency_key: str) -> str:
        from inbox.models import Message, SandboxPost

        answered = (Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
                    .order_by("-sent_at", "-id").values_list("platform_message_id", flat=True).first())
        return self._record(account, kind=SandboxPost.Kind.REPLY, text=text, idempotency_key=idempotency_key,
                            in_reply_to=answered or "", thread_key=conversation.thread_key)

    def publish(self, account, *, text: str, idempotency_key: str, media=(), visibility: str = "public",
                ) -> PublishResult:
        from inbox.models import SandboxPost

        platform_id = self._record(account, kind=SandboxPost.Kind.POST, text=text, idempotency_key=idempotency_key)
        return PublishResult(platform_id, self._url(account, platform_id))

    def find_published(self, account, *, idempotency_key: str, text: str, since=None) -> PublishResult | None:
        """The post recorded under this key (the key alone identifies it: ``since`` is not needed)."""
        from inbox.models import SandboxPost

        post = SandboxPost.objects.filter(idempotency_key=str(idempotency_key), account=account).first()
        return PublishResult(post.platform_id, self._url(account, post.platform_id)) if post else None

    @staticmethod
    def _url(account, platform_id: str) -> str:
        """The sandbox channel page, where the post shows as a customer would see it (an address inside the
        portal: the sandbox is not on the internet)."""
        from django.urls import reverse

        return f"{reverse('inbox:sandbox', args=[account.pk])}#{platform_id}"

    @staticmethod
    def _record(account, *, kind: str, text: str, idempotency_key: str, in_reply_to: str = "",
                thread_key: str = "") -> str:
        from inbox.models import SandboxPost

        key = str(idempotency_key or "")
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ConnectorError(f"The sandbox needs an idempotency key of 1 to {MAX_KEY_LENGTH} characters.")
        fields = {"account": account, "kind": kind, "text": text, "in_reply_to": in_reply_to[:300],
                  "thread_key": thread_key[:300]}
        try:
            # A savepoint: the losing insert of a race leaves a caller's transaction usable.
            with transaction.atomic():
                post, _created = SandboxPost.objects.get_or_create(idempotency_key=key, defaults=fields)
        except IntegrityError:
            # The other send committed between our read and our insert: its post is the one.
            post = SandboxPost.objects.get(idempotency_key=key)
        if post.account_id != account.pk:
            raise ConnectorError("This idempotency key was already used on another sandbox channel.")
        return post.platform_id


connector = SandboxConnector()
register(connector)
