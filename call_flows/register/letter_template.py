"""R5 letter templates: plain text with `{{ placeholder }}`s, rendered by jinja2's SandboxedEnvironment.

Only the documented placeholders may appear: no attribute or item access, filters, calls, format
specs, tags or arithmetic (a template is organisation-edited text, never code; `{reasons.__class__}`
or `{signatory_name:>999999999}` must neither leak internals nor allocate a gigabyte). A template
written in the older `{placeholder}` style is upgraded to this syntax (migration 0008 and on save).
A literal `{{` is written `{% raw %}{{{% endraw %}`.
"""
import string

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from call_flows.errors import InvalidInput

# R5 element -> the placeholder that carries it (every one must stay in the template).
REQUIRED = {
    "action and reasons": "reasons",
    "right of appeal": "appeal_route",
    "future contact": "precautions",
    "contact about new issues": "new_issues_contact",
    "how long it lasts": "expiry_date",
    "when reviewed": "review_date",
    "who it is shared with": "sharing",
    "signed by the most senior panel member": "signatory_name",
}
OPTIONAL = ("date", "customer_name", "customer_address", "summary", "marker_meaning", "signatory_title",
            "organisation_name", "incident_date")
ALLOWED = (*REQUIRED.values(), *OPTIONAL)
MAX_LENGTH = 20000

_env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)


def allowed_list() -> str:
    return ", ".join(f"{{{{ {name} }}}}" for name in ALLOWED)


def _line(text: str, lineno: int) -> str:
    lines = text.splitlines() or [""]
    shown = lines[min(max(lineno, 1), len(lines)) - 1].strip()
    return shown if len(shown) <= 80 else shown[:77] + "..."


def placeholders(text: str) -> set[str]:
    """The placeholders a template uses. Raises InvalidInput naming the allowed ones for anything
    else (unknown names, attribute/item access, filters, tags, expressions) or a syntax error."""
    try:
        tree = _env.parse(text)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"the template is not valid at line {exc.lineno} ({_line(text, exc.lineno or 1)!r}): "
                           f"{(exc.message or '').rstrip('.')}. Use only these placeholders: {allowed_list()}") from None
    used: set[str] = set()
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            raise InvalidInput(f"line {statement.lineno} ({_line(text, statement.lineno)!r}) is not allowed: a "
                               f"template holds text and placeholders only: {allowed_list()}")
        for node in statement.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            if isinstance(node, nodes.Name) and node.name in ALLOWED:
                used.add(node.name)
                continue
            raise InvalidInput(f"line {node.lineno} ({_line(text, node.lineno)!r}) uses something other than a "
                               f"plain placeholder; the allowed placeholders are: {allowed_list()}")
    return used


def upgrade_template(text: str, strict: bool = False) -> str:
    """A template in the older `{placeholder}` (str.format) style, in jinja2 syntax. An attribute or
    index access is kept, so validation refuses it; a format spec or conversion (`{name:>9999}`,
    `{name!r}`) is dropped when migrating stored templates, and refused (InvalidInput) when `strict`."""
    out = []
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return text
    for literal, field, spec, conversion in parts:
        if any(mark in literal for mark in ("{{", "{%", "{#")):
            literal = "{% raw %}" + literal + "{% endraw %}"
        out.append(literal)
        if field is not None:
            if strict and (spec or conversion):
                raise InvalidInput(f"{{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                                   f"is not allowed: write a plain placeholder; the allowed placeholders are: "
                                   f"{allowed_list()}")
            out.append(f"{{{{ {field} }}}}")
    return "".join(out)


def validate(text: str) -> str:
    """The template to store: jinja2 syntax with only the documented placeholders and every R5 element.
    A template in the older `{placeholder}` style is upgraded first. Raises InvalidInput."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the template is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"the template is longer than {MAX_LENGTH} characters")
    errors: list[InvalidInput] = []
    written_style_used = True
    for older_style in (False, True):  # as written, then from the older `{placeholder}` style
        try:
            candidate = upgrade_template(text, strict=True) if older_style else text
            used = placeholders(candidate)
            written_style_used = written_style_used and (older_style or bool(used))
            missing = [f"{{{{ {ph} }}}} ({element})" for element, ph in REQUIRED.items() if ph not in used]
            if missing:
                raise InvalidInput("the template must keep every R5 element: missing " + ", ".join(missing))
            return candidate
        except InvalidInput as exc:
            errors.append(exc)
    # A template with no {{ placeholder }} at all was written in the older style: report that attempt.
    raise errors[0] if written_style_used or len(errors) < 2 else errors[1]


def render(text: str, values: dict[str, str]) -> str:
    """The letter: `text` (already validated) with each placeholder replaced by its plain value."""
    return _env.from_string(text).render({name: str(values.get(name, "")) for name in ALLOWED})
