"""One redaction layer for every output: the terminal, JSON, Actions files, error messages.

A secret is masked in the forms it travels in: as is, URL-encoded, and Base64 (alone, and as
git's `x-access-token:TOKEN` Basic credential), so neither a library's exception text nor a
header dump can leak it; a multi-line secret (a GitHub App's private key) line by line as well.
"""

from __future__ import annotations

from urllib.parse import quote

MASK = "***"


def forms(secret: str) -> set[str]:
    """Every spelling of `secret` that output could carry."""
    import base64  # only once there is a secret: a run without a token never needs it

    forms = {secret, quote(secret, safe=""), quote(secret)}
    for raw in (secret, f"x-access-token:{secret}", f":{secret}"):
        encoded = base64.b64encode(raw.encode()).decode()
        forms.add(encoded)
        forms.add(encoded.rstrip("="))
    # A multi-line secret (a PEM key) is shown line by line too: each of its lines is one.
    lines = secret.splitlines()
    if len(lines) > 1:
        forms.update(line.strip() for line in lines if not line.startswith("-----"))
    return {f for f in forms if len(f) >= 4}


class Redactor:
    """Masks every registered secret in any text passed through it."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._forms: list[str] = []
        self.secrets: list[str] = []
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or secret in self.secrets:
            return
        self.secrets.append(secret)
        # Longest first, so a form that contains another is masked whole.
        self._forms = sorted({*self._forms, *forms(secret)}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text
