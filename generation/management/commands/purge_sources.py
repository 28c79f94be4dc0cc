"""The retention of artists' photos: a photo is kept for the work and a while after, then deleted.

`purge_sources` (daily, generation/cron.py) deletes the photos of tasks that ended more than
SOURCE_RETENTION_DAYS ago; DELETE /api/v1/cover/{taskId} deletes one task's photo at once (generation/api.py).
"""

import logging
import posixpath
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from generation.files import delete_source, folder_listing
from generation.models import TERMINAL, CoverTask

log = logging.getLogger(__name__)

BATCH = 500


def purge_sources(now=None) -> int:
    """Delete the photos of tasks that ended more than SOURCE_RETENTION_DAYS ago; returns how many were deleted.

    A variation shares its parent's photo: a photo stays while any task using it is still waiting or ended
    recently. The files go first, then the rows forget them, so a failure leaves the row pointing at what is left
    for the next run."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SOURCE_RETENTION_DAYS)
    expired = Q(status__in=TERMINAL, completed_at__lt=cutoff)
    paths = sorted(set(CoverTask.objects.filter(expired).exclude(source_path="")
                       .values_list("source_path", flat=True)))
    purged = 0
    for start in range(0, len(paths), BATCH):
        chunk = paths[start:start + BATCH]
        in_use = set(CoverTask.objects.filter(source_path__in=chunk).exclude(expired)
                     .values_list("source_path", flat=True))
        listings: dict[str, list[str]] = {}  # one listing per folder (sources/<org>), not one per photo
        for path in chunk:
            if path in in_use:
                continue
            directory = posixpath.dirname(path)
            if directory not in listings:
                listings[directory] = folder_listing(directory)
            delete_source(path, listings[directory])
            # Only the expired rows: a variation created from the photo a moment ago keeps its path, and its render
            # fails loudly (credits released) instead of silently drawing a cover without the photo.
            CoverTask.objects.filter(expired, source_path=path).update(source_path="", source_purged_at=now)
            purged += 1
    if purged:
        log.info("purge_sources: deleted %s photo(s) of tasks that ended before %s", purged, cutoff.date())
    return purged


class Command(BaseCommand):
    help = "Delete the photos of tasks that ended more than SOURCE_RETENTION_DAYS ago (run daily)."

    def handle(self, **options):
        self.stdout.write(f"deleted {purge_sources()} source photo(s) older than {settings.SOURCE_RETENTION_DAYS} "
                          f"days")
