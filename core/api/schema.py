"""Tells drf-spectacular how the API authenticates, so the schema and /api/docs/ show it."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; keys come from `manage.py create_api_token NAME --scopes ...`.",
        }


ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "description": "field (or row index) -> messages"},
    },
    "required": ["detail", "errors"],
}
ERROR_DESCRIPTIONS = {
    "400": "bad input: the fields (and row indexes) are named in errors",
    "401": "missing or unknown token",
    "403": "the token lacks the scope",
    "404": "unknown model, version or record",
    "413": "body over the size limit",
    "415": "unsupported Content-Type or Content-Encoding",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the errors it can answer.

    Any endpoint can say 401 and 403; one with path parameters 404; one with parameters or a
    body 400; one with a body 413 and 415. An operation's own declaration of a code wins.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_COMPONENT)
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["401", "403"]
            if "{" in path:
                codes.append("404")
            if operation.get("parameters") or "requestBody" in operation:
                codes.append("400")
            if "requestBody" in operation:
                codes += ["413", "415"]
            responses = operation["responses"]
            for code in codes:
                responses.setdefault(code, {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
    return result
