"""The connector interface: one per platform.

A connector fetches new mentions, comments and direct messages since a
cursor, sends a reply, and publishes a post (used by the strategy app). It
reads credentials only through ``security.services.credential_for_connector``:
people never hold the password."""

from dataclasses import dataclass, field
from typing import Protocol


class ConnectorError(Exception):
    """A platform call failed. ``retry_after`` (seconds) says when to try again
    for a transient failure (429, 5xx, network); None means permanent.
    ``server_said`` is True when the platform itself named that time
    (``Retry-After``, or the rate limit's reset on a 429): the poller then
    waits exactly that long instead of its own doubling back-off."""

    def __init__(self, message: str, *, retry_after: float | None = None, server_said: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.server_said = server_said and retry_after is not None

    @property
    def transient(self) -> bool:
        return self.retry_after is not None


class NoConnectorError(ConnectorError):
    """No connector can talk to this platform: replies must be posted by hand."""


@dataclass
class FetchResult:
    """Items in the ingest service's input format, and the cursor to store
    once they are safely ingested.

    A fetch that fails part-way returns what it got before the failure, a
    cursor that covers only those items (so the next poll resumes where this
    one stopped) and the failure in ``error``; a fetch that got nothing may
    raise the ConnectorError instead."""

    items: list[dict] = field(default_factory=list)
    cursor: dict = field(default_factory=dict)
    error: ConnectorError | None = None


@dataclass(frozen=True)
class PublishResult:
    """Where a published post is: the platform's id for it and its public address (empty when unknown)."""

    platform_id: str
    url: str = ""


class Connector(Protocol):
    platform: str

    def fetch(self, account, cursor: dict) -> FetchResult: ...

    def send_reply(self, account, *, conversation, text: str, idempotency_key: str) -> str:
        """Posts ``text`` as a reply in ``conversation``; returns the platform id.
        The same idempotency key must never produce two posts."""
        ...

    def publish(self, account, *, text: str, idempotency_key: str, media=(), visibility: str = "public",
                ) -> PublishResult:
        """Publishes a post (``media``: ``strategy.PostMedia`` rows, each with its file and alt text). The same
        idempotency key must never produce two posts."""
        ...

    def find_published(self, account, *, idempotency_key: str, text: str, since=None) -> PublishResult | None:
        """The post an earlier attempt with this key published, if the platform has it (asked before trying
        again after an attempt whose outcome is unknown); None when it is not there. ``since``: no attempt came
        before it (the post's time); an older status with the same text is not this post's."""
        ...


_registry: dict[str, Connector] = {}


def register(connector: Connector) -> None:
    _registry[connector.platform] = connector


SANDBOX = "sandbox"  # the registry key of the portal's own sandbox platform (``inbox.connectors.sandbox``)


def connector_for(platform: str) -> Connector:
    """The connector registered for ``platform``. Callers that hold an
    account use ``connector_for_account``: a sandbox channel never reaches
    its platform."""
    try:
        return _registry[platform]
    except KeyError:
        raise NoConnectorError(
            f"No connector sends to {platform} yet: post the reply on the platform by hand and mark it sent."
        ) from None


def connector_for_account(account) -> Connector:
    """The connector that sends for ``account``: the sandbox connector for
    every sandbox channel (``SocialAccount.sandbox``) whatever its platform,
    otherwise the platform's. Raises NoConnectorError when there is none."""
    return connector_for(SANDBOX if getattr(account, "sandbox", False) else account.platform)


def has_connector(account) -> bool:
    """True when something can send for ``account`` (no query: the registry only)."""
    try:
        connector_for_account(account)
    except NoConnectorError:
        return False
    return True


def unregister(platform: str) -> None:
    _registry.pop(platform, None)
