"""No day of a recurring line is billed in two periods (PostgreSQL).

UNIQUE (line, period start, kind) stops a second charge of the same period; it cannot
see a period that starts on another day (the billing day moved under billed lines) and
covers days already billed. This exclusion constraint can: two charges of one line whose
periods overlap must belong to the same period (the same start).

Not "no two charges cover the same day": inside one period, credits and change pieces
cover billed days again on purpose (summed, they give what the day is billed at), and
the setup fee is no day at all - it only rides on the first charged period, so it is
left out.

PostgreSQL only (a GiST index on the date range, with btree_gist for the line id and
the period start); on SQLite the engine's own check stands (billing.engine.due_charges
refuses a billed period that is not a period of the line). Created here rather than in
BillingCharge.Meta so that it stays database-specific and the model state is untouched.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

NAME = "billingcharge_periods_never_overlap"
ADD_SQL = (
    f'ALTER TABLE "billing_billingcharge" ADD CONSTRAINT "{NAME}" EXCLUDE USING gist ('
    '"recurring_line_id" WITH =, daterange("period_start", "period_end", \'[]\') WITH &&, '
    '"period_start" WITH <>) '
    "WHERE (\"kind\" <> 'setup')"
)


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD_SQL)


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER TABLE "billing_billingcharge" DROP CONSTRAINT IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_skip_awaiting_delivery")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
