"""Dunning letters by post are printed from the documents' list to print: every letter
still waiting for the printer gets its queued post row there."""

from django.db import migrations


def queue_unprinted_letters(apps, schema_editor):
    DunningLetter = apps.get_model("payments", "DunningLetter")
    Dispatch = apps.get_model("documents", "Dispatch")
    waiting = DunningLetter.objects.filter(delivery="post", printed_at__isnull=True).exclude(
        document__dispatches__channel="post"
    )
    Dispatch.objects.bulk_create(
        Dispatch(
            organization_id=letter.organization_id,
            document_id=letter.document_id,
            channel="post",
            attempt=1,
            key=f"doc{letter.document_id}-post-1",
            recipients=[],
            status="queued",
        )
        for letter in waiting.only("organization_id", "document_id")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0008_batch_scheme"),
        ("documents", "0012_dispatch_to_financier"),
    ]

    operations = [migrations.RunPython(queue_unprinted_letters, migrations.RunPython.noop)]
