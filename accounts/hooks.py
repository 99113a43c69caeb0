"""Seams for higher layers to extend this one's pages without this layer
importing them.

``PERSON_ACTIONS``: (label, url_name, css_class) shown on an admin's person
page; the URL is reversed with the person's pk."""

PERSON_ACTIONS: list[tuple] = []
