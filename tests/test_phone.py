"""E.164 normalisation and the odd `From` values Twilio sends (CONTRACT conventions)."""
import pytest

from call_flows.errors import InvalidPhone
from call_flows.phone import classify_caller, mask, to_e164


@pytest.mark.parametrize("written", ["07700 900123", "+44 7700 900123", "0044 7700 900123", "(07700) 900-123",
                                     "+447700900123", "447700900123"])
def test_uk_numbers_in_common_formats_become_e164(written):
    assert to_e164(written, "GB") == "+447700900123"


def test_default_region_applies_to_national_formats():
    assert to_e164("(415) 555-2671", "US") == "+14155552671"


@pytest.mark.parametrize("bad", ["", "   ", "hello", "12", "+44" + "9" * 40, "07700\x00900123"])
def test_unparseable_numbers_are_invalid_phone(bad):
    with pytest.raises(InvalidPhone):
        to_e164(bad, "GB")


@pytest.mark.parametrize("raw,kind", [
    ("anonymous", "withheld"), ("Restricted", "withheld"), ("unknown", "withheld"), ("+266696687", "withheld"),
    ("", "withheld"), (None, "withheld"), ("client:alice", "client"), ("sip:bob@example.org", "sip"),
    ("not-a-number", "invalid"), ("<script>", "invalid"),
])
def test_odd_from_values_are_classified_never_raised(raw, kind):
    caller = classify_caller(raw, "GB")
    assert caller.kind == kind and caller.e164 is None


def test_possible_but_unallocated_number_is_still_a_number_at_ring():
    caller = classify_caller("+44 7000 000000", "GB")  # possible, not a valid allocation
    assert caller.kind == "number" and caller.e164 == "+447000000000"


def test_oversized_from_is_clipped():
    assert len(classify_caller("x" * 10_000, "GB").raw) == 64


def test_mask_keeps_last_four_digits():
    assert mask("+447700900123") == "•••••••••0123"
    assert mask(None) == "withheld"
