import time


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
