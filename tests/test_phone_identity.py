"""Withheld callers and numbers with extensions (issue 9 items 5 and 10; CONTRACT conventions, R1, R4,
R10, C2, M1): a Twilio placeholder is never a caller, an extension never becomes the switchboard."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session
from call_flows.errors import InvalidPhone
from call_flows.models import Call, CallbackTask, Customer, CustomerPhone
from call_flows.phone import WITHHELD_PLACEHOLDERS, classify_caller, to_e164
from tests.callback_helpers import post, terminated_call
from tests.conftest import FROZEN_AT

PLACEHOLDERS = ["+" + digits for digits in WITHHELD_PLACEHOLDERS]
WORDS = ["anonymous", "Anonymous", "RESTRICTED", "unknown", "Private", "unavailable", "Blocked", "withheld", ""]
EXTENSIONS = ["020 7946 0000 x123", "020 7946 0000 X 123", "020 7946 0000 ext 123", "020 7946 0000 ext. 123",
              "020 7946 0000 extension 123", "020 7946 0000 #123", "+442079460000;ext=123",
              "tel:+44-20-7946-0000;ext=123", "020 7946 0000,,123", "020 7946 0000,123", "020 7946 0000 ~123",
              "+44 20 7946 0000 ext123"]
pytestmark = pytest.mark.usefixtures("frozen_clock")  # RECENT and the service agree on today
RECENT = (FROZEN_AT.date() - timedelta(days=30)).isoformat()


@pytest.mark.parametrize("raw", PLACEHOLDERS + [p[1:] for p in PLACEHOLDERS] + ["+86 282 452 253"] + WORDS)
def test_r1_every_twilio_withheld_placeholder_is_a_withheld_caller_with_no_number(raw):
    caller = classify_caller(raw, "GB")
    assert (caller.kind, caller.e164) == ("withheld", None)


@pytest.mark.parametrize("raw", PLACEHOLDERS + ["anonymous"])
def test_r4_a_withheld_placeholder_is_refused_as_a_stored_number(raw):
    with pytest.raises(InvalidPhone, match="withholds their number"):
        to_e164(raw, "GB")


@pytest.mark.parametrize("placeholder", PLACEHOLDERS + ["anonymous"])
def test_r10_c2_six_withheld_callers_do_not_share_one_caller_or_its_signals(app, client, ring, staff, placeholder):
    supervisor = staff.add("supervisor", "supervisor")
    for _ in range(7):  # more than calls_per_day_threshold (5) calls from "one" number
        ring(placeholder)
    with app.app_context():
        rows = db_session().execute(select(Call.caller, Call.caller_kind)).all()
    assert set(rows) == {(None, "withheld")}
    ringing = client.get("/board/state", headers=supervisor["headers"]).get_json()["ringing"]
    assert len(ringing) == 7
    assert all(card["caller_kind"] == "withheld" and card["signals"] == [] and not card["flagged"] for card in ringing)


@pytest.mark.parametrize("placeholder", ["+86282452253", "+8656696"])
def test_m1_a_callback_for_a_withheld_caller_cannot_be_dialled_api_and_page(app, client, team, placeholder):
    task_id = terminated_call(app, client, team["handler"], from_=placeholder)["callback_task_id"]
    with app.app_context():
        assert db_session().get(CallbackTask, task_id).caller is None
    assert post(client, f"/callbacks/{task_id}/claim", team["manager"]).status_code == 200
    refused = post(client, f"/callbacks/{task_id}/dial", team["manager"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_number"
    page = client.post(f"/callbacks/{task_id}/dial", headers=team["manager"]["headers"], follow_redirects=True)
    assert "withheld: there is no number to call" in page.get_data(as_text=True)
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(Call).where(Call.direction == "callback")) == 0


def test_m1_a_task_stored_with_a_placeholder_before_the_fix_is_still_not_dialled(app, client, team):
    task_id = terminated_call(app, client, team["handler"])["callback_task_id"]
    with app.app_context():
        session = db_session()
        session.get(CallbackTask, task_id).caller = "+86282452253"  # as stored before issue 9
        session.commit()
    post(client, f"/callbacks/{task_id}/claim", team["manager"])
    refused = post(client, f"/callbacks/{task_id}/dial", team["manager"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_number"


@pytest.mark.parametrize("written", EXTENSIONS)
def test_r4_a_number_with_an_extension_is_refused_never_stored_as_the_main_line(written):
    with pytest.raises(InvalidPhone, match="extension") as refused:
        to_e164(written, "GB")
    assert "(1)" not in refused.value.message and "did not seem" not in refused.value.message


def test_r1_a_from_with_an_extension_is_not_taken_for_the_switchboard_at_ring():
    assert classify_caller("+442079460000;ext=123", "GB").e164 is None


@pytest.mark.parametrize("bad", ["hello", "12", "+999 1234", "07700 900123 4567 8901"])
def test_r4_phone_errors_are_plain_sentences_not_the_librarys(bad):
    with pytest.raises(InvalidPhone) as refused:
        to_e164(bad, "GB")
    message = refused.value.message
    assert message.startswith(f"'{bad}' is not a phone number") and message.endswith(".")
    assert "(1)" not in message and "string supplied" not in message


def _import(runner, tmp_path, phones):
    path = tmp_path / "register.csv"
    path.write_text("name,phones,marker,precautions,added_on,last_reviewed_on,source,notified\n"
                    f"Alan Example,{phones},1,two officers,{RECENT},,own,yes\n")
    return runner.invoke(args=["register", "import", str(path)])


@pytest.mark.parametrize("written", ["020 7946 0000 x123", "020 7946 0000 ext. 123", "+442079460000;ext=123"])
def test_r4_csv_import_refuses_an_extension_on_its_line_and_stores_nothing(app, runner, tmp_path, written):
    result = _import(runner, tmp_path, f"07700 900123; {written}")
    assert result.exit_code != 0
    assert f"line 2: phones: '{written}' is not a phone number for caller ID: it has an extension (123)" in result.stderr
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(CustomerPhone)) == 0


def test_r4_csv_import_refuses_a_withheld_placeholder(app, runner, tmp_path):
    result = _import(runner, tmp_path, "+86282452253")
    assert result.exit_code != 0 and "line 2: phones: '+86282452253' is not a phone number" in result.stderr


def test_r4_api_and_page_refuse_an_extension_with_invalid_phone(app, client, runner, staff, tmp_path):
    admin = staff.add("admin", "admin")
    assert _import(runner, tmp_path, "07700 900123").exit_code == 0
    with app.app_context():
        customer_id = db_session().scalar(select(Customer.id))
    refused = client.post(f"/api/v1/register/customers/{customer_id}/phones", headers=admin["headers"],
                          json={"phone": "020 7946 0000 x123"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_phone"
    assert "extension" in refused.get_json()["error"]["message"]
    page = client.post(f"/register/customers/{customer_id}/phones", headers=admin["headers"],
                       data={"phone": "020 7946 0000 ext 123"}, follow_redirects=True)
    assert "it has an extension (123)" in page.get_data(as_text=True)
    looked_up = client.get("/api/v1/callers/020%207946%200000%20x123", headers=admin["headers"])
    assert looked_up.status_code == 400 and looked_up.get_json()["error"]["code"] == "invalid_phone"
    with app.app_context():
        assert list(db_session().scalars(select(CustomerPhone.phone))) == ["+447700900123"]


@pytest.mark.parametrize("written", ["020 7946 0000,,123", "020 7946 0000 #123", "+442079460000;ext=123",
                                     "07700 900124, 020 7946 0000 ext. 123"])
def test_r4_the_proposal_page_refuses_an_extension_and_stores_nothing(app, client, ring, team, written):
    from tests.register_helpers import incident_from_call

    incident_id = incident_from_call(client, ring, team)
    refused = client.post("/register/propose", headers=team["manager"]["headers"],
                          data={"incident_id": str(incident_id), "name": "Kim", "summary": "Threats", "phones": written})
    assert refused.status_code == 400 and "it has an extension (123)" in refused.get_data(as_text=True)
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(CustomerPhone)) == 0


def test_r4_numbers_typed_on_one_line_with_commas_are_still_several_numbers(app, client, ring, team):
    from tests.register_helpers import incident_from_call

    incident_id = incident_from_call(client, ring, team)
    done = client.post("/register/propose", headers=team["manager"]["headers"],
                       data={"incident_id": str(incident_id), "name": "Kim", "summary": "Threats",
                             "phones": "07700 900124, 07700 900125\n+44 20 7946 0001"})
    assert done.status_code == 302
    with app.app_context():
        assert sorted(db_session().scalars(select(CustomerPhone.phone))) == [
            "+442079460001", "+447700900124", "+447700900125"]
