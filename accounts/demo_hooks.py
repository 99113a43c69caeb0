"""Higher apps (security, inbox, strategy) append a callable taking the
command's stdout; ``seed_demo`` runs them in order after the people exist."""

SEEDERS: list = []
