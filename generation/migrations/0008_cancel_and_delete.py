from django.db import migrations, models


class Migration(migrations.Migration):
    """Cancel and delete through the API, the source photo's retention and the task list's index.

    CANCELLED is a new terminal status; like FAILED, it frees the client's task id (the partial unique constraint
    is rebuilt with the new condition). `deleted_at` marks a task whose files were removed by DELETE, and
    `source_purged_at` one whose photo `manage.py purge_sources` removed.
    """

    dependencies = [
        ("generation", "0007_phash_bands"),
    ]

    operations = [
        migrations.AlterField(
            model_name="covertask",
            name="status",
            field=models.CharField(
                choices=[("PENDING", "Pending"), ("GENERATING", "Generating"), ("REVIEW", "Review"),
                         ("SUCCESS", "Success"), ("PARTIAL", "Partial"), ("FAILED", "Failed"),
                         ("CANCELLED", "Cancelled")],
                db_index=True, default="PENDING", max_length=12),
        ),
        migrations.AddField(
            model_name="covertask",
            name="deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="covertask",
            name="source_purged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="covertask",
            name="one_live_task_per_client_task_id",
        ),
        migrations.AddConstraint(
            model_name="covertask",
            constraint=models.UniqueConstraint(
                condition=models.Q(client_task_id__isnull=False) & ~models.Q(status__in=["FAILED", "CANCELLED"]),
                fields=("organization", "client_task_id"), name="one_live_task_per_client_task_id"),
        ),
        migrations.AddIndex(
            model_name="covertask",
            index=models.Index(fields=["organization", "created_at", "id"], name="task_org_created"),
        ),
    ]
