"""The Content-Security-Policy holds in a real browser: the pages it covers still work."""

import pytest
from django.contrib.auth.models import User


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_login_api_docs_and_admin_work_under_the_policy(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_superuser("root", password="root-password")
    problems: list[str] = []
    # Only policy problems and script errors: a missing favicon (admin pages) is another matter.
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text
            or msg.text.startswith("CSP violation") else None)  # fmt: skip
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Every violation is reported to the page as an event, whatever the console says.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )

    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_username", "root")
    page.fill("#id_password", "root-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=30_000)  # swagger-ui ran its init script
    assert page.locator(".opblock").count() > 5

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Api tokens").wait_for()
    assert problems == []
