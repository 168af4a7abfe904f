"""Emails from template triplets: ``templates/emails/<name>-subject.html``, ``-body-text.html`` and
``-body-html.html`` (as healthchecks does), rendered with one context into one message."""

from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine


def _render(path: str, context: dict, *, autoescape: bool) -> str:
    return Engine.get_default().get_template(path).render(Context(context, autoescape=autoescape))


def email_build(
    *, name: str, to: list[str], context: dict, from_email: str | None = None, headers: dict | None = None
) -> EmailMultiAlternatives:
    """The message of triplet ``name`` for ``to``: a one-line subject, a text body and an HTML
    alternative. Only the HTML part is escaped: subject and text are plain text, where "&amp;"
    would be shown as is. ``from_email`` None means settings.DEFAULT_FROM_EMAIL."""
    subject = " ".join(_render(f"emails/{name}-subject.html", context, autoescape=False).split())
    text = _render(f"emails/{name}-body-text.html", context, autoescape=False)
    html = _render(f"emails/{name}-body-html.html", context, autoescape=True)
    message = EmailMultiAlternatives(subject, text, from_email, to, headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def email_send(*, name: str, to: list[str], context: dict, **options) -> int:
    """Build and send triplet ``name`` through the configured backend; returns 1 when sent."""
    return email_build(name=name, to=to, context=context, **options).send()
