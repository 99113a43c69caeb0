"""The top bar's search: each app registers a provider that searches only
what the asking user may see, so one box finds conversations, people and
channels without this package knowing any of them."""

from collections.abc import Callable
from dataclasses import dataclass

MIN_LENGTH, MAX_LENGTH, PER_PROVIDER = 2, 100, 10


@dataclass(frozen=True)
class Hit:
    title: str
    subtitle: str
    url: str


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    order: int
    search: Callable[[object, str, int], list[Hit]]


_providers: list[Provider] = []


def register(key: str, label, *, order: int, search: Callable[[object, str, int], list[Hit]]) -> None:
    if any(p.key == key for p in _providers):
        return
    _providers.append(Provider(key, label, order, search))
    _providers.sort(key=lambda p: p.order)


def search_all(user, query: str) -> list[dict]:
    query = (query or "").strip()[:MAX_LENGTH]
    if len(query) < MIN_LENGTH:
        return []
    groups = []
    for provider in _providers:
        hits = provider.search(user, query, PER_PROVIDER)
        if hits:
            groups.append({"key": provider.key, "label": provider.label, "hits": hits})
    return groups
