from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation.engine.segmentation.models import MODEL_FILES, ModelFetchError, fetch


def default_model_dir() -> Path:
    configured = getattr(settings, "ALBUMART_MODEL_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "var" / "models"


class Command(BaseCommand):
    help = ("Put the segmentation, face and text-detection models in the model directory, extracted from the "
            "pinned mediapipe and rapidocr-onnxruntime wheels on PyPI and checked by sha256; does nothing when "
            "they are already there.")

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="model directory (default: ALBUMART_MODEL_DIR or <project>/var/models)")
        parser.add_argument("--wheel", action="append",
                            help="extract from this already downloaded wheel instead of pip (repeatable)")

    def handle(self, *args, **options):
        model_dir = Path(options["dir"]) if options["dir"] else default_model_dir()
        try:
            report = fetch(model_dir, wheel=options["wheel"])
        except ModelFetchError as exc:
            raise CommandError(str(exc)) from exc
        for model in MODEL_FILES:
            self.stdout.write(f"{report[model.name]:>9}  {model_dir / model.filename}")
