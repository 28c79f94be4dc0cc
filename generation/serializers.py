"""Validation of the generate request (API.md): every bad field gets a 422 that names it and says what is accepted."""

import json
import re
import unicodedata

from rest_framework import serializers

from generation import engine, netguard
from generation.catalogue import PALETTES
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

    def validate_genre(self, value):
        resolved = engine.resolve_genre(value)
        if resolved is None:
            raise serializers.ValidationError(
                f"unknown genre {value!r}; use one of {', '.join(sorted(engine.GENRES))} or a common alias "
                f"(trap, house, soul, country, ...)"
            )
        return resolved

    def validate_callBackUrl(self, value):
        if not value:
            return ""
        try:
            # A name that does not resolve now is accepted; delivery checks it again after resolving.
            netguard.check_url(value, allow_unresolved=True)
        except netguard.UnsafeUrl as exc:
            raise serializers.ValidationError(f"callBackUrl {exc}") from None
        return value


class VariationSerializer(serializers.Serializer):
    image = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3)
    count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4)


class FeedbackSerializer(serializers.Serializer):
    image = serializers.IntegerField(min_value=0, max_value=3)
    accepted = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
