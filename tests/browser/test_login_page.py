from tests.browser.conftest import axe_serious, sign_in


def test_login_page_signs_a_manager_in_and_passes_axe(page, live, live_staff):
    live_staff.add("manager", "line_manager", team="Passports North")
    page.goto(f"{live.url}/login")
    assert axe_serious(page) == []
    sign_in(page, live, "manager", "wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("Unknown username")
    sign_in(page, live, "manager")
    assert page.url.endswith("/callbacks")
