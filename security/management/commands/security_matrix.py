from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from security import matrix


class Command(BaseCommand):
    help = ("Computes the roles x capabilities matrix by probing the permission functions and services "
            "(inside a transaction that is rolled back) and prints it as Markdown; --write rewrites the block "
            f"between {matrix.MATRIX_START} and {matrix.MATRIX_END} in docs/SECURITY.md.")

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true",
                            help="Rewrite the matrix block in the document instead of printing it.")
        parser.add_argument("--path", default=str(matrix.DOC_PATH),
                            help="The document holding the block (default: docs/SECURITY.md).")
        parser.add_argument("--explain", action="store_true",
                            help="Also print, for every cell, what the probe returned or why it was refused.")

    def handle(self, *args, write=False, path=None, explain=False, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("The database has unapplied migrations: run `python manage.py migrate` first "
                               "(the probes run there, inside a transaction that is rolled back).")
        result = matrix.compute_matrix()
        block = matrix.render_block(result)
        if explain:
            for row in result.rows:
                for column in result.columns:
                    mark = matrix.YES if row.cells[column.key] else matrix.NO
                    self.stdout.write(f"{row.key:<28} {column.key:<26} {mark} {row.reasons[column.key]}")
        if not write:
            self.stdout.write(block)
            return
        doc = Path(path)
        try:
            text = doc.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{doc} does not exist.") from None
        try:
            updated = matrix.replace_block(text, block)
        except ValueError as exc:
            raise CommandError(f"{doc}: {exc}") from None
        if updated == text:
            self.stdout.write(self.style.SUCCESS(f"{doc}: the matrix is already up to date."))
            return
        doc.write_text(updated, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"{doc}: matrix rewritten."))
