from django.db import migrations, models


def fill_release_keys(apps, schema_editor):
    from generation.models import release_key

    task = apps.get_model("generation", "CoverTask")
    batch = []
    for row in task.objects.only("pk", "params").iterator(chunk_size=2000):
        params = row.params if isinstance(row.params, dict) else {}
        row.release_key = release_key(params.get("text_artist"), params.get("text_album"))
        if row.release_key:
            batch.append(row)
        if len(batch) >= 2000:
            task.objects.bulk_update(batch, ["release_key"])
            batch = []
    if batch:
        task.objects.bulk_update(batch, ["release_key"])


class Migration(migrations.Migration):
    """Each task's release (its normalised artist and title, hashed): the reuse check leaves out the covers of the
    same release, so a resubmission is not "reused artwork". Filled in for the existing tasks."""

    dependencies = [
        ("generation", "0008_cancel_and_delete"),
    ]

    operations = [
        migrations.AddField(
            model_name="covertask",
            name="release_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AddIndex(
            model_name="covertask",
            index=models.Index(fields=["organization", "release_key"], name="task_org_release"),
        ),
        migrations.RunPython(fill_release_keys, migrations.RunPython.noop),
    ]
