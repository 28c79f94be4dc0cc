from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0004: its data step and this table change would share one transaction on PostgreSQL."""

    dependencies = [
        ("generation", "0004_delivery_outbox"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='callbackdelivery',
            constraint=models.UniqueConstraint(fields=('task', 'attempt'), name='one_row_per_attempt'),
        ),
    ]
