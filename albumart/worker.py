"""The RQ worker class (settings.RQ["WORKER_CLASS"]): a render worker loads its models before it forks.

RQ forks a work horse per job, and the horse forgets whatever it loaded when it exits. Without this, every
render job paid for loading the person, face and text models, the fonts and the Sentinel's readers (about 2 s
of a job of 1.5-3 s). Loaded once in the worker's parent, they are shared copy-on-write with every horse.
"""

import logging
import time

from rq import Worker as RQWorker

log = logging.getLogger(__name__)


class Worker(RQWorker):
    def work(self, *args, **kwargs):
        from django.conf import settings

        warm_urls()
        if any(queue.name == "render" for queue in self.queues):
            import cv2

            cv2.setNumThreads(settings.RENDER_THREADS)  # before the warm-up: OpenCV's pool is made once
            if settings.WORKER_WARM_UP:
                warm_up()
        return super().work(*args, **kwargs)


def warm_urls() -> None:
    """Build the URL resolver once in the parent: every horse signs file URLs (reverse), and building it in each
    one cost a callback delivery 60 ms of its 140."""
    from django.urls import get_resolver

    try:
        get_resolver()._populate()
    except Exception:
        log.exception("URL resolver not built before forking; each job builds its own")


def warm_up() -> float:
    """Prepare a small synthetic photo and render and check one small cover of every genre; the seconds it took.
    A failure here is logged, never fatal: the horses then load what they need themselves."""
    started = time.monotonic()
    try:
        import numpy as np
        from django.conf import settings
        from PIL import Image

        from generation import engine
        from generation.engine import sentinel
        from generation.engine.presets import GENRES

        yy, xx = np.mgrid[0:640, 0:480]
        pixels = np.stack([xx * 255 // 480, yy * 255 // 640, np.full_like(xx, 128)], axis=2).astype(np.uint8)
        photo = Image.fromarray(pixels)
        prepared = engine.prepare_photo(photo, segmentation=settings.ALBUMART_SEGMENTATION,
                                        model_dir=settings.ALBUMART_MODEL_DIR)
        for n, genre in enumerate(GENRES):
            spec = engine.CoverSpec(genre=genre, artist="Warm Up", album="Engine", size=1400, seed=n,
                                    variant=engine.VARIANTS[n % len(engine.VARIANTS)], output_format="jpeg",
                                    segmentation=settings.ALBUMART_SEGMENTATION,
                                    model_dir=settings.ALBUMART_MODEL_DIR)
            result = engine.render(spec, prepared if n % 2 else None)
            if n < 2:
                sentinel.check(result, result.measurements, requested_size=spec.size,
                               texts={"artist": "Warm Up", "album": "Engine"}, ocr=settings.QA_OCR)
    except Exception:
        log.exception("warm-up failed; render jobs will load their models themselves")
    seconds = time.monotonic() - started
    log.info("render worker warmed up in %.1f s", seconds)
    return seconds
