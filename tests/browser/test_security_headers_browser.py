"""10.10: the browser enforces the Content-Security-Policy: an injected inline script does not run and
is reported (and the `page` fixture fails any test whose own pages report a violation)."""

INJECT = """() => {
    const s = document.createElement('script');
    s.textContent = 'window.injected = true';
    document.body.appendChild(s);
    return window.injected === true;
}"""


def test_10_10_browser_refuses_an_injected_inline_script(browser, live):
    context = browser.new_context()
    page = context.new_page()
    try:
        response = page.goto(f"{live.url}/login")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
            ran = page.evaluate(INJECT)
        assert ran is False
    finally:
        context.close()
