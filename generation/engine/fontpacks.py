"""The genre faces and script fallbacks that ship in Debian's font packages, fetched into a local folder.

`.ci/run` installs the packages with apt-get; `make run` and `make test` call `manage.py fetch_fonts`, which
takes the same files out of the packages with `apt-get download` and `dpkg-deb -x` (no root needed) into
ALBUMART_FONT_DIR (var/fonts). Fonts are never committed. Without either, each genre face falls back to the
PyPI face named in its FontRef and the covers say so in their measurements.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Debian package -> a file it holds (relative to /usr/share/fonts), to tell whether it is there.
PACKAGES = {
    "fonts-bebas-neue": "opentype/bebas-neue/BebasNeue-Bold.otf",
    "fonts-blankenburg": "truetype/blankenburg/Blankenburg_UNZ1A.ttf",
    "fonts-courier-prime": "opentype/courier-prime/Courier Prime Bold.otf",
    "fonts-league-spartan": "opentype/league-spartan/LeagueSpartan-Black.otf",
    "fonts-ebgaramond": "opentype/ebgaramond/EBGaramond12-Bold.otf",
    "fonts-noto-core": "truetype/noto/NotoSans-Bold.ttf",
    "fonts-noto-cjk": "opentype/noto/NotoSansCJK-Bold.ttc",
}
SYSTEM = Path("/usr/share/fonts")


def font_dir() -> Path:
    configured = os.environ.get("ALBUMART_FONT_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "var" / "fonts"


class FontFetchError(RuntimeError):
    pass


def missing() -> list[str]:
    return [pkg for pkg, path in PACKAGES.items()
            if not (SYSTEM / path).is_file() and not (font_dir() / path).is_file()]


def fetch(target: Path | None = None) -> dict[str, str]:
    """Extract every package whose fonts are neither installed nor fetched yet; "present" or "extracted" each."""
    target = target or font_dir()
    report = {pkg: "present" for pkg in PACKAGES}
    todo = missing()
    if not todo:
        return report
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise FontFetchError("apt-get and dpkg-deb are needed to fetch the genre fonts from Debian's packages "
                             f"({', '.join(todo)}); install them with apt-get, or the PyPI faces are used")
    with tempfile.TemporaryDirectory() as work:
        for pkg in todo:
            done = subprocess.run(["apt-get", "download", pkg], cwd=work, capture_output=True, text=True,
                                  timeout=600)
            debs = sorted(Path(work).glob(f"{pkg}_*.deb"))
            if done.returncode != 0 or not debs:
                raise FontFetchError(f"apt-get download {pkg} failed: {done.stderr.strip()[-300:]}")
            unpacked = Path(work) / pkg
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(unpacked)], check=True, timeout=600)
            source = unpacked / "usr" / "share" / "fonts"
            for path in source.rglob("*"):
                if path.is_file() and path.suffix.lower() in (".ttf", ".otf", ".ttc"):
                    dest = target / path.relative_to(source)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path.resolve(), dest)
            report[pkg] = "extracted"
    return report
