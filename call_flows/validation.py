"""The one definition of free-text rules (hostile or oversized input), as pydantic types.

`FreeText(max_len, required)` is the field metadata the request models use for JSON bodies and form
posts alike (app/api/*schemas.py and app/forms.py; `Text` the common case); `OneOf` a choice among codes,
`refused` a model's own complete message; `clean_text` applies the FreeText check to a value that did not
come through a model.
Services take the values the models let through; they do not check them again. Free text is kept as written (escaped when
shown, never interpreted) but stripped: blank is "not given", a NUL byte is refused, length is capped.
"""
from dataclasses import dataclass
from typing import Annotated, Any, Literal, overload

from pydantic import ValidationError
from pydantic_core import PydanticCustomError, core_schema

from call_flows.errors import InvalidInput

MAX_TEXT = 4000
# errors whose message names the field already (the rest are pydantic's, prefixed with where they are)
OWN_ERRORS = ("text_required", "text_type", "text_nul", "text_length", "choice", "refused")


def _checked(value: Any, name: str, required: bool, max_len: int) -> str | None:
    """The rule itself: blank -> None (or "is required"), text only, no NUL, at most `max_len`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PydanticCustomError("text_required", "{name} is required", {"name": name})
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("text_type", "{name} must be text", {"name": name})
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "{name} contains a NUL character", {"name": name})
    if len(value) > max_len:
        raise PydanticCustomError("text_length", "{name} is longer than {max_len} characters",
                                  {"name": name, "max_len": max_len})
    return value.strip()


@dataclass(frozen=True)
class FreeText:
    """Field metadata applying the rule: `Annotated[str | None, FreeText(200)]` (blank is None), or
    `Annotated[str, FreeText(1000, required=True)]` (blank is refused). The JSON schema says the bounds."""

    max_len: int = MAX_TEXT
    required: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        bounded = core_schema.str_schema(max_length=self.max_len, min_length=1 if self.required else None)

        def check(value: Any, info: core_schema.ValidationInfo) -> str | None:
            return _checked(value, info.field_name or "text", self.required, self.max_len)

        return core_schema.with_info_before_validator_function(
            check, bounded if self.required else core_schema.nullable_schema(bounded))


@dataclass(frozen=True)
class OneOf:
    """Field metadata: the value must be one of `allowed` ("role must be one of: admin, ..."); the JSON
    schema lists them."""

    allowed: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        def check(value: Any, info: core_schema.ValidationInfo) -> str:
            if value not in self.allowed:
                raise PydanticCustomError("choice", "{name} must be one of: {allowed}",
                                          {"name": info.field_name or "value", "allowed": ", ".join(self.allowed)})
            return str(value)

        return core_schema.with_info_before_validator_function(
            check, core_schema.literal_schema([str(a) for a in self.allowed]))


def refused(text: str) -> PydanticCustomError:
    """A model's own refusal whose message is complete as written (shown without the field's name)."""
    return PydanticCustomError("refused", text.replace("{", "(").replace("}", ")"))


Text = Annotated[str | None, FreeText()]  # optional free text up to MAX_TEXT characters
RequiredText = Annotated[str, FreeText(required=True)]  # the same, blank refused


@overload
def clean_text(value: object, name: str, required: Literal[True], max_len: int = MAX_TEXT) -> str: ...
@overload
def clean_text(value: object, name: str, required: bool = False, max_len: int = MAX_TEXT) -> str | None: ...
def clean_text(value: object, name: str, required: bool = False, max_len: int = MAX_TEXT) -> str | None:
    """`value` by the rule of `FreeText(max_len, required)`; raises InvalidInput naming `name`."""
    try:
        return _checked(value, name, required, max_len)
    except PydanticCustomError as exc:
        raise InvalidInput(exc.message()) from None


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


def message(exc: ValidationError) -> str:
    """One line for a refused model: its first error, prefixed with where it is unless it names it."""
    first = exc.errors()[0]
    if first["type"] in OWN_ERRORS:
        return first["msg"]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


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
