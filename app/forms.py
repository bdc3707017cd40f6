"""Form posts (and query strings) read through the request models the API validates the same acts with (app/api/*schemas.py):
one validator for both doors. A refusal is InvalidInput carrying the model's message, which the page
shows (400) on the form it came from."""
from collections.abc import Mapping
from typing import Annotated, TypeVar, get_origin

from flask import request
from pydantic import BaseModel, BeforeValidator, ValidationError
from werkzeug.datastructures import MultiDict

from call_flows.errors import InvalidInput
from call_flows.validation import message

from .routing import form_id

M = TypeVar("M", bound=BaseModel)


def form_body(model: type[M], **given) -> M:
    """`request.form` as `model`: its fields only (a list field from every value sent), a blank optional
    field as not given; `given` adds or overrides what the page supplies itself (a case note gathered from flat
    fields, a checkbox read as a flag). Raises InvalidInput naming the first refused field."""
    return _validated(model, request.form, given)


def query_args(model: type[M], **given) -> M:
    """`request.args` (the query string) as `model`, read as `form_body` reads a form: the one reader for
    the API's documented query models (`@operation(query=...)`) and the pages' filters. Raises InvalidInput."""
    return _validated(model, request.args, given)


def _validated(model: type[M], sent: MultiDict, given: dict) -> M:
    data: dict = {}
    for name, field in model.model_fields.items():
        if get_origin(field.annotation) is list:
            values = [v for v in sent.getlist(name) if v.strip()]
            if values:
                data[name] = values
        elif (value := sent.get(name, "")).strip() or (name in sent and field.is_required()):
            data[name] = value  # blank: the default of an optional field; a required one says why it is refused
    data.update(given)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(message(exc)) from None


def lenient_id(raw: object) -> int | None:
    """A filter's id as `routing.form_id` reads it: anything that cannot name a row is "not given"."""
    return form_id(raw if isinstance(raw, str) else None)


def clipped(length: int):
    """A lenient filter's text: cut to `length` characters, blank as "not given" (a filter never refuses)."""
    return lambda raw: (raw[:length] or None) if isinstance(raw, str) else None


LenientId = Annotated[int | None, BeforeValidator(lenient_id)]  # a filter's or a back link's id
Checkbox = Annotated[bool, BeforeValidator(lambda raw: raw == "yes")]  # ticked: "yes"; anything else: not ticked


class BackTo(BaseModel):
    """The hidden fields that say which page a form returns to; one that cannot name a row: the list."""

    entry_id: LenientId = None
    customer_id: LenientId = None


def typed(action: str) -> Mapping[str, str]:
    """What the person typed into the form posted to `action` when this page answers that very post (a
    refusal re-renders the page with its message): the form shows it again, nothing lost. Else {}."""
    return request.form if request.method == "POST" and request.path == action else {}
