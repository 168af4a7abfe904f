"""Refuse URLs that no view can serve safely, before any view runs."""

from django.http import HttpResponse, JsonResponse


class RejectNulMiddleware:
    """A 400 naming the parameter when the path or query string holds a NUL character.

    PostgreSQL text cannot hold NUL and psycopg2 refuses to send one, so such a value could
    only ever fail deep inside a query; refusing it here covers every page and endpoint.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = None
        if "\x00" in request.path:
            field = "path"
        elif "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            field = next((key for key, values in request.GET.lists()
                          if "\x00" in key or any("\x00" in v for v in values)), None)
        if field is None:
            return self.get_response(request)
        detail = f"Invalid input: {field}: contains a NUL character."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "errors": {field: ["Contains a NUL character."]}}, status=400)
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
