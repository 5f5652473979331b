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


class OAuthAppsApi(object):
    """NOTE: This class is auto generated by OpenAPI Generator
    Ref: https://openapi-generator.tech

    Do not edit the class manually.
    """

    def __init__(self, api_client=None):
        if api_client is None:
            api_client = ApiClient()
        self.api_client = api_client

    def create_o_auth_client(self, o_auth_client_create, **kwargs):  # noqa: E501
        """Register an OAuth app  # noqa: E501

        Registers a third-party app (an OAuth 2.0 client) in the credential's project and returns it with its `client_secret`.  **The secret is shown once.** AetherFlow stores only its hash and cannot show it again; store it in a secret manager straight away. Public apps (browser, mobile, desktop, CLI) get no secret (`client_secret: null`): they cannot keep one, so they authenticate with `token_endpoint_auth_method: none` and must use PKCE. For the same reason this operation takes no `Idempotency-Key`: replaying it would mean storing the secret. If a request times out, list the apps and delete a duplicate.  Rules the contract enforces (`400 validation_failed`): - `redirect_uris`: 1 to 10 absolute URIs, `https://`, or `http://` only on   a loopback host (`127.0.0.1`, `[::1]`, `localhost`); no fragment, no   wildcard. At `/oauth/authorize` they are matched exactly, character for   character, including any port. - Public apps: `token_endpoint_auth_method: none`, no `client_credentials`.   Confidential apps: `client_secret_basic` (default) or `client_secret_post`. - `refresh_token` only together with `authorization_code`.  `scopes` caps what the app may ever request, and can never exceed the scopes of the credential registering it (`403 scope_escalation`). Client-credentials tokens act on the project the app is registered in; tokens obtained with the authorization code flow act on the project the user picks on the consent page.  Requires the `apps:write` scope. Recorded in the audit log as `oauth_client.created` (never with the secret).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_o_auth_client(o_auth_client_create, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param OAuthClientCreate o_auth_client_create: The app to register. (required)
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: OAuthClientWithSecretEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.create_o_auth_client_with_http_info(o_auth_client_create, **kwargs)  # noqa: E501

    def create_o_auth_client_with_http_info(self, o_auth_client_create, **kwargs):  # noqa: E501
        """Register an OAuth app  # noqa: E501

        Registers a third-party app (an OAuth 2.0 client) in the credential's project and returns it with its `client_secret`.  **The secret is shown once.** AetherFlow stores only its hash and cannot show it again; store it in a secret manager straight away. Public apps (browser, mobile, desktop, CLI) get no secret (`client_secret: null`): they cannot keep one, so they authenticate with `token_endpoint_auth_method: none` and must use PKCE. For the same reason this operation takes no `Idempotency-Key`: replaying it would mean storing the secret. If a request times out, list the apps and delete a duplicate.  Rules the contract enforces (`400 validation_failed`): - `redirect_uris`: 1 to 10 absolute URIs, `https://`, or `http://` only on   a loopback host (`127.0.0.1`, `[::1]`, `localhost`); no fragment, no   wildcard. At `/oauth/authorize` they are matched exactly, character for   character, including any port. - Public apps: `token_endpoint_auth_method: none`, no `client_credentials`.   Confidential apps: `client_secret_basic` (default) or `client_secret_post`. - `refresh_token` only together with `authorization_code`.  `scopes` caps what the app may ever request, and can never exceed the scopes of the credential registering it (`403 scope_escalation`). Client-credentials tokens act on the project the app is registered in; tokens obtained with the authorization code flow act on the project the user picks on the consent page.  Requires the `apps:write` scope. Recorded in the audit log as `oauth_client.created` (never with the secret).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.create_o_auth_client_with_http_info(o_auth_client_create, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param OAuthClientCreate o_auth_client_create: The app to register. (required)
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(OAuthClientWithSecretEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'o_auth_client_create'
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
                    " to method create_o_auth_client" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'o_auth_client_create' is set
        if self.api_client.client_side_validation and ('o_auth_client_create' not in local_var_params or  # noqa: E501
                                                        local_var_params['o_auth_client_create'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `o_auth_client_create` when calling `create_o_auth_client`")  # noqa: E501

        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        if 'o_auth_client_create' in local_var_params:
            body_params = local_var_params['o_auth_client_create']
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = ['ApiKeyHeader', 'BearerAuth', 'OAuth2']  # noqa: E501

        return self.api_client.call_api(
            '/v1/oauth/clients', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='OAuthClientWithSecretEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def delete_o_auth_client(self, client_id, **kwargs):  # noqa: E501
        """Delete an OAuth app  # noqa: E501

        Deletes an OAuth app and **revokes every token issued to it**: access tokens stop working on their next request, refresh tokens and unused authorization codes are invalidated, and users' consents to it are forgotten. Its `client_id` and secret stop working at once at every OAuth endpoint. This cannot be undone; register the app again to get a new `client_id`.  This is also what to do when an app's secret has leaked.  **Reach.** The caller may delete only a app that reaches no further than its own credential: scopes it holds, within its IP allowlist if it has one, expiring no later than it does if it expires. Otherwise `403 credential_out_of_reach`, and nothing changes. An app is within the reach of the credential that registered it.  Requires the `apps:write` scope. Recorded in the audit log as `oauth_client.deleted`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.delete_o_auth_client(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The OAuth client's id. (required)
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
        return self.delete_o_auth_client_with_http_info(client_id, **kwargs)  # noqa: E501

    def delete_o_auth_client_with_http_info(self, client_id, **kwargs):  # noqa: E501
        """Delete an OAuth app  # noqa: E501

        Deletes an OAuth app and **revokes every token issued to it**: access tokens stop working on their next request, refresh tokens and unused authorization codes are invalidated, and users' consents to it are forgotten. Its `client_id` and secret stop working at once at every OAuth endpoint. This cannot be undone; register the app again to get a new `client_id`.  This is also what to do when an app's secret has leaked.  **Reach.** The caller may delete only a app that reaches no further than its own credential: scopes it holds, within its IP allowlist if it has one, expiring no later than it does if it expires. Otherwise `403 credential_out_of_reach`, and nothing changes. An app is within the reach of the credential that registered it.  Requires the `apps:write` scope. Recorded in the audit log as `oauth_client.deleted`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.delete_o_auth_client_with_http_info(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The OAuth client's id. (required)
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
            'client_id'
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
                    " to method delete_o_auth_client" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'client_id' is set
        if self.api_client.client_side_validation and ('client_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['client_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `client_id` when calling `delete_o_auth_client`")  # noqa: E501

        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 28):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `delete_o_auth_client`, length must be less than or equal to `28`")  # noqa: E501
        if self.api_client.client_side_validation and 'client_id' in local_var_params and not re.search(r'^cli_[0-9A-Za-z]{24}$', local_var_params['client_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `delete_o_auth_client`, must conform to the pattern `/^cli_[0-9A-Za-z]{24}$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'client_id' in local_var_params:
            path_params['client_id'] = local_var_params['client_id']  # noqa: E501

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
            '/v1/oauth/clients/{client_id}', 'DELETE',
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

    def get_o_auth_client(self, client_id, **kwargs):  # noqa: E501
        """Get an OAuth app  # noqa: E501

        Returns one OAuth app of the credential's project, without its secret. An app of another project is answered `404 not_found`.  Requires the `apps:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_o_auth_client(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The OAuth client's id. (required)
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: OAuthClientEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.get_o_auth_client_with_http_info(client_id, **kwargs)  # noqa: E501

    def get_o_auth_client_with_http_info(self, client_id, **kwargs):  # noqa: E501
        """Get an OAuth app  # noqa: E501

        Returns one OAuth app of the credential's project, without its secret. An app of another project is answered `404 not_found`.  Requires the `apps:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_o_auth_client_with_http_info(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The OAuth client's id. (required)
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(OAuthClientEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'client_id'
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
                    " to method get_o_auth_client" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'client_id' is set
        if self.api_client.client_side_validation and ('client_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['client_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `client_id` when calling `get_o_auth_client`")  # noqa: E501

        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 28):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `get_o_auth_client`, length must be less than or equal to `28`")  # noqa: E501
        if self.api_client.client_side_validation and 'client_id' in local_var_params and not re.search(r'^cli_[0-9A-Za-z]{24}$', local_var_params['client_id']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `get_o_auth_client`, must conform to the pattern `/^cli_[0-9A-Za-z]{24}$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}
        if 'client_id' in local_var_params:
            path_params['client_id'] = local_var_params['client_id']  # noqa: E501

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
            '/v1/oauth/clients/{client_id}', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='OAuthClientEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def list_o_auth_clients(self, **kwargs):  # noqa: E501
        """List OAuth apps  # noqa: E501

        Lists the OAuth apps (clients) registered in the credential's project, newest first, a page at a time. Client secrets are never returned: AetherFlow keeps only their hash.  Requires the `apps:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_o_auth_clients(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param int limit: How many items to return, 1 to 100.
        :param str cursor: The `next_cursor` of the previous page of this list, unchanged, with the same filters. Omit it for the first page. A cursor of another list, or of this list with other filters, is refused with `400 invalid_cursor`. 
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: OAuthClientListEnvelope
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.list_o_auth_clients_with_http_info(**kwargs)  # noqa: E501

    def list_o_auth_clients_with_http_info(self, **kwargs):  # noqa: E501
        """List OAuth apps  # noqa: E501

        Lists the OAuth apps (clients) registered in the credential's project, newest first, a page at a time. Client secrets are never returned: AetherFlow keeps only their hash.  Requires the `apps:read` scope.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.list_o_auth_clients_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param int limit: How many items to return, 1 to 100.
        :param str cursor: The `next_cursor` of the previous page of this list, unchanged, with the same filters. Omit it for the first page. A cursor of another list, or of this list with other filters, is refused with `400 invalid_cursor`. 
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(OAuthClientListEnvelope, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'limit',
            'cursor'
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
                    " to method list_o_auth_clients" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']

        if self.api_client.client_side_validation and 'limit' in local_var_params and local_var_params['limit'] > 100:  # noqa: E501
            raise ApiValueError("Invalid value for parameter `limit` when calling `list_o_auth_clients`, must be a value less than or equal to `100`")  # noqa: E501
        if self.api_client.client_side_validation and 'limit' in local_var_params and local_var_params['limit'] < 1:  # noqa: E501
            raise ApiValueError("Invalid value for parameter `limit` when calling `list_o_auth_clients`, must be a value greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('cursor' in local_var_params and  # noqa: E501
                                                        len(local_var_params['cursor']) > 512):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_o_auth_clients`, length must be less than or equal to `512`")  # noqa: E501
        if self.api_client.client_side_validation and ('cursor' in local_var_params and  # noqa: E501
                                                        len(local_var_params['cursor']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_o_auth_clients`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and 'cursor' in local_var_params and not re.search(r'^[A-Za-z0-9_-]+$', local_var_params['cursor']):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `cursor` when calling `list_o_auth_clients`, must conform to the pattern `/^[A-Za-z0-9_-]+$/`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []
        if 'limit' in local_var_params and local_var_params['limit'] is not None:  # noqa: E501
            query_params.append(('limit', local_var_params['limit']))  # noqa: E501
        if 'cursor' in local_var_params and local_var_params['cursor'] is not None:  # noqa: E501
            query_params.append(('cursor', local_var_params['cursor']))  # noqa: E501

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
            '/v1/oauth/clients', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='OAuthClientListEnvelope',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)
