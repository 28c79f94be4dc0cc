from django.db import migrations, models


class Migration(migrations.Migration):
    """The API a task came through (native, sunoapi, apiin): its callback body is rendered in that API's format.
    Existing tasks are native."""

    dependencies = [
        ("generation", "0009_release_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="covertask",
            name="dialect",
            field=models.CharField(choices=[("native", "Native"), ("sunoapi", "Sunoapi"), ("apiin", "Apiin")],
                                   default="native", max_length=8),
        ),
    ]
