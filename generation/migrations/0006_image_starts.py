from django.db import migrations, models


class Migration(migrations.Migration):
    """Fan-out: one render job per image, each image's starts counted on the task."""

    dependencies = [
        ("generation", "0005_one_row_per_attempt"),
    ]

    operations = [
        migrations.AddField(
            model_name="covertask",
            name="image_starts",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
