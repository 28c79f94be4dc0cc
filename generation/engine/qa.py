"""Stage 7, qa (first checks): what a store rejects outright, measured on the encoded bytes themselves."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from .spec import MAX_BYTES, RenderResult

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def basic_qa(result: RenderResult, *, requested_size: int) -> dict:
    """Square, at least the requested side, under 10 MB, no alpha, JPEG or PNG: decoded, not trusted."""
    values: dict = {"bytes": len(result.data), "requested_size": requested_size}
    checks = {"square": "fail", "size": "fail", "bytes": "fail", "alpha": "fail", "format": "fail"}
    checks["bytes"] = "pass" if 0 < len(result.data) < MAX_BYTES else "fail"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(result.data)) as image:
                image.load()
                values.update(width=image.width, height=image.height, mode=image.mode, format=image.format,
                              dpi=image.info.get("dpi"), icc_profile=bool(image.info.get("icc_profile")))
                has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    except Exception as exc:  # undecodable bytes fail every check that needs pixels
        values["error"] = f"{type(exc).__name__}: {exc}"
    else:
        checks["square"] = "pass" if image.width == image.height else "fail"
        checks["size"] = "pass" if min(image.width, image.height) >= requested_size else "fail"
        checks["alpha"] = "fail" if has_alpha else "pass"
        checks["format"] = "pass" if image.format in ("JPEG", "PNG") else "fail"
    passed = sum(1 for v in checks.values() if v == "pass")
    return {"passed": passed == len(checks), "score": round(passed / len(checks), 3), "checks": checks,
            "values": values}
