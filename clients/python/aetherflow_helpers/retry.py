"""Retries on 429 and 503, honouring Retry-After.

    api_client = with_retries(aetherflow.ApiClient(configuration))

A 429 means the request was refused before anything ran, so it is repeated
whatever it was. A 503 is repeated only when repeating is safe: GET, HEAD,
OPTIONS, PUT, DELETE, or a POST that carries an Idempotency-Key. The operations
that take one (create a workflow, run a workflow, retry a run, create a
connection, send an event) get one automatically, the same on every attempt,
so the API answers a repeat with the first result and never runs it twice; a
key you pass (`idempotency_key=`) is kept.

The wait is what the answer asks for: `Retry-After` (seconds or an HTTP date),
else on a 429 until `X-RateLimit-Reset`; otherwise exponential backoff with
jitter. A wait longer than `max_wait` is not waited for: the ApiException is
raised at once and the caller decides (an hourly limit can ask for most of an
hour). urllib3 would otherwise retry a GET answered 429 or 503 with
Retry-After by itself, without any bound on the wait, so this client turns
that off and decides alone; urllib3 still retries failed connections.
"""
import copy
import email.utils
import random as _random
import re
import time
import uuid

import urllib3

from aetherflow.rest import ApiException, RESTClientObject

RETRIED_STATUSES = (429, 503)
SAFE_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

# The operations whose contract declares an Idempotency-Key header
# (test/clients/python/test_helpers.py checks this list against the contract).
IDEMPOTENT_OPERATIONS = (
    ("POST", "/v1/workflows"),
    ("POST", "/v1/workflows/{workflow_id}/run"),
    ("POST", "/v1/runs/{run_id}/retry"),
    ("POST", "/v1/connections"),
    ("POST", "/v1/events"),
)
_IDEMPOTENT = [
    (method, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"))
    for method, template in IDEMPOTENT_OPERATIONS
]


def takes_idempotency_key(method, path):
    """True for the operations that declare an Idempotency-Key header."""
    return any(method == wanted and pattern.match(path) for wanted, pattern in _IDEMPOTENT)


def may_repeat(method, status, headers):
    """Whether a request answered `status` may be sent again."""
    if status == 429:
        return True
    if status == 503:
        return method in SAFE_METHODS or any(name.lower() == "idempotency-key" for name in headers)
    return False


def server_delay(headers, status, now):
    """Seconds the answer asks to wait (`Retry-After`, else a 429's `X-RateLimit-Reset`), or None."""
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
                return max(0.0, when.timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if status == 429 and reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def backoff_delay(attempt, base_delay, max_delay, random):
    """Before attempt `attempt + 1`: between half and all of base * 2^(attempt-1), capped."""
    ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
    return ceiling / 2 + ceiling / 2 * random()


class RetryingRESTClient(RESTClientObject):
    """The generated REST layer, repeating requests answered 429 or 503 (see the module)."""

    def __init__(self, configuration, attempts=3, max_wait=120.0, base_delay=0.5, max_delay=60.0,
                 sleep=time.sleep, now=time.time, random=_random.random):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        own = copy.copy(configuration)
        own.retries = urllib3.Retry(total=3, respect_retry_after_header=False, raise_on_status=False)
        super().__init__(own)
        self.base_path = urllib3.util.parse_url(configuration.host).path or ""
        self.attempts = attempts
        self.max_wait = max_wait
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.now = now
        self.random = random

    def request(self, method, url, query_params=None, headers=None, body=None, post_params=None,
                _preload_content=True, _request_timeout=None):
        headers = dict(headers or {})
        path = urllib3.util.parse_url(url).path or ""
        if path.startswith(self.base_path.rstrip("/")):
            path = path[len(self.base_path.rstrip("/")):]
        if takes_idempotency_key(method, path) and not any(name.lower() == "idempotency-key" for name in headers):
            headers["Idempotency-Key"] = str(uuid.uuid4())
        attempt = 1
        while True:
            try:
                return super().request(method, url, query_params=query_params, headers=headers, body=body,
                                       post_params=post_params, _preload_content=_preload_content,
                                       _request_timeout=_request_timeout)
            except ApiException as error:
                delay = self.delay(method, headers, error, attempt)
                if delay is None:
                    raise
                self.sleep(delay)
                attempt += 1

    def delay(self, method, headers, error, attempt):
        """Seconds to wait before the next attempt, or None to raise `error` now."""
        if attempt >= self.attempts or error.status not in RETRIED_STATUSES:
            return None
        if not may_repeat(method, error.status, headers):
            return None
        told = server_delay(error.headers or {}, error.status, self.now())
        if told is not None:
            return told if told <= self.max_wait else None
        return backoff_delay(attempt, self.base_delay, self.max_delay, self.random)


def with_retries(api_client, **options):
    """Makes `api_client` retry (see the module); returns it.

    Options: `attempts` (3, the first included), `max_wait` (120 s: the longest
    server-given wait honoured), `base_delay` (0.5 s) and `max_delay` (60 s) of
    the backoff, and `sleep`, `now`, `random` (tests inject them).
    """
    api_client.rest_client = RetryingRESTClient(api_client.configuration, **options)
    return api_client
