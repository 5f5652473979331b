"""The generated Python client (clients/python, package `aetherflow`) against the
real server: list and create workflows with an API key, and read 401, 403 and 429
through the error envelope.

Run by test/clients/python.test.ts, which starts the servers and passes them in:
  AETHERFLOW_API_URL, AETHERFLOW_API_KEY           a server and an all-scopes secret key
  AETHERFLOW_READ_ONLY_KEY                         a restricted key with workflows:read only
  AETHERFLOW_LIMITED_API_URL, AETHERFLOW_LIMITED_API_KEY
                                                   a server that allows one read a minute
"""
import json
import os
import unittest

import aetherflow
from aetherflow.rest import ApiException


def client(api_key, url=None, header="bearer", retries=None):
    configuration = aetherflow.Configuration(host=url or os.environ["AETHERFLOW_API_URL"])
    # urllib3 retries a GET answered 429 or 503 with Retry-After by itself (3 times,
    # sleeping as told); 0 hands every answer straight back.
    configuration.retries = retries
    if header == "bearer":
        configuration.access_token = api_key  # Authorization: Bearer <key>
    else:
        configuration.api_key["X-API-Key"] = api_key
    return aetherflow.ApiClient(configuration)


def envelope(exception):
    """The `error` object of the envelope an ApiException carries."""
    body = json.loads(exception.body)
    assert body["success"] is False, body
    return body["error"]


def order_confirmation(name):
    return aetherflow.WorkflowInput(
        name=name,
        trigger={"type": "manual"},
        steps=[{"id": "greet", "type": "log", "message": "Hello {{input.name}}"}],
    )


class WorkflowsWithAnApiKey(unittest.TestCase):
    def setUp(self):
        self.workflows = aetherflow.WorkflowsApi(client(os.environ["AETHERFLOW_API_KEY"]))

    def test_create_then_list_and_get(self):
        created = self.workflows.create_workflow(order_confirmation("Python hello"))
        self.assertTrue(created.success)
        self.assertTrue(created.data.id.startswith("wf_"))
        self.assertEqual(created.data.trigger.type, "manual")
        self.assertEqual(created.data.steps[0].type, "log")

        fetched = self.workflows.get_workflow(created.data.id)
        self.assertEqual(fetched.data.name, "Python hello")

        names, cursor = [], None
        while True:
            page = self.workflows.list_workflows(limit=1, cursor=cursor) if cursor else self.workflows.list_workflows(limit=1)
            self.assertLessEqual(len(page.data), 1)
            names.extend(workflow.name for workflow in page.data)
            cursor = page.next_cursor
            if cursor is None:
                break
        self.assertIn("Python hello", names)

    def test_the_x_api_key_header_works_too(self):
        workflows = aetherflow.WorkflowsApi(client(os.environ["AETHERFLOW_API_KEY"], header="x-api-key"))
        created = workflows.create_workflow(order_confirmation("Via X-API-Key"))
        listed = workflows.list_workflows(limit=100)
        self.assertIn(created.data.id, [workflow.id for workflow in listed.data])

    def test_an_idempotency_key_makes_a_retry_safe(self):
        first = self.workflows.create_workflow(order_confirmation("Once"), idempotency_key="python-once-1")
        again = self.workflows.create_workflow(order_confirmation("Once"), idempotency_key="python-once-1")
        self.assertEqual(first.data.id, again.data.id)


class ErrorsThroughTheEnvelope(unittest.TestCase):
    def test_401_without_a_credential(self):
        workflows = aetherflow.WorkflowsApi(aetherflow.ApiClient(aetherflow.Configuration(host=os.environ["AETHERFLOW_API_URL"])))
        with self.assertRaises(ApiException) as caught:
            workflows.list_workflows()
        self.assertEqual(caught.exception.status, 401)
        error = envelope(caught.exception)
        self.assertEqual(error["code"], "authentication_required")
        self.assertEqual(error["type"], "authentication_error")
        self.assertTrue(caught.exception.headers["WWW-Authenticate"].startswith("Bearer"))

    def test_401_for_an_unknown_key(self):
        workflows = aetherflow.WorkflowsApi(client("sk_test_" + "0" * 38))
        with self.assertRaises(ApiException) as caught:
            workflows.list_workflows()
        self.assertEqual(caught.exception.status, 401)
        error = envelope(caught.exception)
        self.assertEqual(error["code"], "invalid_api_key")
        self.assertTrue(error["request_id"].startswith("req_"))
        self.assertEqual(error["request_id"], caught.exception.headers["X-Request-Id"])

    def test_403_for_a_missing_scope(self):
        workflows = aetherflow.WorkflowsApi(client(os.environ["AETHERFLOW_READ_ONLY_KEY"]))
        workflows.list_workflows()  # reading is allowed
        with self.assertRaises(ApiException) as caught:
            workflows.create_workflow(order_confirmation("Not allowed"))
        self.assertEqual(caught.exception.status, 403)
        error = envelope(caught.exception)
        self.assertEqual(error["code"], "insufficient_scope")
        self.assertEqual(error["type"], "authorization_error")
        self.assertIn('scope="workflows:write"', caught.exception.headers["WWW-Authenticate"])

    def test_429_with_retry_after(self):
        workflows = aetherflow.WorkflowsApi(client(os.environ["AETHERFLOW_LIMITED_API_KEY"], url=os.environ["AETHERFLOW_LIMITED_API_URL"], retries=0))
        workflows.list_workflows()
        with self.assertRaises(ApiException) as caught:
            workflows.list_workflows()
        self.assertEqual(caught.exception.status, 429)
        error = envelope(caught.exception)
        self.assertEqual(error["code"], "rate_limit_exceeded")
        self.assertEqual(error["type"], "rate_limit_error")
        self.assertGreaterEqual(int(caught.exception.headers["Retry-After"]), 1)
        self.assertEqual(caught.exception.headers["X-RateLimit-Remaining"], "0")


if __name__ == "__main__":
    unittest.main()
