"""PostgreSQL: indexes on customer names in German order (indexes only).

The customer and prospect lists and the folder list sorted by customer order by
`name COLLATE "de-x-icu"` (organizations.collation). An index on the plain column keeps
the byte order and cannot deliver that order, so PostgreSQL would sort every customer of
the organization for each page. These match the collated sorts:

- (organization, kind, name de, id): the customer and the prospect list (one kind each).
- (organization, name de, id): the list over all kinds, and the folder list sorted by
  customer (folders.tables.FolderTable.order_customer walks it in order).

SQLite has no use for them: its collation is a Python function registered per
connection, and an index on it would make every write depend on that registration.
"""

from django.db import migrations

INDEXES = {
    "customer_org_kind_name_de": '("organization_id", "kind", "name" COLLATE "de-x-icu", "id")',
    "customer_org_name_de": '("organization_id", "name" COLLATE "de-x-icu", "id")',
}


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(f'CREATE INDEX "{name}" ON "customers_customer" {columns}')


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_action_system_text")]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
