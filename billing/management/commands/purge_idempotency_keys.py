from django.core.management.base import BaseCommand
from django.utils import timezone

from albumart.idempotency import TTL
from billing.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than 24 hours (they are never replayed again)."

    def handle(self, **options):
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
        self.stdout.write(f"deleted {deleted} expired idempotency record(s)")
