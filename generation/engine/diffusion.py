"""Diffusion backgrounds: a diffusers pipeline loaded from a local model directory, never from a hub.

txt2img paints a synthetic scene; img2img re-renders the artist photo's own setting for the genres whose
convention that is (`GENERATION_MODE`). The model runs at its native resolution and the result is upscaled
to the cover size. torch and diffusers are imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps

from .presets import resolve_genre
from .prompts import MAX_TOKENS, build_prompt

TXT2IMG = "txt2img"
IMG2IMG = "img2img"

# How each genre uses the artist photo when there is one. img2img keeps the photo's own setting and enhances
# it (indie's "natural enhanced"; lo-fi shares that film-and-sky look at dusk). Every other genre builds its
# scene around the subject, so it is painted from text; unknown genres and renders without a photo are txt2img.
GENERATION_MODE: dict[str, str] = {
    "indie": IMG2IMG,
    "lofi": IMG2IMG,
    "hiphop": TXT2IMG,
    "edm": TXT2IMG,
    "rnb": TXT2IMG,
    "rock": TXT2IMG,
    "metal": TXT2IMG,
    "pop": TXT2IMG,
    "jazz": TXT2IMG,
    "ambient": TXT2IMG,
    "classical": TXT2IMG,
}
DEFAULT_STEPS = 30
GUIDANCE_SCALE = 7.0
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".gguf")
_FIX = (
    "Put a diffusers-format pipeline there: model_index.json plus one folder per component (unet/ or transformer/, "
    "vae/, text_encoder/, tokenizer/, scheduler/) with their config and weight files, for example what "
    "`DiffusionPipeline.save_pretrained(<dir>)` writes on a machine that has the weights, and point "
    "ALBUMART_DIFFUSION_MODEL at that folder. Weights are never downloaded at run time."
)


class DiffusionModelError(OSError):
    """The model directory is missing, incomplete or unloadable; the message names the path and the fix."""


class DiffusionError(RuntimeError):
    """The model ran but produced nothing usable (for example, its safety checker blanked the image)."""


def _model_error(path: Path, problem: str) -> DiffusionModelError:
    return DiffusionModelError(f"Diffusion model directory {path} is not usable: {problem}. {_FIX}")


def check_model_dir(model_dir: str | Path) -> Path:
    """The resolved directory when it holds a complete diffusers pipeline; DiffusionModelError otherwise."""
    path = Path(model_dir).expanduser()
    if not path.exists():
        raise _model_error(path, "it does not exist")
    if not path.is_dir():
        raise _model_error(path, "it is a file, not a directory")
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise _model_error(path, "model_index.json is missing")
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as exc:
        raise _model_error(path, f"model_index.json cannot be read ({exc})") from exc
    missing = []
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or None in spec:
            continue  # metadata, or a component saved as None (safety_checker=None)
        folder = path / name
        files = [f for f in folder.rglob("*") if f.is_file()] if folder.is_dir() else []
        if not files:
            missing.append(f"{name}/")
        elif (folder / "config.json").is_file() and not any(f.name.endswith(_WEIGHT_SUFFIXES) for f in files):
            missing.append(f"{name}/ weights")
    if missing:
        raise _model_error(path, "missing " + ", ".join(missing))
    return path.resolve()


def generation_mode(genre: str, has_photo: bool) -> str:
    """TXT2IMG or IMG2IMG for a genre (key or alias), following GENERATION_MODE."""
    if not has_photo:
        return TXT2IMG
    key = genre if genre in GENERATION_MODE else resolve_genre(genre or "")
    return GENERATION_MODE.get(key, TXT2IMG)


def upscale(image: Image.Image, size: int) -> Image.Image:
    """RGB, size x size: Lanczos resampling, then an unsharp mask scaled to the enlargement so edges stay crisp."""
    image = image.convert("RGB")
    factor = size / max(1, min(image.size))
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    radius = min(3.0, max(0.8, 0.5 * factor))
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=60, threshold=2))


def native_resolution(pipe: Any) -> int:
    """The side the model was trained at: its latent sample size times the VAE's scale factor."""
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    sample = getattr(pipe, "default_sample_size", None)
    for name in ("unet", "transformer"):
        model = getattr(pipe, name, None)
        if sample is None and model is not None:
            sample = getattr(model.config, "sample_size", None)
    if isinstance(sample, list | tuple):
        sample = min(sample)
    return int(sample) * scale if sample else 512


def _square(photo: Image.Image, side: int) -> Image.Image:
    return ImageOps.fit(photo.convert("RGB"), (side, side), Image.Resampling.LANCZOS)


@dataclass
class _Loaded:
    """One model on one device: the text-to-image pipeline and, on demand, an image-to-image view of it."""

    txt2img: Any
    device: str
    img2img: Any = None
    # diffusers pipelines keep scheduler state between steps; both views share one scheduler, hence one lock.
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHE: dict[tuple[str, str], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded pipeline (frees memory once no render holds a reference)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _dtype_kwargs(dtype: Any) -> dict[str, Any]:
    from diffusers.utils import deprecation_utils

    # diffusers renamed `torch_dtype` to `dtype`; releases before that silently ignore an unknown `dtype`.
    return {"dtype": dtype} if hasattr(deprecation_utils, "_resolve_dtype") else {"torch_dtype": dtype}


def _load(path: Path, device: str) -> _Loaded:
    import torch
    from diffusers import AutoPipelineForText2Image

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(str(path), local_files_only=True, **_dtype_kwargs(dtype))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _model_error(path, f"diffusers could not load it ({type(exc).__name__}: {exc})") from exc
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return _Loaded(txt2img=pipe, device=device)


class DiffusionBackground:
    """The diffusion background backend for one model directory (the ALBUMART_DIFFUSION_MODEL setting).

    Nothing is loaded until the first render; loaded pipelines are shared process-wide, keyed by path and device.
    """

    def __init__(self, model_dir: str | Path, *, device: str | None = None) -> None:
        self.model_dir = Path(model_dir).expanduser()
        self._device = device

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = _default_device()
        return self._device

    def load(self) -> _Loaded:
        """The cached pipelines for this directory, loading them on first use (call it to warm up a worker)."""
        key = (str(self.model_dir.resolve()), self.device)
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = _load(check_model_dir(self.model_dir), self.device)
            return _CACHE[key]

    def _img2img(self, loaded: _Loaded) -> Any:
        if loaded.img2img is None:
            from diffusers import AutoPipelineForImage2Image

            loaded.img2img = AutoPipelineForImage2Image.from_pipe(loaded.txt2img)  # same modules, no copy
            loaded.img2img.set_progress_bar_config(disable=True)
        return loaded.img2img

    def native_resolution(self) -> int:
        return native_resolution(self.load().txt2img)

    def mode_for(self, genre: str, photo: Image.Image | None) -> str:
        return generation_mode(genre, photo is not None)

    def prompt(
        self,
        genre: str,
        *,
        with_subject: bool,
        palette: tuple[str, ...] | None = None,
        mood: str = "",
        style_tags: str = "",
        lyrics: str = "",
        exclude: Iterable[str] = (),
    ) -> tuple[str, str]:
        """(prompt, negative) as render would send them, trimmed with the model's own tokenizer."""
        tokenizer = getattr(self.load().txt2img, "tokenizer", None)
        count, budget = None, MAX_TOKENS
        if tokenizer is not None:
            def count(text: str) -> int:
                return len(tokenizer(text, add_special_tokens=False).input_ids)

            limit = getattr(tokenizer, "model_max_length", None)
            if isinstance(limit, int) and 2 < limit < 10_000:
                budget = min(MAX_TOKENS, limit - 2)
        return build_prompt(genre, palette=palette, mood=mood, style_tags=style_tags, lyrics=lyrics,
                            with_subject=with_subject, exclude=exclude, max_tokens=budget, count_tokens=count)

    def render(
        self,
        genre: str,
        size: int,
        seed: int,
        *,
        palette: tuple[str, ...] | None = None,
        mood: str = "",
        style_tags: str = "",
        lyrics: str = "",
        photo: Image.Image | None = None,
        strength: float = 0.55,
        steps: int | None = None,
        resolution: int | None = None,
        exclude: Iterable[str] = (),
    ) -> Image.Image:
        """The genre's background as an RGB size x size image; the same arguments give the same pixels.

        `strength` is how far img2img may move from the photo (0..1]; `exclude` takes the artist and title
        so that no word of theirs reaches the prompt through the caller's texts.
        """
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive integer, not {size!r}")
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"strength must be in (0, 1], not {strength!r}")
        if steps is not None and steps < 1:
            raise ValueError(f"steps must be at least 1, not {steps!r}")
        import torch

        loaded = self.load()
        mode = self.mode_for(genre, photo)
        prompt, negative = self.prompt(genre, with_subject=mode == IMG2IMG, palette=palette, mood=mood,
                                       style_tags=style_tags, lyrics=lyrics, exclude=exclude)
        pipe = loaded.txt2img
        multiple = int(getattr(pipe, "vae_scale_factor", 8) or 8) * 8  # every UNet/DiT down-sampling divides it
        side = resolution or native_resolution(pipe)
        side = max(multiple, round(side / multiple) * multiple)
        steps = steps or DEFAULT_STEPS
        kwargs: dict[str, Any] = {"prompt": prompt, "negative_prompt": negative, "guidance_scale": GUIDANCE_SCALE,
                                  "output_type": "pil"}
        with loaded.lock:
            generator = torch.Generator(loaded.device).manual_seed(int(seed) % (1 << 63))
            if mode == IMG2IMG:
                # img2img runs int(steps * strength) steps; keep at least one.
                steps = max(steps, math.ceil(1 / strength))
                result = self._img2img(loaded)(image=_square(photo, side), strength=strength, num_inference_steps=steps,
                                               generator=generator, **kwargs)
            else:
                result = pipe(height=side, width=side, num_inference_steps=steps, generator=generator, **kwargs)
        flagged = getattr(result, "nsfw_content_detected", None)
        if flagged and any(flagged):
            raise DiffusionError(f"the model's safety checker blanked the {genre} background (seed {seed}); "
                                 "render again with another seed")
        image = result.images[0].convert("RGB")
        if max(high for _, high in image.getextrema()) == 0:
            # An all-black frame is a numeric failure (a VAE overflowing in float16), never a scene.
            raise DiffusionError(f"the model returned a black {genre} background on {loaded.device}; if this is a "
                                 "float16 GPU, put a float16-safe VAE in the model directory's vae/ folder")
        return upscale(image, size)
