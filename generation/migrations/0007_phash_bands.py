import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, Max, OuterRef, Subquery
from django.db.models.functions import Lower, StrIndex, Substr

BATCH = 5000


def reuse_key(n: int) -> models.Expression:
    """Key n of the reuse index: organisation x 65536 + band n of the hex pHash (a frozen copy of
    generation.models.reuse_key)."""
    band = None
    for i in range(4):
        digit = StrIndex(models.Value("0123456789abcdef"), Lower(Substr("phash", 4 * n + i + 1, 1))) - 1
        term = digit * 16 ** (3 - i) if i < 3 else digit
        band = term if band is None else band + term
    return F("organization") * 65536 + band


def copy_organisations(apps, schema_editor):
    """Each existing cover gets its task's organisation, BATCH rows per UPDATE."""
    if schema_editor.connection.vendor == "postgresql":
        # The UPDATEs queue deferred foreign-key checks, and PostgreSQL refuses to ALTER the table (or index it)
        # in the same transaction while any is pending: check them as they come.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    CoverImage = apps.get_model("generation", "CoverImage")
    CoverTask = apps.get_model("generation", "CoverTask")
    organisation = Subquery(CoverTask.objects.filter(pk=OuterRef("task_id")).order_by().values("organization_id"))
    last = CoverImage.objects.aggregate(last=Max("pk"))["last"] or 0
    for start in range(0, last + 1, BATCH):
        (CoverImage.objects.filter(pk__gte=start, pk__lt=start + BATCH, organization__isnull=True)
         .update(organization_id=organisation))


class Migration(migrations.Migration):
    """The reuse check's index: each cover's organisation, then four keys (organisation x 65536 + a 16-bit band of
    the pHash) as stored generated columns, each indexed.

    The organisations are copied in batches; then the database computes the keys of every row (PostgreSQL rewrites
    the table under its lock for each column, then builds the indexes; SQLite rebuilds the table): ~25 s for 100k
    covers on either. No later write (save, bulk_create, update) can leave a key out of step with `phash`.
    """

    dependencies = [
        ("accounts", "0001_initial"),
        ("generation", "0006_image_starts"),
    ]

    operations = [
        migrations.AddField(
            model_name="coverimage",
            name="organization",
            field=models.ForeignKey(blank=True, editable=False, null=True,
                                    on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="accounts.organization"),
        ),
        migrations.RunPython(copy_organisations, migrations.RunPython.noop, elidable=True),
        *(migrations.AddField(
            model_name="coverimage",
            name=f"reuse_key{n}",
            field=models.GeneratedField(expression=reuse_key(n), output_field=models.BigIntegerField(),
                                        db_persist=True, db_index=True),
        ) for n in range(4)),
    ]
