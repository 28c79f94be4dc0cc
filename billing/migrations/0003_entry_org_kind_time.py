from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_purchases_stripe_events_idempotency'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='creditentry',
            index=models.Index(fields=['organization', 'kind', 'created_at'], name='entry_org_kind_time'),
        ),
    ]
