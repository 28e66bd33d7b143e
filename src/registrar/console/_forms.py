"""Reading console forms and presenting service errors next to the fields they concern."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registrar.errors import RegistrarError

__all__ = ["NOTICES", "FormErrors", "errors_of", "optional", "safe_next", "text"]

# Messages a redirect may ask a page to show (``?notice=``): a fixed set, so no URL text is reflected.
NOTICES = {
    "signed-out": "You are signed out.",
    "registered": "Registered.",
    "updated": "Saved.",
    "activated": "Activated.",
    "deactivated": "Deactivated.",
    "deleted": "Deleted.",
    "refreshed": "Discovery ran again; any change is in the System Log.",
    "auth-server-added": "Authorization server added.",
    "auth-server-updated": "Authorization server saved.",
    "auth-server-removed": "Authorization server removed.",
    "created": "Created.",
    "discovered": "Tool discovery ran; any change is in the System Log.",
    "capabilities-updated": "Capabilities saved.",
}


@dataclass(frozen=True, slots=True)
class FormErrors:
    """An error as a form shows it: its summary, its causes, and the causes that name a field."""

    code: str
    summary: str
    causes: list[str]
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def of(self, name: str) -> list[str]:
        """The messages about field ``name`` (e.g. ``resourceUrl`` or ``metadata.displayName``)."""
        return self.by_field.get(name, [])


def errors_of(error: RegistrarError) -> FormErrors:
    """A ``RegistrarError`` (already audited by the service) as form errors."""
    by_field: dict[str, list[str]] = {}
    for cause in error.causes:
        name, sep, message = cause.partition(": ")
        if sep and " " not in name:
            by_field.setdefault(name, []).append(message)
            # configuration.clientId & co. are shown next to the input named after the last part.
            by_field.setdefault(name.rsplit(".", 1)[-1], []).append(message)
    # A denial explains itself only in its reason (the scope it lacked): show that too.
    causes = list(error.causes) or ([error.reason] if error.reason != error.summary else [])
    return FormErrors(code=error.code, summary=error.summary, causes=causes, by_field=by_field)


def text(form: Mapping[str, Any], name: str) -> str:
    """A form field as stripped text ('' when absent or not text)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: Mapping[str, Any], name: str) -> str | None:
    """A form field as stripped text, or None when empty."""
    return text(form, name) or None


def safe_next(value: str | None) -> str:
    """A post-sign-in destination on this site only (no scheme, host or protocol-relative URL)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 for ch in value):
        return "/"
    return value
