"""Text exactness: Tesseract reads each line inside the typesetter's box; the reading must match the metadata.

Each line is a binarised crop scaled to Tesseract's favourite letter size, read as one line (psm 7) with the models
of its scripts (Cyrillic, Greek, Hangul, Japanese, Chinese, Arabic, Hebrew, Devanagari when their language packs are
installed). A mismatch is a review, never a fail: stylised display faces fool OCR more often than the typesetter gets
text wrong.

Tesseract runs in this process through tesserocr: one `PyTessBaseAPI` per language combination ("eng", "rus+eng"...),
created on first use from the tessdata directory (TESSDATA_PREFIX when set, else Debian's
/usr/share/tesseract-ocr/<version>/tessdata) and kept for the life of the process, so a cover's lines are read one
after another in milliseconds instead of paying a `tesseract` process start and model load per line (~85% of that
process's time). Details:
- The cache is keyed by pid: RQ forks a work horse per job. A horse forked from a warmed render worker (which read
  covers before it forked, albumart/worker.py) uses its parent's APIs, loaded already, each with a new lock of its
  own; for any other languages it loads its own (~0.2 s CPU for "eng") and reads every line and attempt with it.
- A lock per API: one API never reads two lines at once (the web process's tests run the Sentinel from threads).
- Threads: the PyPI wheel's libtesseract is built without OpenMP (it links no libgomp), so a read runs on the calling
  thread alone. OMP_THREAD_LIMIT is not set process-wide (it would cap torch's OpenMP as well); a tesserocr built from
  source against an OpenMP libtesseract wants OMP_THREAD_LIMIT=1 in the worker's environment.
- Timeout: each line gets OCR_TIMEOUT_S (Recognize's deadline); a line out of time reads as "", i.e. a review.
- The wheel bundles its own libtesseract (5.5 with tesserocr 2.13), not Debian's `tesseract` (5.3 on bookworm): on
  the same crop the two agree on nearly every line, not on every one.
Fallback: without tesserocr, or for a language combination whose API cannot be created (no tessdata directory, a
traineddata Tesseract refuses), those lines are read as before, by one `tesseract stdin stdout --psm 7` process each
(TESSERACT_CMD, OMP_THREAD_LIMIT=1), all started at once; logged once per process (a refused traineddata once per
language combination).
"""

from __future__ import annotations

import difflib
import glob
import logging
import os
import shutil
import subprocess
import threading
import unicodedata
from collections import OrderedDict
from functools import lru_cache

import cv2
import numpy as np

from ..typeset import BREAK_MARKS
from . import thresholds as T
from .legibility import _hex

log = logging.getLogger(__name__)

TESSERACT = os.environ.get("TESSERACT_CMD", "tesseract")  # the fallback's command
MAX_APIS = 8  # language combinations kept loaded per process (each holds its models: ~10-40 MB)


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def _spelled(text: str) -> str:
    """The words a text spells: normalised, without a separating mark standing alone ("Riccardo Muti · Chicago
    Symphony" is set as two lines, the break standing in for the mark)."""
    return " ".join(word for word in normalise(text).split() if not set(word) <= BREAK_MARKS)


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
def _tesserocr():
    """The tesserocr module, None when it cannot be imported (then every line takes the fallback)."""
    try:
        import tesserocr
    except ImportError as exc:
        log.warning("tesserocr cannot be imported (%s): OCR starts one %s process per line", exc, TESSERACT)
        return None
    return tesserocr


@lru_cache(maxsize=1)
def tessdata_dir() -> str | None:
    """The directory of the *.traineddata files (with a trailing slash, as tesserocr wants it), None if none is found.

    TESSDATA_PREFIX, when set, is the only place looked at (as the `tesseract` command does): the directory itself
    (Tesseract 4+) or its tessdata/ (3.x style)."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        candidates = [prefix, os.path.join(prefix, "tessdata")]
    else:
        versions = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)  # Debian: 5, then 4.00
        candidates = [*versions, "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata"]
    for path in candidates:
        if glob.glob(os.path.join(glob.escape(path), "*.traineddata")):
            return os.path.join(path, "")
    log.warning("No tessdata directory (TESSDATA_PREFIX=%r): OCR starts one %s process per line", prefix, TESSERACT)
    return None


def _in_process() -> bool:
    """True when lines can be read in this process: tesserocr imports and its models are found."""
    return _tesserocr() is not None and tessdata_dir() is not None


_LOCK = threading.Lock()
# (pid, languages) -> (api, its lock), or None when the API could not be created (those lines take the fallback).
_APIS: OrderedDict[tuple[int, str], tuple[object, threading.Lock] | None] = OrderedDict()


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # another thread of the parent may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


def _api(langs: str) -> tuple[object, threading.Lock] | None:
    """This process's Tesseract for `langs`, created on first use; None when there is none (use the fallback)."""
    if not _in_process():
        return None
    tesserocr, path = _tesserocr(), tessdata_dir()
    key = (os.getpid(), langs)
    with _LOCK:
        if key in _APIS:
            _APIS.move_to_end(key)
            return _APIS[key]
        inherited = _APIS.get((os.getppid(), langs))
        if inherited is not None:
            # A work horse forked from a warmed worker (albumart/worker.py): the parent's Tesseract is a copy in
            # this process's memory, loaded already; it only needs a lock of this process's own.
            _APIS[key] = (inherited[0], threading.Lock())
            return _APIS[key]
        entry = None
        try:
            api = tesserocr.PyTessBaseAPI(path=path, lang=langs, psm=tesserocr.PSM.SINGLE_LINE)
            entry = (api, threading.Lock())
        except RuntimeError as exc:  # tesserocr's "Failed to init API"
            log.warning("Tesseract cannot load %s from %s (%s): OCR of %s starts one %s process per line",
                        langs, path, exc, langs, TESSERACT)
        _APIS[key] = entry
        mine = [k for k in _APIS if k[0] == key[0]]
        for old in mine[:max(0, len(mine) - MAX_APIS)]:  # least recently used first; a reader keeps its reference
            del _APIS[old]
        return entry


def _read(image: np.ndarray, langs: str) -> str | None:
    """The line read in this process, "" when Tesseract gives up (out of time); None when there is no API."""
    entry = _api(langs)
    if entry is None:
        return None
    api, lock = entry
    image = np.ascontiguousarray(image)
    height, width = image.shape
    with lock:
        api.SetImageBytes(image.tobytes(), width, height, 1, width)
        try:
            if not api.Recognize(timeout=max(1, round(T.OCR_TIMEOUT_S * 1000))):
                return ""
            return api.GetUTF8Text().strip()
        except RuntimeError:  # a failed recognition: no reading, as from a process that printed nothing
            return ""


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    if _in_process() and hasattr(_tesserocr(), "get_languages"):
        try:
            return frozenset(_tesserocr().get_languages(tessdata_dir())[1])
        except (RuntimeError, OSError):
            pass
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


def line_image(full: np.ndarray, box, colour, ground=None) -> np.ndarray:
    """Black ink on white, cropped to the box with a margin and scaled to ~OCR_CAP_PX cap height. The ink is
    what lies near `colour`, or, for letters knocked out of a flat `ground`, what lies away from it."""
    side = full.shape[0]
    x0, y0, x1, y1 = (int(v) for v in box)
    h = max(1, y1 - y0)
    pad = max(4, h // 6)
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(side, x1 + pad), min(side, y1 + pad)
    crop = full[y0:y1, x0:x1]
    f = min(1.0, T.OCR_CAP_PX * 1.4 / h)  # the box holds ascenders and descenders: cap ~ 0.7 of it
    if f < 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    if ground is not None:
        ink = np.linalg.norm(crop.astype(np.float32) - ground, axis=2) >= T.TEXT_INK_DISTANCE
    elif colour is not None:
        ink = np.linalg.norm(crop.astype(np.float32) - colour, axis=2) < T.TEXT_INK_DISTANCE * 1.3
    else:
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        _, split = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        ink = split.astype(bool) if split.mean() < 0.5 else ~split.astype(bool)
    out = np.where(ink, 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(out, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _start(image: np.ndarray, langs: str = "eng") -> subprocess.Popen:
    """The fallback: one `tesseract` process reading one line."""
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    proc = subprocess.Popen([TESSERACT, "stdin", "stdout", "--psm", "7", "-l", langs], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    proc.stdin.write(png.tobytes())
    proc.stdin.close()
    return proc


def _finish(proc: subprocess.Popen) -> str:
    out = proc.stdout.read()  # stdin is already written and closed: nothing to deadlock on
    try:
        proc.wait(timeout=T.OCR_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.stdout.close()
    return out.decode("utf-8", "replace").strip()


def ocr_text(full: np.ndarray, lines: list[dict], texts: dict, text_colour) -> tuple[str, dict]:
    """("pass" | "review" | "skip", values): each line read back and compared with the metadata."""
    values: dict = {}
    # The typesetter's own lines must spell the metadata (it breaks lines, never words).
    for role, wanted in (texts or {}).items():
        if wanted:
            shown = " ".join(ln.get("text", "") for ln in lines if ln.get("role") == role)
            if _spelled(shown) != _spelled(wanted):
                values["ocr_layout_mismatch"] = 1
    if not lines:
        return ("review" if any((texts or {}).values()) else "skip"), values
    in_process = _in_process()
    if not in_process and shutil.which(TESSERACT) is None:
        values["ocr_unavailable"] = 1
        return "skip", values
    colour = _hex(text_colour)
    todo = [ln for ln in lines if (ln.get("display") or ln.get("text", "")).strip()
            and readable_script(ln.get("display") or ln.get("text", ""))]
    if not todo:
        return "skip", values
    images = [line_image(full, ln["box"], colour, _hex(ln.get("ground"))) for ln in todo]
    langs = [languages_for(ln.get("display") or ln.get("text", "")) for ln in todo]
    reads = [_read(image, lang) if in_process else None for image, lang in zip(images, langs, strict=True)]
    fallback = [i for i, read in enumerate(reads) if read is None]  # no API for their languages
    if fallback:
        if shutil.which(TESSERACT) is None:
            values["ocr_unavailable"] = 1
            return "skip", values
        procs = [(i, _start(images[i], langs[i])) for i in fallback]  # all started at once
        for i, proc in procs:
            reads[i] = _finish(proc)
    scores = [similarity(ln.get("display") or ln["text"], read) for ln, read in zip(todo, reads, strict=True)]
    values["ocr_text"] = round(min(scores), 3)
    values["ocr_read"] = reads
    ok = min(scores) >= T.OCR_PASS_SIMILARITY and "ocr_layout_mismatch" not in values
    return ("pass" if ok else "review"), values
