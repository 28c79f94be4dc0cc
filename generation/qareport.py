"""The Sentinel's QA result as the API shows it: camelCase names (one table, API_NAMES) and, for a cover that did not
pass, each failing check with its measured values and a plain-language reason (one table, REASONS).

The stored result (CoverImage.qa) keeps the Sentinel's own snake_case names: the admin, the dashboard and the
reuse index read it. Only what the API answers is renamed, here.
"""

from __future__ import annotations

import re
import string

from generation.engine.sentinel import thresholds as T

# The Sentinel's names (checks, measured values, timings and the QA result's own keys) -> the API's. README.md,
# "Names in responses", prints this table; tests/test_failure_reasons.py checks that every name the Sentinel
# produces is in it.
API_NAMES = {
    # the QA result
    "passed": "passed", "verdict": "verdict", "score": "score", "checks": "checks", "values": "values",
    "timings_ms": "timingsMs", "attempts": "attempts", "seed": "seed", "failed": "failed",
    # checks (and the values named after them)
    "square": "square", "size": "size", "bytes": "bytes", "format": "format", "rgb": "rgb", "srgb": "srgb",
    "dpi": "dpi", "alpha": "alpha", "border": "border", "sharpness": "sharpness", "pixelation": "pixelation",
    "blank": "blank", "legibility_56px": "legibility56px", "legibility_128px": "legibility128px",
    "legibility_256px": "legibility256px", "legibility_gray": "legibilityGray", "legibility_blur": "legibilityBlur",
    "ocr_text": "ocrText", "face_clear": "faceClear", "cutout_mask": "cutoutMask", "focal_point": "focalPoint",
    "reuse": "reuse",
    # measured values
    "width": "width", "height": "height", "min_side": "minSide", "mode": "mode", "icc_profile": "iccProfile",
    "border_sides": "borderSides", "blank_std": "blankStd", "ocr_read": "ocrRead",
    "ocr_layout_mismatch": "ocrLayoutMismatch", "ocr_unavailable": "ocrUnavailable",
    "face_text_overlap": "faceTextOverlap", "face_inside": "faceInside", "mask_gate": "maskGate",
    "focal_ratio": "focalRatio", "phash": "phash", "colour_signature": "colourSignature",
    "reuse_distance": "reuseDistance", "reuse_colour_distance": "reuseColourDistance", "error": "error",
    # timings (ms per family of checks)
    "decode": "decode", "technical": "technical", "legibility": "legibility", "ocr": "ocr",
    "composition": "composition", "total": "total", "total_without_ocr": "totalWithoutOcr",
}


def api_name(name: str) -> str:
    """The API's name for one of the Sentinel's; a name the table lacks is still camelCased, never leaked as is."""
    return API_NAMES.get(name) or re.sub(r"_+([a-z0-9])", lambda m: m.group(1).upper(), name)


def _renamed(mapping: dict | None) -> dict:
    return {api_name(k): v for k, v in (mapping or {}).items()}


def api_qa(qa: dict | None) -> dict:
    """The stored QA result with the API's names: its keys, the check, value and timing names, and the check
    names listed in each attempt's `failed`."""
    out = {}
    for key, value in (qa or {}).items():
        if key in ("checks", "values", "timings_ms"):
            value = _renamed(value)
        elif key == "attempts" and isinstance(value, list):
            value = [{api_name(k): ([api_name(n) for n in v] if k == "failed" else v) for k, v in a.items()}
                     for a in value if isinstance(a, dict)]
        out[api_name(key)] = value
    return out


# Check -> (the measured values it reports, the reason as a template). The reason is written for an integrator or a
# support agent reading a failed task: what is wrong, the measured number, and what it needed. Placeholders are the
# measured values (the Sentinel's names), the thresholds (thresholds.py's names) and the few derived in _context.
REASONS: dict[str, tuple[tuple[str, ...], str]] = {
    "square": (("width", "height"), "the cover is not square: {width} x {height} px"),
    "size": (("width", "height", "min_side"),
             "the cover is {width} x {height} px, smaller than the {min_side} px requested"),
    "bytes": (("bytes",), "the file is {bytes_mb} MB; stores accept artwork under {max_mb} MB"),
    "format": (("format", "error"), "the file's format ({format}) is not JPEG or PNG, the only ones stores accept"),
    "rgb": (("mode",), "the image is in {mode} colour mode; stores need RGB"),
    "srgb": (("icc_profile",), "the file carries no sRGB colour profile (found: {icc_profile}); its colours may "
                               "show wrong in stores"),
    "dpi": (("dpi",), "the file says {dpi} DPI; stores expect {DPI}"),
    "alpha": (("mode",), "the image has transparency ({mode}); stores need an opaque cover"),
    "border": (("border", "border_sides"), "the cover has a frame or letterbox: flat bands on {border_sides} "
                                           "side(s), up to {border_percent}% of the width; stores reject framed "
                                           "artwork"),
    "sharpness": (("sharpness",), "the cover is blurry: sharpness {sharpness}, needs at least {SHARPNESS_PASS:g}"),
    "pixelation": (("pixelation",), "the cover looks pixelated, like an enlarged small image: {pixelation_percent}% "
                                    "of its edges lie on block seams, at most {pixelation_limit}% allowed"),
    "blank": (("blank_std",), "the cover is nearly one flat colour: grey variation {blank_std}, needs at least "
                              "{BLANK_STD_REVIEW:g}"),
    "legibility_56px": (("legibility_56px",), "the largest line of text (usually the title) is not legible at 56 px, "
                                              "the size of a playlist row: contrast "
                                              "{legibility_56px}:1, needs {LEGIBILITY_PASS:g}:1"),
    "legibility_128px": (("legibility_128px",), "the artist or title is not legible at 128 px (a search result): "
                                                "contrast {legibility_128px}:1, needs {LEGIBILITY_PASS:g}:1"),
    "legibility_256px": (("legibility_256px",), "a line of text (the featured artist included) is not legible at "
                                                "256 px: contrast {legibility_256px}:1, needs {LEGIBILITY_PASS:g}:1"),
    "legibility_gray": (("legibility_gray",), "the text fades into the background in greyscale (e-ink, grey "
                                              "themes): contrast {legibility_gray}:1, needs {LEGIBILITY_PASS:g}:1"),
    "legibility_blur": (("legibility_blur",), "the artist or title blurs into the background on a soft display: "
                                              "contrast {legibility_blur}:1, needs {LEGIBILITY_PASS:g}:1"),
    "ocr_text": (("ocr_text", "ocr_read", "ocr_layout_mismatch"),
                 "the text read back from the cover ({ocr_read}) does not match the release metadata: similarity "
                 "{ocr_text}, needs {OCR_PASS_SIMILARITY:g}"),
    "face_clear": (("face_text_overlap", "face_inside"), "the artist's face is covered by text or cut by the edge: "
                                                         "{face_covered_percent}% covered, {face_inside_percent}% "
                                                         "inside the frame"),
    "cutout_mask": (("mask_gate",), "the cut-out of the artist is not clean ({mask_gate})"),
    "focal_point": (("focal_ratio",), "nothing stands out: the face or title is less detailed than the background "
                                      "(focal ratio {focal_ratio}, needs {FOCAL_RATIO_PASS:g})"),
    "reuse": (("reuse_distance", "reuse_colour_distance"),
              "the cover is nearly identical to one your organisation already delivered for another release "
              "({reuse_distance} of 64 hash bits differ, {REUSE_FAIL_BITS} or fewer is the same artwork); stores "
              "reject artwork reused across releases"),
}

UNKNOWN = "unknown"


class _Context(dict):
    def __missing__(self, key: str):
        return UNKNOWN


def _percent(value, places: int = 1):
    if not isinstance(value, int | float):
        return UNKNOWN
    return round(value * 100, places) if places else round(value * 100)


def _context(values: dict) -> _Context:
    """What a reason template may name: the thresholds, the measured values, and a few of them restated."""
    context = _Context({k: v for k, v in vars(T).items() if k.isupper()})
    context.update({k: v for k, v in values.items() if v is not None})
    bytes_ = values.get("bytes")
    context.update(
        bytes_mb=round(bytes_ / 2**20, 1) if isinstance(bytes_, int | float) else UNKNOWN,
        max_mb=T.MAX_BYTES // 2**20, border_percent=_percent(values.get("border")),
        pixelation_percent=_percent(values.get("pixelation"), 0), pixelation_limit=_percent(T.PIXELATION_FAIL, 0),
        face_covered_percent=_percent(values.get("face_text_overlap"), 0),
        face_inside_percent=_percent(values.get("face_inside"), 0),
    )
    if "icc_profile" in values:
        context["icc_profile"] = values["icc_profile"] or "none"
    if isinstance(values.get("ocr_read"), list):
        context["ocr_read"] = " / ".join(f'"{line}"' for line in values["ocr_read"])
    return context


def _format(template: str, context: _Context) -> str:
    """The template filled in; a format spec on a value that is missing or not a number is dropped, not an error."""
    out = []
    for literal, field, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            value = context[field]
            try:
                out.append(format(value, spec or ""))
            except (TypeError, ValueError):
                out.append(str(value))
    return "".join(out)


def reason(check: str, values: dict) -> str:
    """The plain-language reason one check did not pass, with its measured value."""
    _, template = REASONS.get(check, ((), f"the {api_name(check)} check did not pass"))
    return _format(template, _context(values or {}))


def failing_checks(qa: dict | None) -> list[dict]:
    """The checks that kept the cover from passing, in the Sentinel's order: those that failed, or (a cover staff
    did not approve) those that sent it to review. Each with its result, measured values and reason."""
    checks = (qa or {}).get("checks") or {}
    values = (qa or {}).get("values") or {}
    worst = "fail" if "fail" in checks.values() else "review"
    out = []
    for name, result in checks.items():
        if result != worst:
            continue
        keys = REASONS.get(name, ((name,), ""))[0]
        out.append({"check": api_name(name), "result": result,
                    "values": {api_name(k): values[k] for k in keys if k in values},
                    "reason": reason(name, values)})
    return out
