"""Checks on free text and enumerations shared by the services (hostile or oversized input)."""
from typing import Any, Literal, overload
from call_flows.errors import InvalidInput

MAX_TEXT = 4000


@overload
def clean_text(value: object, name: str, required: Literal[True], max_len: int = MAX_TEXT) -> str: ...
@overload
def clean_text(value: object, name: str, required: bool = False, max_len: int = MAX_TEXT) -> str | None: ...
def clean_text(value: object, name: str, required: bool = False, max_len: int = MAX_TEXT) -> str | None:
    """Free text as written (escaped when shown, never interpreted); NUL bytes refused, length capped."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character")
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters")
    return value.strip()


@overload
def choice(value: object, name: str, allowed: tuple[str, ...], required: Literal[True] = True) -> str: ...
@overload
def choice(value: object, name: str, allowed: tuple[str, ...], required: bool) -> str | None: ...
def choice(value: object, name: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of: {', '.join(allowed)}")
    return str(value)


def note_fields(note: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A case note's staff-written fields: only the named keys, each clean text."""
    if note is None:
        return {}
    if not isinstance(note, dict):
        raise InvalidInput("note must be an object")
    unknown = set(note) - set(allowed)
    if unknown:
        raise InvalidInput(f"note has unknown fields: {', '.join(sorted(unknown))}")
    return {k: v for k in allowed if (v := clean_text(note.get(k), f"note.{k}")) is not None}
