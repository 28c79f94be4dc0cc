"""Store technical rules, read from the encoded file itself (its header, mode, profile and metadata)."""

from __future__ import annotations

import io

from PIL import Image, ImageCms

from . import thresholds as T

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _profile_name(icc: bytes | None) -> str:
    if not icc:
        return ""
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except Exception:  # a corrupt profile is as good as none
        return "unreadable"


def technical_checks(image: Image.Image, nbytes: int | None, requested_size: int) -> tuple[dict, dict]:
    """(checks, values) for size, square, bytes, format, mode, srgb, dpi and alpha of an opened (not decoded) image."""
    w, h = image.size
    min_side = requested_size or T.MIN_SIDE  # the API's default size is the stores' 3000
    profile = _profile_name(image.info.get("icc_profile"))
    dpi = image.info.get("dpi")
    dpi_value = float(min(dpi)) if dpi else 0.0
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    values = {"width": w, "height": h, "min_side": min_side, "format": image.format or "", "mode": image.mode,
              "icc_profile": profile, "dpi": round(dpi_value, 2)}
    checks = {
        "square": "pass" if w == h else "fail",
        "size": "pass" if min(w, h) >= min_side else "fail",
        "format": "pass" if image.format in T.FORMATS else "fail",
        "rgb": "pass" if image.mode in T.RGB_MODES else "fail",
        "srgb": "pass" if "srgb" in profile.lower() else "fail",
        "dpi": "pass" if abs(dpi_value - T.DPI) <= T.DPI_TOLERANCE else "fail",
        "alpha": "fail" if has_alpha else "pass",
    }
    if nbytes is not None:
        values["bytes"] = nbytes
        checks["bytes"] = "pass" if 0 < nbytes < T.MAX_BYTES else "fail"
    return checks, values
