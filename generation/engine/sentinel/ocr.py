"""Text exactness: Tesseract reads each line inside the typesetter's box; the reading must match the metadata.

One `tesseract --psm 7` process per line, all started at once (a cover has 2-4 lines), each fed a
binarised crop scaled to Tesseract's favourite letter size and read with the models of its scripts (Cyrillic,
Greek, Hangul, Japanese, Chinese, Arabic, Hebrew, Devanagari when their language packs are installed). A
mismatch is a review, never a fail: stylised display faces fool OCR more often than the typesetter gets text wrong.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import unicodedata
from functools import lru_cache

import cv2
import numpy as np

from . import thresholds as T
from .legibility import _hex

TESSERACT = os.environ.get("TESSERACT_CMD", "tesseract")


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


# Tesseract's model for each script the typesetter sets (Debian's tesseract-ocr-<lang> packages).
SCRIPT_LANGUAGES = (("LATIN", "eng"), ("CYRILLIC", "rus"), ("GREEK", "ell"), ("HANGUL", "kor"),
                    ("HIRAGANA", "jpn"), ("KATAKANA", "jpn"), ("CJK", "chi_sim"), ("ARABIC", "ara"),
                    ("HEBREW", "heb"), ("DEVANAGARI", "hin"))


def languages_for(text: str) -> str | None:
    """The Tesseract languages that read every letter of `text` ("eng", "eng+rus"...), None for a script we
    have no model for."""
    wanted: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        lang = next((lang for script, lang in SCRIPT_LANGUAGES if name.startswith(script)), None)
        if lang is None:
            return None
        if lang not in wanted:
            wanted.append(lang)
    if "jpn" in wanted and "chi_sim" in wanted:
        wanted.remove("chi_sim")  # kanji between kana: the Japanese model reads both
    return "+".join(wanted or ["eng"])


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    try:
        out = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def readable_script(text: str) -> bool:
    """True when the installed Tesseract models can read every letter of the line."""
    langs = languages_for(text)
    return langs is not None and set(langs.split("+")) <= installed_languages()


def similarity(expected: str, read: str) -> float:
    a, b = normalise(expected), normalise(read)
    if a == b:
        return 1.0
    # Tesseract drops or invents spaces between widely tracked capitals; spaces carry no meaning here.
    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio()


def line_image(full: np.ndarray, box, colour) -> np.ndarray:
    """Black ink on white, cropped to the box with a margin and scaled to ~OCR_CAP_PX cap height."""
    side = full.shape[0]
    x0, y0, x1, y1 = (int(v) for v in box)
    h = max(1, y1 - y0)
    pad = max(4, h // 6)
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(side, x1 + pad), min(side, y1 + pad)
    crop = full[y0:y1, x0:x1]
    f = min(1.0, T.OCR_CAP_PX * 1.4 / h)  # the box holds ascenders and descenders: cap ~ 0.7 of it
    if f < 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    if colour is not None:
        ink = np.linalg.norm(crop.astype(np.float32) - colour, axis=2) < T.TEXT_INK_DISTANCE * 1.3
    else:
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        _, split = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        ink = split.astype(bool) if split.mean() < 0.5 else ~split.astype(bool)
    out = np.where(ink, 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(out, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _start(image: np.ndarray, langs: str = "eng") -> subprocess.Popen:
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    proc = subprocess.Popen([TESSERACT, "stdin", "stdout", "--psm", "7", "-l", langs], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    proc.stdin.write(png.tobytes())
    proc.stdin.close()
    return proc


def ocr_text(full: np.ndarray, lines: list[dict], texts: dict, text_colour) -> tuple[str, dict]:
    """("pass" | "review" | "skip", values): each line read back and compared with the metadata."""
    values: dict = {}
    # The typesetter's own lines must spell the metadata (it breaks lines, never words).
    for role, wanted in (texts or {}).items():
        if wanted:
            shown = " ".join(ln.get("text", "") for ln in lines if ln.get("role") == role)
            if normalise(shown) != normalise(wanted):
                values["ocr_layout_mismatch"] = 1
    if not lines:
        return ("review" if any((texts or {}).values()) else "skip"), values
    if shutil.which(TESSERACT) is None:
        values["ocr_unavailable"] = 1
        return "skip", values
    colour = _hex(text_colour)
    todo = [ln for ln in lines if (ln.get("display") or ln.get("text", "")).strip()
            and readable_script(ln.get("display") or ln.get("text", ""))]
    if not todo:
        return "skip", values
    procs = [_start(line_image(full, ln["box"], colour), languages_for(ln.get("display") or ln.get("text", "")))
             for ln in todo]
    reads, scores = [], []
    for ln, proc in zip(todo, procs, strict=True):
        out = proc.stdout.read()  # stdin is already written and closed: nothing to deadlock on
        try:
            proc.wait(timeout=T.OCR_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
        read = out.decode("utf-8", "replace").strip()
        reads.append(read)
        scores.append(similarity(ln.get("display") or ln["text"], read))
    values["ocr_text"] = round(min(scores), 3)
    values["ocr_read"] = reads
    ok = min(scores) >= T.OCR_PASS_SIMILARITY and "ocr_layout_mismatch" not in values
    return ("pass" if ok else "review"), values
