class VigilError(Exception):
    """The server refused a request (a 4xx, or a 5xx/429 that outlived the retries).

    ``status`` is the HTTP status (None when the server could not be reached) and ``body``
    the decoded JSON error (``{"detail": ..., "errors": {...}}``) or the raw text.
    """

    def __init__(self, message: str, *, status: int | None = None, body: object = None):
        super().__init__(message)
        self.status = status
        self.body = body

    @property
    def detail(self) -> str:
        if isinstance(self.body, dict) and "detail" in self.body:
            return str(self.body["detail"])
        return str(self)
