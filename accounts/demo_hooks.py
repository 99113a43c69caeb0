"""Higher apps (security, inbox, strategy) append a callable taking the
command's stdout; ``seed_demo`` runs them in order after the people exist.
A seeder that dates what it loads also takes ``now`` (keyword): the instant
its history ends, the present unless ``seed_demo --now`` says otherwise."""

SEEDERS: list = []
