# coding: utf-8

"""
    AetherFlow Workflows API

    The AetherFlow Workflows API lets you define workflows, run them, watch their runs, store the third-party credentials they use, and feed them events. It is a JSON API over HTTPS: every request and every response is described by this document, and the server checks itself against it.  # Conventions  - **Base URL** `https://api.aetherflow.com`. Resource endpoints live under `/v1`;   the OAuth 2.0 protocol endpoints (`/oauth/...`, `/.well-known/...`) and `/health`   are outside it. - **HTTPS only.** A plain-HTTP request to `/v1` or `/oauth` is refused with   `403 https_required` (loopback is allowed in local development); `/health`   and `/.well-known/*` carry no credentials and answer either. Every response carries   `Strict-Transport-Security` and an `X-Request-Id` that you should quote when   you contact support. - **Envelope.** A successful `/v1` response is `{\"success\": true, \"data\": ...}`;   lists add `next_cursor`. Every `/v1` error is   `{\"success\": false, \"error\": {type, code, message, status, request_id, doc_url}}`. - **Pagination.** Lists take `limit` (1-100, default 20) and `cursor`; pass the   `next_cursor` of one page as the `cursor` of the next. `next_cursor` is `null`   on the last page. Cursors are opaque: do not build or edit them. - **Idempotency.** Every `POST` that creates or runs something accepts an   `Idempotency-Key` header (any unique string up to 255 characters, a UUID is   ideal). A retry with the same key and the same body returns the first   response (marked `Idempotent-Replayed: true`) and never runs the operation   twice; the same key with a different body is refused with   `409 idempotency_conflict`. Keys are remembered for 24 hours. - **Timestamps** are RFC 3339 strings in UTC. Identifiers carry a type prefix   (`wf_`, `run_`, `conn_`, `evt_`, `key_`, `aud_`, `cli_`). - **Limits on every request**, beyond each operation's schema: a body of at   most 1 MiB by default (`413 payload_too_large`); request headers of at most   16 KB, JSON nested at most 64 levels deep, no NUL character (U+0000) in any   path, query or body text, only finite numbers, and `Authorization`,   `X-API-Key`, `Host`, `Content-Type` and `Idempotency-Key` each sent at most   once (each `400 validation_failed`, with `details` naming the place).  # Authentication  Every `/v1` operation except login, refresh, leaked-key reporting and `/health` needs a credential. Three kinds are accepted, and every operation lists the scopes it needs under each scheme.  ## API keys  Send the key as `Authorization: Bearer <key>` (preferred) or `X-API-Key: <key>`.  ```bash curl https://api.aetherflow.com/v1/workflows \\   -H \"Authorization: Bearer sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX\" ```  A key reads `{type}_{env}_{32 base62 characters}{6-character checksum}`:  | prefix | kind | may hold | use it | |---|---|---|---| | `sk_` | secret | any scope its creator holds | on your servers only | | `rk_` | read-only | `*:read` scopes only | dashboards, reporting | | `ck_` | client | `events:write` only | safe to ship inside apps and web pages |  `env` is `live` or `test`. Keys belong to one project and reach every resource in it and nothing outside it; `test` keys see only the project's sandbox data and `live` keys only its live data. The checksum is the CRC-32 of everything before it (`sk_test_` plus the 32 random characters), written in base62 and left-padded with `0` to 6 characters, so the server and secret scanners can reject a mistyped or invented key without a database lookup.  The secret is shown **once**, when the key is created or rotated; AetherFlow keeps only a keyed hash, a display prefix and the last four characters. Keys may carry an expiry (`expires_at`) and an IP allowlist (`allowed_ips`, CIDR). Revocation takes effect on the next request. Rotation issues a new secret and keeps the old one working for a grace period (24 hours by default); responses to the old secret meanwhile carry `X-Key-Expires-At`.  Legacy keys (`wfk_` followed by 32 characters) still authenticate through `X-API-Key` only; their responses carry a `Deprecation` header. Replace them with `sk_` keys.  If you find a leaked key, report it to `POST /v1/credentials/revoke` (no authentication needed): it is revoked at once.  ## JWT access tokens  `POST /v1/auth/login` exchanges an email and password for an access token (a JWT valid for 1 hour) and a refresh token. Send the access token as `Authorization: Bearer <jwt>`. Tokens are signed with ES256 or EdDSA; the header names the signing key (`kid`), and the public keys are published at `/.well-known/jwks.json`. Claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `scope` and `project_id`. `POST /v1/auth/refresh` trades a refresh token for a new pair; each refresh token works once, and presenting a used one revokes every token descended from the same login.  ## OAuth 2.0  Third-party apps use the authorization code flow with PKCE (S256; required for public clients) or, for their own resources, the client credentials grant. Register an app with `POST /v1/oauth/clients`, send the user to `/oauth/authorize`, exchange the code at `/oauth/token` and call `/v1` with the access token. Redirect URIs must match a registered one exactly, `state` is returned verbatim, codes are single-use and live 10 minutes. The token endpoint accepts form-encoded (RFC 6749) and JSON bodies and client authentication by `client_secret_basic` or `client_secret_post`. Revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414) are supported.  ## Scopes  | scope | grants | |---|---| | `workflows:read` | list and read workflows | | `workflows:write` | create, replace and delete workflows | | `workflows:execute` | run workflows; cancel and retry runs | | `runs:read` | list and read runs | | `connections:read` | list and read connections (never their credentials) | | `connections:write` | create and delete connections | | `events:write` | send events that trigger workflows | | `keys:read` | list and read API keys | | `keys:write` | create, rotate and revoke API keys | | `apps:read` | list and read OAuth apps | | `apps:write` | register and delete OAuth apps | | `audit:read` | read the audit log | | `usage:read` | read rate-limit standing and usage | | `read` | every `*:read` scope (kept for older integrations) | | `write` | every `*:write` scope (kept for older integrations) |  A credential without a scope an operation needs is refused with `403 insufficient_scope` and `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"<needed>\"`.  # Rate limits  Every applicable limit counts and the tightest one governs. Windows slide.  | limit applies to | allowance | |---|---| | reads (GET) | 1000 per minute per key or token | | writes (POST, PUT, PATCH, DELETE) | 100 per minute per key or token | | executions (run, cancel, retry) | 500 per minute per key or token | | event ingestion | 10000 per minute per client IP | | free plan | 60 per minute and 1000 per hour per account | | pro plan | 300 per minute and 10000 per hour per account | | enterprise plan | 1000 per minute and 50000 per hour per account | | API keys | 1000 per hour per key | | OAuth access tokens | 5000 per hour per token's grant | | JWT sessions | 2000 per hour per user |  Every rate-limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds) for the governing limit, and the IETF `RateLimit-Policy` and `RateLimit` fields for all of them. Over a limit the API answers `429 rate_limit_exceeded` with `Retry-After` in seconds: wait that long, then retry. `GET /v1/usage` shows where you stand. Login, refresh, leaked-key reports and failed authentication attempts are also limited per client IP to stop brute force (`429 too_many_attempts`).  # Errors  Every `/v1` error uses one envelope:  ```json {   \"success\": false,   \"error\": {     \"type\": \"authentication_error\",     \"code\": \"invalid_api_key\",     \"message\": \"The API key provided is invalid.\",     \"status\": 401,     \"request_id\": \"req_2R173icKNeCelgpIO3zC485E\",     \"doc_url\": \"https://docs.aetherflow.com/errors#invalid_api_key\"   } } ```  `type` says what kind of problem it is and `code` exactly which one; the full catalogue of codes, their statuses and what to do about each is in the `ErrorCode` schema. Branch on `code`, never on `message`. A 401 always carries `WWW-Authenticate` (RFC 6750). The OAuth protocol endpoints answer errors in RFC 6749's own `{\"error\", \"error_description\"}` form, because OAuth client libraries expect it.   # noqa: E501

    The version of the OpenAPI document: 1.0.0
    Contact: api@aetherflow.com
    Generated by: https://openapi-generator.tech
"""


from __future__ import absolute_import

import re  # noqa: F401

# python 2 and python 3 compatibility library
import six

from aetherflow.api_client import ApiClient
from aetherflow.exceptions import (  # noqa: F401
    ApiTypeError,
    ApiValueError
)


class WorkflowsApi(object):
    """NOTE: This class is auto generated by OpenAPI Generator
    Ref: https://openapi-generator.tech

    Do not edit the class manually.
    """

    def __init__(self, api_client=None):
        if api_client is None:
            api_client = ApiClient()
        self.api_client = api_client

    def create_workflow(self, workflow_input, **kwargs):  # noqa: E501
        """Create a workflow  # noqa: E501

        Creates a workflow in the credential's project and environment, at `version` 1. A workflow is a trigger (`manual`, or `event` with the event type it listens for) and 1 to 50 steps that every run executes in order; see `WorkflowStep` for the step types and the `{{vars.name}}`, `{{input.name}}` and `{{event.data.name}}` templates their messages and values may use. It is `active` unless you send `status: paused`: an active workflow with an `event` trigger starts with the next matching event.  Besides the schema, the definition must be consistent: step ids must be unique within the workflow. An inconsistent definition is refused with `400 invalid_workflow_definition` and nothing is stored.  Send an `Idempotency-Key` to retry safely: a retry with the same key and body returns the first workflow instead of creating a second one.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.created`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_workflow(workflow_input, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param WorkflowInput workflow_input: The workflow's definition. (required)
        :param str idempotency_key: Makes the request safe to retry. A retry with the same key and the same body within 24 hours returns the first response (with `Idempotent-Replayed: true`) without running the operation again; the same key with a different body is refused with `409 idempotency_conflict`, and a retry while the first request is still running gets `409 idempotency_in_progress`. Use a fresh UUID per operation. 
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: WorkflowEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.create_workflow_with_http_info(workflow_input, **kwargs)  # noqa: E501

    def create_workflow_with_http_info(self, workflow_input, **kwargs):  # noqa: E501
        """Create a workflow  # noqa: E501

        Creates a workflow in the credential's project and environment, at `version` 1. A workflow is a trigger (`manual`, or `event` with the event type it listens for) and 1 to 50 steps that every run executes in order; see `WorkflowStep` for the step types and the `{{vars.name}}`, `{{input.name}}` and `{{event.data.name}}` templates their messages and values may use. It is `active` unless you send `status: paused`: an active workflow with an `event` trigger starts with the next matching event.  Besides the schema, the definition must be consistent: step ids must be unique within the workflow. An inconsistent definition is refused with `400 invalid_workflow_definition` and nothing is stored.  Send an `Idempotency-Key` to retry safely: a retry with the same key and body returns the first workflow instead of creating a second one.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.created`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_workflow_with_http_info(workflow_input, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param WorkflowInput workflow_input: The workflow's definition. (required)
        :param str idempotency_key: Makes the request safe to retry. A retry with the same key and the same body within 24 hours returns the first response (with `Idempotent-Replayed: true`) without running the operation again; the same key with a different body is refused with `409 idempotency_conflict`, and a retry while the first request is still running gets `409 idempotency_in_progress`. Use a fresh UUID per operation. 
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(WorkflowEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'workflow_input',
            'idempotency_key'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method create_workflow" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'workflow_input' is set
        if self.api_client.client_side_validation and ('workflow_input' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_input'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_input` when calling `create_workflow`")  # noqa: E501

        if self.api_client.client_side_validation and ('idempotency_key' in local_var_params and  # noqa: E501
                                                        len(local_var_params['idempotency_key']) > 255):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `create_workflow`, length must be less than or equal to `255`")  # noqa: E501
        if self.api_client.client_side_validation and ('idempotency_key' in local_var_params and  # noqa: E501
                                                        len(local_var_params['idempotency_key']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `create_workflow`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and 'idempotency_key' in local_var_params and not re.search(r'^[\x21-\x7E]+$', local_var_params['idempotency_key']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `create_workflow`, must conform to the pattern `/^[\x21-\x7E]+$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}
        if 'idempotency_key' in local_var_params:
            header_params['Idempotency-Key'] = local_var_params['idempotency_key']  # noqa: E501

        form_params = []
        local_var_files = {}

        body_params = None
        if 'workflow_input' in local_var_params:
            body_params = local_var_params['workflow_input']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='WorkflowEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def delete_workflow(self, workflow_id, **kwargs):  # noqa: E501
        """Delete a workflow  # noqa: E501

        Deletes the workflow: it disappears from `GET /v1/workflows`, answers `404 not_found` from then on, can no longer be run and is no longer started by events. Its id is never reused.  Runs already created are not touched: queued and running runs go on to finish with the version they were created with, and every run of the workflow stays readable through `GET /v1/runs` and `GET /v1/runs/{run_id}`, still carrying the deleted workflow's id. Those runs can no longer be retried (`409 run_not_retryable`). Deleting is permanent; to stop a workflow temporarily, replace it with `status: paused` instead.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.deleted`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.delete_workflow(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: DeletedResourceEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.delete_workflow_with_http_info(workflow_id, **kwargs)  # noqa: E501

    def delete_workflow_with_http_info(self, workflow_id, **kwargs):  # noqa: E501
        """Delete a workflow  # noqa: E501

        Deletes the workflow: it disappears from `GET /v1/workflows`, answers `404 not_found` from then on, can no longer be run and is no longer started by events. Its id is never reused.  Runs already created are not touched: queued and running runs go on to finish with the version they were created with, and every run of the workflow stays readable through `GET /v1/runs` and `GET /v1/runs/{run_id}`, still carrying the deleted workflow's id. Those runs can no longer be retried (`409 run_not_retryable`). Deleting is permanent; to stop a workflow temporarily, replace it with `status: paused` instead.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.deleted`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.delete_workflow_with_http_info(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(DeletedResourceEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'workflow_id'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method delete_workflow" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'workflow_id' is set
        if self.api_client.client_side_validation and ('workflow_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_id` when calling `delete_workflow`")  # noqa: E501

        if self.api_client.client_side_validation and ('workflow_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['workflow_id']) > 27):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `delete_workflow`, length must be less than or equal to `27`")  # noqa: E501
        if self.api_client.client_side_validation and 'workflow_id' in local_var_params and not re.search(r'^wf_[0-9A-Za-z]{24}$', local_var_params['workflow_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `delete_workflow`, must conform to the pattern `/^wf_[0-9A-Za-z]{24}$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'workflow_id' in local_var_params:
            path_params['workflow_id'] = local_var_params['workflow_id']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows/{workflow_id}', 'DELETE',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='DeletedResourceEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def get_workflow(self, workflow_id, **kwargs):  # noqa: E501
        """Get a workflow  # noqa: E501

        Returns one workflow of the credential's project and environment, with its current definition and `version`. A workflow of another project or environment, or a deleted one, is answered with `404 not_found`.  Requires the `workflows:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_workflow(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: WorkflowEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.get_workflow_with_http_info(workflow_id, **kwargs)  # noqa: E501

    def get_workflow_with_http_info(self, workflow_id, **kwargs):  # noqa: E501
        """Get a workflow  # noqa: E501

        Returns one workflow of the credential's project and environment, with its current definition and `version`. A workflow of another project or environment, or a deleted one, is answered with `404 not_found`.  Requires the `workflows:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_workflow_with_http_info(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(WorkflowEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'workflow_id'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method get_workflow" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'workflow_id' is set
        if self.api_client.client_side_validation and ('workflow_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_id` when calling `get_workflow`")  # noqa: E501

        if self.api_client.client_side_validation and ('workflow_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['workflow_id']) > 27):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `get_workflow`, length must be less than or equal to `27`")  # noqa: E501
        if self.api_client.client_side_validation and 'workflow_id' in local_var_params and not re.search(r'^wf_[0-9A-Za-z]{24}$', local_var_params['workflow_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `get_workflow`, must conform to the pattern `/^wf_[0-9A-Za-z]{24}$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'workflow_id' in local_var_params:
            path_params['workflow_id'] = local_var_params['workflow_id']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows/{workflow_id}', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='WorkflowEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def list_workflows(self, **kwargs):  # noqa: E501
        """List workflows  # noqa: E501

        Lists the workflows of the credential's project and environment, newest first, a page at a time. Filter by `status` to see only active or only paused workflows. Deleted workflows are not listed (their runs still are, in `GET /v1/runs`).  Requires the `workflows:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_workflows(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param int limit: How many items to return, 1 to 100.
        :param str cursor: The `next_cursor` of the previous page of this list, unchanged, with the same filters. Omit it for the first page. A cursor of another list, or of this list with other filters, is refused with `400 invalid_cursor`. 
        :param WorkflowStatus status: Only workflows with this status. Omit it to list both.
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: WorkflowListEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.list_workflows_with_http_info(**kwargs)  # noqa: E501

    def list_workflows_with_http_info(self, **kwargs):  # noqa: E501
        """List workflows  # noqa: E501

        Lists the workflows of the credential's project and environment, newest first, a page at a time. Filter by `status` to see only active or only paused workflows. Deleted workflows are not listed (their runs still are, in `GET /v1/runs`).  Requires the `workflows:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_workflows_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param int limit: How many items to return, 1 to 100.
        :param str cursor: The `next_cursor` of the previous page of this list, unchanged, with the same filters. Omit it for the first page. A cursor of another list, or of this list with other filters, is refused with `400 invalid_cursor`. 
        :param WorkflowStatus status: Only workflows with this status. Omit it to list both.
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(WorkflowListEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'limit',
            'cursor',
            'status'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method list_workflows" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']

        if self.api_client.client_side_validation and 'limit' in local_var_params and local_var_params['limit'] > 100:  # noqa: E501
            raise ApiValueError("Invalid value for parameter `limit` when calling `list_workflows`, must be a value less than or equal to `100`")  # noqa: E501
        if self.api_client.client_side_validation and 'limit' in local_var_params and local_var_params['limit'] < 1:  # noqa: E501
            raise ApiValueError("Invalid value for parameter `limit` when calling `list_workflows`, must be a value greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('cursor' in local_var_params and  # noqa: E501
                                                        len(local_var_params['cursor']) > 512):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_workflows`, length must be less than or equal to `512`")  # noqa: E501
        if self.api_client.client_side_validation and ('cursor' in local_var_params and  # noqa: E501
                                                        len(local_var_params['cursor']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_workflows`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and 'cursor' in local_var_params and not re.search(r'^[A-Za-z0-9_-]+$', local_var_params['cursor']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_workflows`, must conform to the pattern `/^[A-Za-z0-9_-]+$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []
        if 'limit' in local_var_params and local_var_params['limit'] is not None:  # noqa: E501
            query_params.append(('limit', local_var_params['limit']))  # noqa: E501
        if 'cursor' in local_var_params and local_var_params['cursor'] is not None:  # noqa: E501
            query_params.append(('cursor', local_var_params['cursor']))  # noqa: E501
        if 'status' in local_var_params and local_var_params['status'] is not None:  # noqa: E501
            query_params.append(('status', local_var_params['status']))  # noqa: E501

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='WorkflowListEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def replace_workflow(self, workflow_id, workflow_input, **kwargs):  # noqa: E501
        """Replace a workflow  # noqa: E501

        Replaces the workflow's whole definition with the one sent and increments its `version` by one (even when nothing changed). This is a replacement, not a patch: send every field you want to keep. A field left out takes its default, so an omitted `description` becomes `null` and an omitted `status` becomes `active` (send `status: paused` to keep a paused workflow paused). The id, environment and `created_at` never change.  Runs that already exist are not affected: queued and running runs go on executing the version they were created with (their `workflow_version`). New runs, including retries of older runs, use the new version. Changing the trigger takes effect for the next event.  The same consistency rules as for creation apply (unique step ids), with the same `400 invalid_workflow_definition`; on any error the workflow is left as it was.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.replaced`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.replace_workflow(workflow_id, workflow_input, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param WorkflowInput workflow_input: The complete new definition. (required)
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: WorkflowEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.replace_workflow_with_http_info(workflow_id, workflow_input, **kwargs)  # noqa: E501

    def replace_workflow_with_http_info(self, workflow_id, workflow_input, **kwargs):  # noqa: E501
        """Replace a workflow  # noqa: E501

        Replaces the workflow's whole definition with the one sent and increments its `version` by one (even when nothing changed). This is a replacement, not a patch: send every field you want to keep. A field left out takes its default, so an omitted `description` becomes `null` and an omitted `status` becomes `active` (send `status: paused` to keep a paused workflow paused). The id, environment and `created_at` never change.  Runs that already exist are not affected: queued and running runs go on executing the version they were created with (their `workflow_version`). New runs, including retries of older runs, use the new version. Changing the trigger takes effect for the next event.  The same consistency rules as for creation apply (unique step ids), with the same `400 invalid_workflow_definition`; on any error the workflow is left as it was.  Requires the `workflows:write` scope. Recorded in the audit log as `workflow.replaced`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.replace_workflow_with_http_info(workflow_id, workflow_input, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param WorkflowInput workflow_input: The complete new definition. (required)
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(WorkflowEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'workflow_id',
            'workflow_input'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method replace_workflow" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'workflow_id' is set
        if self.api_client.client_side_validation and ('workflow_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_id` when calling `replace_workflow`")  # noqa: E501
        # verify the required parameter 'workflow_input' is set
        if self.api_client.client_side_validation and ('workflow_input' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_input'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_input` when calling `replace_workflow`")  # noqa: E501

        if self.api_client.client_side_validation and ('workflow_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['workflow_id']) > 27):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `replace_workflow`, length must be less than or equal to `27`")  # noqa: E501
        if self.api_client.client_side_validation and 'workflow_id' in local_var_params and not re.search(r'^wf_[0-9A-Za-z]{24}$', local_var_params['workflow_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `replace_workflow`, must conform to the pattern `/^wf_[0-9A-Za-z]{24}$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'workflow_id' in local_var_params:
            path_params['workflow_id'] = local_var_params['workflow_id']  # noqa: E501

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        if 'workflow_input' in local_var_params:
            body_params = local_var_params['workflow_input']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows/{workflow_id}', 'PUT',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='WorkflowEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def run_workflow(self, workflow_id, **kwargs):  # noqa: E501
        """Run a workflow  # noqa: E501

        Starts a run of the workflow with the given `input` (or `{}` when the body or `input` is omitted) and answers at once with the new run, `queued`; the step runner executes it shortly after. Poll `GET /v1/runs/{run_id}` to follow it through `running` to `succeeded`, `failed` or `cancelled`.  The run executes the workflow's current version (recorded as `workflow_version`), whatever its trigger: a workflow with an `event` trigger can be run by hand too, and its `{{event.*}}` templates then render as empty strings. Only `active` workflows run; a paused one is refused with `409 workflow_not_active`.  Send an `Idempotency-Key` to retry safely: a retry with the same key and body returns the first run (with `Idempotent-Replayed: true`) and never starts a second one.  Requires the `workflows:execute` scope; counts against the execution rate limit. Recorded in the audit log as `run.started`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.run_workflow(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param str idempotency_key: Makes the request safe to retry. A retry with the same key and the same body within 24 hours returns the first response (with `Idempotent-Replayed: true`) without running the operation again; the same key with a different body is refused with `409 idempotency_conflict`, and a retry while the first request is still running gets `409 idempotency_in_progress`. Use a fresh UUID per operation. 
        :param RunWorkflowRequest run_workflow_request: The run's input. Optional; without a body the run gets an empty `input`.
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: RunEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.run_workflow_with_http_info(workflow_id, **kwargs)  # noqa: E501

    def run_workflow_with_http_info(self, workflow_id, **kwargs):  # noqa: E501
        """Run a workflow  # noqa: E501

        Starts a run of the workflow with the given `input` (or `{}` when the body or `input` is omitted) and answers at once with the new run, `queued`; the step runner executes it shortly after. Poll `GET /v1/runs/{run_id}` to follow it through `running` to `succeeded`, `failed` or `cancelled`.  The run executes the workflow's current version (recorded as `workflow_version`), whatever its trigger: a workflow with an `event` trigger can be run by hand too, and its `{{event.*}}` templates then render as empty strings. Only `active` workflows run; a paused one is refused with `409 workflow_not_active`.  Send an `Idempotency-Key` to retry safely: a retry with the same key and body returns the first run (with `Idempotent-Replayed: true`) and never starts a second one.  Requires the `workflows:execute` scope; counts against the execution rate limit. Recorded in the audit log as `run.started`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.run_workflow_with_http_info(workflow_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str workflow_id: The workflow's id. (required)
        :param str idempotency_key: Makes the request safe to retry. A retry with the same key and the same body within 24 hours returns the first response (with `Idempotent-Replayed: true`) without running the operation again; the same key with a different body is refused with `409 idempotency_conflict`, and a retry while the first request is still running gets `409 idempotency_in_progress`. Use a fresh UUID per operation. 
        :param RunWorkflowRequest run_workflow_request: The run's input. Optional; without a body the run gets an empty `input`.
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(RunEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'workflow_id',
            'idempotency_key',
            'run_workflow_request'
        ]
        all_params.extend(
            [
                'async_req',
                '_return_http_data_only',
                '_preload_content',
                '_request_timeout'
            ]
        )

        for key, val in six.iteritems(local_var_params['kwargs']):
            if key not in all_params:
                raise ApiTypeError(
                    "Got an unexpected keyword argument '%s'"
                    " to method run_workflow" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'workflow_id' is set
        if self.api_client.client_side_validation and ('workflow_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['workflow_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `workflow_id` when calling `run_workflow`")  # noqa: E501

        if self.api_client.client_side_validation and ('workflow_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['workflow_id']) > 27):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `run_workflow`, length must be less than or equal to `27`")  # noqa: E501
        if self.api_client.client_side_validation and 'workflow_id' in local_var_params and not re.search(r'^wf_[0-9A-Za-z]{24}$', local_var_params['workflow_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `workflow_id` when calling `run_workflow`, must conform to the pattern `/^wf_[0-9A-Za-z]{24}$/`")  # noqa: E501
        if self.api_client.client_side_validation and ('idempotency_key' in local_var_params and  # noqa: E501
                                                        len(local_var_params['idempotency_key']) > 255):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `run_workflow`, length must be less than or equal to `255`")  # noqa: E501
        if self.api_client.client_side_validation and ('idempotency_key' in local_var_params and  # noqa: E501
                                                        len(local_var_params['idempotency_key']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `run_workflow`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and 'idempotency_key' in local_var_params and not re.search(r'^[\x21-\x7E]+$', local_var_params['idempotency_key']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `idempotency_key` when calling `run_workflow`, must conform to the pattern `/^[\x21-\x7E]+$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'workflow_id' in local_var_params:
            path_params['workflow_id'] = local_var_params['workflow_id']  # noqa: E501

        query_params = []

        header_params = {}
        if 'idempotency_key' in local_var_params:
            header_params['Idempotency-Key'] = local_var_params['idempotency_key']  # noqa: E501

        form_params = []
        local_var_files = {}

        body_params = None
        if 'run_workflow_request' in local_var_params:
            body_params = local_var_params['run_workflow_request']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/workflows/{workflow_id}/run', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='RunEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)
