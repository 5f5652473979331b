"""The API's error, read from an ApiException.

The generated client raises `aetherflow.rest.ApiException` for every answer
that is not 2xx, with the body as text. Every `/v1` error body is the envelope
`{"success": false, "error": {type, code, message, status, request_id, doc_url}}`
(`details` too for `validation_failed`); the OAuth endpoints answer RFC 6749's
`{"error", "error_description"}`.
"""
import json


def error_of(exception):
    """The `error` object of the envelope as a dict, or None when there is none.

    For the OAuth endpoints, a dict with `code` (the RFC 6749 `error`) and
    `message` (its `error_description`). `status` is always the HTTP status and
    `request_id` falls back to the `X-Request-Id` header.
    """
    body = getattr(exception, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return None
    if isinstance(parsed.get("error"), dict):
        error = dict(parsed["error"])
    elif isinstance(parsed.get("error"), str):
        error = {"type": "oauth_error", "code": parsed["error"], "message": parsed.get("error_description")}
    else:
        return None
    error.setdefault("status", getattr(exception, "status", None))
    headers = getattr(exception, "headers", None) or {}
    error.setdefault("request_id", headers.get("X-Request-Id"))
    error.setdefault("details", [])
    return error
