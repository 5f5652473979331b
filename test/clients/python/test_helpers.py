"""The hand-written helpers beside the generated client (clients/python/aetherflow_helpers)
against the real server: pagination over a list, retries after a real 429's Retry-After
(the sleep injected and recorded, so nothing really waits), backoff on a real 503 from
a draining instance, one Idempotency-Key on every attempt of a create, and the error
envelope read from an ApiException.

Run by test/clients/python.test.ts, which starts the servers and passes them in:
  AETHERFLOW_API_URL, AETHERFLOW_API_KEY         a server and an all-scopes secret key
  AETHERFLOW_STRICT_API_URL, AETHERFLOW_STRICT_API_KEY
                                                 a server that allows one read and one write a minute
  AETHERFLOW_DRAINING_API_URL                    a server that is shutting down (/health answers 503)
"""
import json
import os
import unittest

import aetherflow
from aetherflow.rest import ApiException
from aetherflow_helpers import error_of, pages, paginate, with_retries
from aetherflow_helpers.retry import IDEMPOTENT_OPERATIONS, backoff_delay, may_repeat, server_delay

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def configuration(url_variable="AETHERFLOW_API_URL", key_variable="AETHERFLOW_API_KEY"):
    configuration = aetherflow.Configuration(host=os.environ[url_variable])
    if key_variable:
        configuration.access_token = os.environ[key_variable]
    return configuration


def recording(api_client):
    """Records the method and headers of every request the client sends on the wire."""
    sent = []
    pool = api_client.rest_client.pool_manager
    send = pool.request

    def request(method, url, *args, **kwargs):
        sent.append((method, dict(kwargs.get("headers") or {})))
        return send(method, url, *args, **kwargs)

    pool.request = request
    return sent


def hello(name):
    return {"name": name, "trigger": {"type": "manual"}, "steps": [{"id": "hello", "type": "log", "message": "Hello"}]}


class Pagination(unittest.TestCase):
    def test_paginate_follows_every_cursor(self):
        workflows = aetherflow.WorkflowsApi(aetherflow.ApiClient(configuration()))
        created = {workflows.create_workflow(hello("Page %d" % n)).data.id for n in range(3)}
        seen = [item.id for item in paginate(workflows.list_workflows, limit=1)]
        self.assertTrue(created.issubset(seen))
        self.assertEqual(len(seen), len(set(seen)))
        listed = list(pages(workflows.list_workflows, limit=1))
        self.assertGreaterEqual(len(listed), 3)
        self.assertTrue(all(len(page.data) == 1 for page in listed))
        self.assertIsNone(listed[-1].next_cursor)


class Errors(unittest.TestCase):
    def test_error_of_reads_the_envelope(self):
        workflows = aetherflow.WorkflowsApi(aetherflow.ApiClient(configuration()))
        with self.assertRaises(ApiException) as caught:
            workflows.create_workflow({"name": "", "trigger": {"type": "manual"}, "steps": [{"id": "x", "type": "teleport"}]})
        error = error_of(caught.exception)
        self.assertEqual((error["status"], error["code"], error["type"]), (400, "validation_failed", "invalid_request_error"))
        self.assertEqual(error["request_id"], caught.exception.headers["X-Request-Id"])
        self.assertEqual(
            error["details"],
            [
                {"location": "body.name", "message": "must NOT have fewer than 1 characters"},
                {"location": "body.steps[0].type", "message": "must be one of set, wait, log, fail"},
            ],
        )

    def test_error_of_without_an_envelope(self):
        self.assertIsNone(error_of(ApiException(status=0, reason="connection refused")))


class RetriesOnARealTooManyRequests(unittest.TestCase):
    def setUp(self):
        self.sleeps = []
        client = with_retries(aetherflow.ApiClient(configuration("AETHERFLOW_STRICT_API_URL", "AETHERFLOW_STRICT_API_KEY")), sleep=self.sleeps.append)
        self.sent = recording(client)
        self.workflows = aetherflow.WorkflowsApi(client)

    def test_a_limited_read_waits_retry_after_each_time_then_raises(self):
        try:
            self.workflows.list_workflows()  # the one read of this minute (if the other test has not taken it)
        except ApiException:
            pass
        self.sleeps.clear()
        del self.sent[:]
        with self.assertRaises(ApiException) as caught:
            self.workflows.list_workflows()
        self.assertEqual(caught.exception.status, 429)
        self.assertEqual(error_of(caught.exception)["code"], "rate_limit_exceeded")
        self.assertEqual([method for method, _ in self.sent], ["GET", "GET", "GET"])
        self.assertEqual(len(self.sleeps), 2)
        for slept in self.sleeps:
            self.assertGreaterEqual(slept, 1)
            self.assertLessEqual(slept, 61)
            self.assertEqual(slept, int(slept))  # whole seconds: Retry-After

    def test_a_limited_create_is_retried_with_one_idempotency_key(self):
        try:
            self.workflows.create_workflow(hello("The one write of this minute"))
        except ApiException:
            pass
        del self.sent[:]
        with self.assertRaises(ApiException) as caught:
            self.workflows.create_workflow(hello("Limited"))
        self.assertEqual(caught.exception.status, 429)
        self.assertEqual([method for method, _ in self.sent], ["POST", "POST", "POST"])
        keys = {headers.get("Idempotency-Key") for _, headers in self.sent}
        self.assertEqual(len(keys), 1)
        self.assertIsNotNone(keys.pop())

    def test_a_wait_beyond_max_wait_is_not_waited_for(self):
        client = with_retries(aetherflow.ApiClient(configuration("AETHERFLOW_STRICT_API_URL", "AETHERFLOW_STRICT_API_KEY")), max_wait=0.5, sleep=self.fail)
        sent = recording(client)
        workflows = aetherflow.WorkflowsApi(client)
        for _ in range(2):  # the second read of the minute at the latest is refused
            try:
                workflows.list_workflows()
            except ApiException as exception:
                self.assertEqual(exception.status, 429)
                self.assertGreaterEqual(int(exception.headers["Retry-After"]), 1)
        self.assertEqual(len(sent), 2)


class RetriesOnARealUnavailable(unittest.TestCase):
    def test_a_draining_instance_is_retried_with_backoff_then_raises(self):
        sleeps = []
        client = with_retries(aetherflow.ApiClient(configuration("AETHERFLOW_DRAINING_API_URL", None)), attempts=4, base_delay=1, max_delay=3, sleep=sleeps.append, random=lambda: 1)
        sent = recording(client)
        with self.assertRaises(ApiException) as caught:
            aetherflow.HealthApi(client).get_health()
        self.assertEqual(caught.exception.status, 503)
        self.assertEqual(json.loads(caught.exception.body)["status"], "unavailable")
        self.assertEqual(len(sent), 4)
        if caught.exception.headers.get("Retry-After") is None:
            self.assertEqual(sleeps, [1, 2, 3])
        else:
            self.assertEqual(len(sleeps), 3)


class Policy(unittest.TestCase):
    def test_what_may_be_repeated(self):
        self.assertTrue(may_repeat("POST", 429, {}))
        self.assertFalse(may_repeat("POST", 503, {}))
        self.assertTrue(may_repeat("POST", 503, {"Idempotency-Key": "k"}))
        self.assertTrue(may_repeat("GET", 503, {}))
        self.assertTrue(may_repeat("DELETE", 503, {}))
        self.assertFalse(may_repeat("GET", 500, {}))

    def test_delays(self):
        self.assertEqual(server_delay({"Retry-After": "7"}, 429, 0), 7)
        self.assertEqual(server_delay({"Retry-After": "Thu, 01 Jan 1970 00:00:30 GMT"}, 503, 10), 20)
        self.assertEqual(server_delay({"X-RateLimit-Reset": "100"}, 429, 90), 10)
        self.assertIsNone(server_delay({"X-RateLimit-Reset": "100"}, 503, 90))
        self.assertIsNone(server_delay({}, 503, 0))
        self.assertEqual([backoff_delay(n, 0.5, 60, lambda: 0.5) for n in (1, 2, 3)], [0.375, 0.75, 1.5])
        self.assertEqual(backoff_delay(20, 0.5, 60, lambda: 1), 60)

    def test_the_idempotent_operations_are_the_contracts(self):
        with open(os.path.join(ROOT, "clients", "openapi-3.0.json")) as document:
            contract = json.load(document)
        parameters = contract["components"].get("parameters", {})
        declared = set()
        for path, item in contract["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict):
                    continue
                for parameter in operation.get("parameters", []):
                    if "$ref" in parameter:
                        parameter = parameters[parameter["$ref"].split("/")[-1]]
                    if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                        declared.add((method.upper(), path))
        self.assertEqual(set(IDEMPOTENT_OPERATIONS), declared)


if __name__ == "__main__":
    unittest.main()
