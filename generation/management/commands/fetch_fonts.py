from django.core.management.base import BaseCommand, CommandError

from generation.engine.fontpacks import PACKAGES, FontFetchError, fetch, font_dir


class Command(BaseCommand):
    help = ("Put the genre faces and script fallbacks (Debian font packages: Bebas Neue, Blankenburg, Courier "
            "Prime, League Spartan, EB Garamond, Noto) in ALBUMART_FONT_DIR, unless they are installed; "
            "does nothing when they are already there.")

    def add_arguments(self, parser):
        parser.add_argument("--optional", action="store_true",
                            help="warn instead of failing where the packages cannot be fetched")

    def handle(self, *args, **options):
        try:
            report = fetch()
        except FontFetchError as exc:
            if options["optional"]:
                self.stderr.write(f"warning: {exc}")
                return
            raise CommandError(str(exc)) from exc
        for pkg in PACKAGES:
            self.stdout.write(f"{report[pkg]:>9}  {pkg} ({font_dir()})")
