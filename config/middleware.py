import time

from django.conf import settings
from django.http import JsonResponse, UnreadablePostError


class ServerTimingMiddleware:
    """``Server-Timing: app;dur=<ms>``: how long Django itself took to answer.

    First in MIDDLEWARE, so it covers every other middleware and the view. Serving systems
    (and bench/) can tell server time from network and client time with it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.3f}"
        return response


class ContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` from settings.CONTENT_SECURITY_POLICY on every response without one.

    With DEBUG on the policy is sent too, so a page that breaks it fails in development first.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class BodyTimeoutMiddleware:
    """Bound how long a request body may take to arrive, under gunicorn.

    gunicorn passes the body through unread and without a socket timeout, so a client that
    sends headers and then stalls holds a worker thread for ever. A timeout on the socket
    turns that stall into an error; the stalled request gets 408 and its thread is free.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sock = request.META.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(settings.VIGIL_BODY_TIMEOUT_SECONDS)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UnreadablePostError | TimeoutError):
            return JsonResponse(
                {"detail": "The request body did not arrive in time.", "errors": {}}, status=408
            )
        return None
