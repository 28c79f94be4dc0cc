"""Validation of the generate request (API.md): every bad field gets a 422 that names it and says what is accepted."""

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generation import engine, netguard
from generation.catalogue import PALETTES
from generation.models import WebhookEvent
from generation.renditions import PLATFORMS, normalise, size_errors, unknown_message
from generation.textrules import forbidden_reason

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _no_control_chars(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise serializers.ValidationError("must not contain control characters (tabs, newlines, NUL)")
    if not value.strip():
        raise serializers.ValidationError("must not be blank")
    if reason := forbidden_reason(value):
        raise serializers.ValidationError(f"{reason}; stores reject covers that carry it. Send the release "
                                          f"metadata text only (artist, title, featured artist)")
    return value


class TextField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # the metadata text is used exactly as given
        super().__init__(validators=[_no_control_chars], **kwargs)


class PaletteField(serializers.Field):
    """A named palette, or a list of 1 to 6 hex colours (JSON list, or comma-separated in a form)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            text = data.strip()
            if text.startswith("["):
                try:
                    data = json.loads(text)
                except ValueError:
                    raise serializers.ValidationError("is not a valid JSON list of hex colours") from None
            elif "#" in text:
                data = [c.strip() for c in text.split(",") if c.strip()]
            else:
                names = sorted(PALETTES)
                if text not in PALETTES:
                    raise serializers.ValidationError(f"unknown palette {text!r}; use one of {', '.join(names)} "
                                                      f"or a list of hex colours like [\"#0b0b0f\", \"#d4a017\"]")
                return list(PALETTES[text])
        if not isinstance(data, list) or not 1 <= len(data) <= 6:
            raise serializers.ValidationError("must be a palette name or a list of 1 to 6 hex colours")
        bad = [c for c in data if not isinstance(c, str) or not HEX.match(c)]
        if bad:
            raise serializers.ValidationError(f"{bad[0]!r} is not a hex colour like \"#d4a017\"")
        return [c.lower() for c in data]

    def to_representation(self, value):
        return value


class RenditionsField(serializers.Field):
    """Platform presets (generation/renditions.py): a list of platform names (JSON), or comma-separated or repeated
    in a form. Case, '-' and spaces are forgiven; duplicates collapse, in the order given."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:  # a form: renditions=a&renditions=b
            values = dictionary.getlist(self.field_name)
            return values if len(values) > 1 else values[0]
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [part for part in data.split(",") if part.strip()]
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise serializers.ValidationError(f"must be a list of platform names, any of {', '.join(PLATFORMS)}")
        if unknown := [v for v in data if normalise(v) not in PLATFORMS]:
            raise serializers.ValidationError(unknown_message(unknown[0]))
        return list(dict.fromkeys(normalise(v) for v in data))

    def to_representation(self, value):
        return value


WEBHOOK_EVENTS = WebhookEvent.values  # started, image, completed
# Replicate's names for the nearest of our events: the 422 says which name to send here.
REPLICATE_EVENTS = {"start": WebhookEvent.STARTED, "output": WebhookEvent.IMAGE}


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": WEBHOOK_EVENTS}, "nullable": True})
class WebhookEventsFilterField(serializers.Field):
    """`webhook_events_filter`: which callbacks to send, any of started, image, completed (the final one, sent
    whether listed or not). A JSON list, or comma-separated or repeated in a form; kept in the events' order."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:  # a form: repeated, or comma-separated
            values = dictionary.getlist(self.field_name)
            return values if len(values) > 1 else values[0]
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        valid = ", ".join(WEBHOOK_EVENTS)
        if isinstance(data, str):
            data = [part.strip() for part in data.split(",") if part.strip()]
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise serializers.ValidationError(f"must be a list of events, any of {valid}")
        for value in data:
            if value not in WEBHOOK_EVENTS:
                hint = f" (Replicate's {value!r} is {REPLICATE_EVENTS[value].value!r} here)" \
                    if value in REPLICATE_EVENTS else ""
                raise serializers.ValidationError(f"unknown event {value[:40]!r}{hint}; use any of {valid} "
                                                  f"(completed, the final callback, is always sent)")
        return [event for event in WEBHOOK_EVENTS if event in data]

    def to_representation(self, value):
        return value


EVENTS_HELP = ("progress callbacks to send as well as the final one: any of started (the task starts rendering), "
               "image (each cover stored, passed or not) and completed (the final callback, always sent)")


# Read from the request by submit itself, not by the serializer: a photo is a file, a URL or a data URI.
FILE_FIELDS = ("source_image", "style_reference")
# Other APIs' names for our fields (compared lower-case, without "_" and "-"): the 422 tells the right name.
SYNONYMS = {"webhookurl": "callBackUrl", "callback": "callBackUrl", "webhook": "callBackUrl", "artist": "text_artist",
            "album": "text_album", "title": "text_album", "feature": "text_feature"}


def _plain(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def unknown_field_errors(data, accepted: Iterable[str]) -> dict[str, list[str]]:
    """The 422 errors of the fields a request has and the endpoint does not take, each with the likely right name:
    a misspelt callBackUrl must not silently lose the callback."""
    if not isinstance(data, Mapping):
        return {}  # not an object: the serializer says so
    accepted = list(dict.fromkeys(accepted))
    by_plain: dict[str, str] = {}
    for name in accepted:
        by_plain.setdefault(_plain(name), name)  # our own name first, before a dialect's alias of it
    errors = {}
    for name in sorted(str(n) for n in set(data) - set(accepted)):
        guess = by_plain.get(_plain(name)) or SYNONYMS.get(_plain(name))
        guess = guess if guess in accepted else next(iter(difflib.get_close_matches(name, accepted, 1, 0.8)), None)
        hint = f"; did you mean {guess}?" if guess else "."
        errors[name[:64]] = [f"is not a field of this request{hint} The fields are {', '.join(accepted)}"]
    return errors


def check_callback_url(value: str | None, field: str = "callBackUrl") -> str:
    """The SSRF check of a callback URL at submit (http(s), public address); delivery checks it again."""
    if not value:
        return ""
    try:
        # A name that does not resolve now is accepted; delivery checks it again after resolving.
        netguard.check_url(value, allow_unresolved=True)
    except netguard.UnsafeUrl as exc:
        raise serializers.ValidationError(f"{field} {exc}") from None
    return value


class GenerateSerializer(serializers.Serializer):
    taskId = serializers.CharField(required=False, allow_null=True, max_length=128)
    callBackUrl = serializers.URLField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    genre = serializers.CharField(max_length=64)
    style = serializers.CharField(required=False, allow_blank=True, max_length=64)
    palette = PaletteField(required=False, allow_null=True)
    text_artist = TextField(max_length=120)
    text_album = TextField(max_length=200)
    text_feature = TextField(required=False, allow_null=True, allow_blank=True, max_length=120)
    count = serializers.IntegerField(required=False, default=3, min_value=1, max_value=4)
    explicit = serializers.BooleanField(required=False, default=False)
    output_format = serializers.ChoiceField(choices=["png", "jpeg"], required=False, default="png")
    jpeg_quality = serializers.IntegerField(required=False, default=92, min_value=70, max_value=100)
    size = serializers.IntegerField(required=False, default=3000, min_value=1400, max_value=4000)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    mood = serializers.CharField(required=False, allow_blank=True, max_length=200)
    style_tags = serializers.CharField(required=False, allow_blank=True, max_length=300)
    lyrics = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    text_position = serializers.ChoiceField(choices=["auto", "top", "center", "bottom"], required=False,
                                            default="auto")
    background_intensity = serializers.FloatField(required=False, default=0.5, min_value=0.0, max_value=1.0)
    subject_crop = serializers.ChoiceField(choices=["auto", "face", "bust", "full"], required=False, default="auto")
    renditions = RenditionsField(required=False, allow_null=True,
                                 help_text=f"platform presets: any of {', '.join(PLATFORMS)}")
    webhook_events_filter = WebhookEventsFilterField(required=False, allow_null=True, help_text=EVENTS_HELP)

    def validate_genre(self, value):
        resolved = engine.resolve_genre(value)
        if resolved is None:
            raise serializers.ValidationError(
                f"unknown genre {value!r}; use one of {', '.join(sorted(engine.GENRES))} or a common alias "
                f"(trap, house, soul, country, ...)"
            )
        return resolved

    def validate_callBackUrl(self, value):
        return check_callback_url(value)

    def to_internal_value(self, data):
        # Unknown fields are refused, not dropped, and reported together with the other invalid ones.
        unknown = unknown_field_errors(data, [*self.fields, *FILE_FIELDS])
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        # A platform's file is never upscaled: a cover too small for it is refused now, not failed after the render.
        if too_small := size_errors(value.get("renditions") or [], value.get("size", 3000)):
            raise serializers.ValidationError({"renditions": too_small})
        return value


class VariationSerializer(serializers.Serializer):
    image = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3)
    count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4)
    callBackUrl = serializers.URLField(required=False, allow_null=True, allow_blank=True, max_length=2000,
                                       help_text="where this variation's callbacks go; without one, the parent's")
    webhook_events_filter = WebhookEventsFilterField(required=False, allow_null=True,
                                                     help_text=EVENTS_HELP + "; without it, the parent's")

    def validate_callBackUrl(self, value):
        return check_callback_url(value)

    def to_internal_value(self, data):
        # A misspelt callBackUrl must not silently send the variation's callback to the parent's URL.
        if unknown := unknown_field_errors(data, self.fields):
            raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)


class FeedbackSerializer(serializers.Serializer):
    image = serializers.IntegerField(min_value=0, max_value=3)
    accepted = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
