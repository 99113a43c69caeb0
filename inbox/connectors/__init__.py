"""Platform connectors (see ``base`` for the interface).

Each built-in connector registers itself when its module is imported;
``load_builtin()`` imports them all. ``InboxConfig.ready`` calls it so that
``connector_for`` knows every platform from the start, and the poller calls
it again (a no-op once imported) so a worker never runs without them."""

from importlib import import_module

BUILTIN = ("inbox.connectors.mastodon", "inbox.connectors.sandbox")


def load_builtin() -> None:
    for module in BUILTIN:
        import_module(module)
