"""Text that stores reject on a cover: refused at submit (422), since a cover carrying it would be rejected later.

Apple Music, Spotify and the distributors' artwork guides refuse covers with web addresses, social handles,
e-mail addresses, prices, store or service names, and time-sensitive or promotional claims.
"""

import re

STORES = ("spotify", "itunes", "apple music", "amazon music", "youtube music", "deezer", "soundcloud", "bandcamp",
          "napster", "google play")
# Ordinary words too ("Tidal Waves"): only a store when the text points at it.
AMBIGUOUS_STORES = ("tidal", "pandora", "audiomack")

RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|fm|co|me|app|music|link)\b", re.I),
     "contains a web address"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "contains an e-mail address"),
    (re.compile(r"(?:^|\s)@[A-Za-z0-9_.]{2,}"), "contains a social media handle"),
    (re.compile(r"[$€£¥]\s?\d|\d(?:[.,]\d{2})?\s?(?:[$€£¥]|(?:usd|eur|gbp)\b)|\bfree download\b", re.I),
     "contains a price"),
    (re.compile(r"\b(?:" + "|".join(re.escape(s) for s in STORES) + r")\b", re.I),
     "names a store or streaming service"),
    (re.compile(r"\b(?:on|via|at|stream(?:ing)? on)\s+(?:" + "|".join(AMBIGUOUS_STORES) + r")\b", re.I),
     "names a store or streaming service"),
    (re.compile(r"\bexclusive\b|\blimited edition\b", re.I), "makes a promotional claim (exclusive, limited edition)"),
    (re.compile(r"\b(?:brand[- ])?new (?:single|album|ep|release|track|song|music|mixtape)\b|\bout now\b|"
                r"\bcoming soon\b|\bpre-?order\b|\bavailable now\b", re.I),
     "makes a time-sensitive claim (new release, out now, coming soon)"),
]


def forbidden_reason(text: str) -> str | None:
    """Why stores would reject this text on a cover, or None when it is fine."""
    for pattern, reason in RULES:
        if pattern.search(text):
            return reason
    return None
