"""Indexes for the folder list (indexes only).

- (organization, start_date, id): the list sorted by start date. The other sortable
  columns have theirs already: number, name, status, contract end, and customer through
  customers' (organization, name, id) (customers/0002).
- PostgreSQL only: a trigram GIN index on UPPER(number), UPPER(name) for the search box
  (`icontains`, see customers/0002). SQLite scans, as before.

Created here rather than in Folder.Meta so that they stay database-specific and the
model state (makemigrations) is untouched.
"""

from django.db import migrations, models

ORG_START = models.Index(fields=["organization", "start_date", "id"], name="folder_org_start_id")
TRIGRAM_SQL = (
    'CREATE INDEX "folder_search_trgm" ON "folders_folder" USING gin '
    '((UPPER("number"::text)) gin_trgm_ops, (UPPER("name"::text)) gin_trgm_ops)'
)


def add_indexes(apps, schema_editor):
    schema_editor.add_index(apps.get_model("folders", "Folder"), ORG_START)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # see customers/0002
        schema_editor.execute(TRIGRAM_SQL)


def remove_indexes(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("folders", "Folder"), ORG_START)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "folder_search_trgm"')


class Migration(migrations.Migration):
    dependencies = [("folders", "0001_initial"), ("customers", "0002_list_indexes")]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
