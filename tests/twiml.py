"""TwiML read as XML (xml.etree), never as a substring: `verbs(doc)` names what a caller hears in order,
`has(doc, "Hangup")` finds a verb or noun at any depth. `doc` is the TwiML as str or bytes."""
from xml.etree import ElementTree


def parse(doc: str | bytes) -> ElementTree.Element:
    """The <Response> element; fails the test when `doc` is not one TwiML document."""
    root = ElementTree.fromstring(doc)
    assert root.tag == "Response", f"not TwiML: {doc[:200]!r}"
    return root


def has(doc: str | bytes, tag: str) -> bool:
    return parse(doc).find(f".//{tag}") is not None


def count(doc: str | bytes, tag: str) -> int:
    return len(parse(doc).findall(f".//{tag}"))


def verbs(doc: str | bytes) -> list[str]:
    return [child.tag for child in parse(doc)]
