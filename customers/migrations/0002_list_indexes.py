"""Indexes for the customer list and the searches over customers (indexes only).

- (organization, name, id): the list sorted by name over every kind, and the folder list
  sorted by customer (folders.tables.FolderTable.order_customer walks it in order).
- PostgreSQL only: trigram GIN indexes for the search boxes. Django writes `icontains` as
  `UPPER(column::text) LIKE UPPER('%term%')`, which no b-tree can serve; a trigram index
  on the same UPPER(...) expression can (and `iexact`, `=`, since pg_trgm 1.6). One
  multi-column index per table: PostgreSQL ORs one bitmap scan per searched column.
  SQLite has no such index; there the searches scan, as before.

Created here rather than in the models' Meta so that they stay database-specific and
the model state (makemigrations) is untouched. The GIN indexes are plain SQL: Django's
OpClass() index expressions need django.contrib.postgres in INSTALLED_APPS.
"""

from django.db import migrations, models

ORG_NAME = models.Index(fields=["organization", "name", "id"], name="customer_org_name_id")


def _trigram(*columns: str) -> str:
    return ", ".join(f'(UPPER("{column}"::text)) gin_trgm_ops' for column in columns)


TRIGRAM = {
    "customer_search_trgm": (
        "customers_customer",
        _trigram("name", "name_addition", "number", "city", "email", "invoice_email", "phone")
        + ', ("postal_code"::text) gin_trgm_ops',
    ),
    "contact_search_trgm": ("customers_contact", _trigram("last_name", "first_name", "email")),
}


def add_indexes(apps, schema_editor):
    schema_editor.add_index(apps.get_model("customers", "Customer"), ORG_NAME)
    if schema_editor.connection.vendor == "postgresql":
        # pg_trgm is a trusted extension: the database owner may create it. Unapplying
        # leaves it in place (other indexes may use it).
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, columns) in TRIGRAM.items():
            schema_editor.execute(f'CREATE INDEX "{name}" ON "{table}" USING gin ({columns})')


def remove_indexes(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("customers", "Customer"), ORG_NAME)
    if schema_editor.connection.vendor == "postgresql":
        for name in TRIGRAM:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
