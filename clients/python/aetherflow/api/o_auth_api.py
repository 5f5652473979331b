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


class OAuthApi(object):
    """NOTE: This class is auto generated by OpenAPI Generator
    Ref: https://openapi-generator.tech

    Do not edit the class manually.
    """

    def __init__(self, api_client=None):
        if api_client is None:
            api_client = ApiClient()
        self.api_client = api_client

    def authorize(self, client_id, **kwargs):  # noqa: E501
        """Start an authorization (login and consent page)  # noqa: E501

        The OAuth 2.0 authorization endpoint (RFC 6749 section 4.1.1, with PKCE, RFC 7636). An app sends the user's browser here to ask for access; AetherFlow shows its own login page (if the user is not signed in) and then a consent page naming the app and the scopes it asks for. The page posts to `POST /oauth/authorize`. Only the authorization code flow exists (`response_type=code`); there is no implicit flow.  **Checks, in this order.** 1. `client_id` must be a registered app and `redirect_uri` must equal one of    its registered redirect URIs exactly (character for character: no prefix,    subdomain, port or path matching). It may be left out only when the app has    exactly one. If either check fails, the error is shown on an HTML page    (`400`) and the browser is **never** redirected, so the endpoint cannot be    used as an open redirector. 2. Every other problem is reported to the app by redirecting to the    `redirect_uri` with `error`, `error_description` and the `state` (RFC 6749    section 4.1.2.1): `unsupported_response_type`, `invalid_request` (a missing,    repeated or malformed parameter, a missing PKCE challenge for a public app,    or `code_challenge_method=plain`), `invalid_scope` (a scope the app is not    registered for), `access_denied` (the user clicked Deny).  **PKCE.** Send `code_challenge` = BASE64URL(SHA-256(`code_verifier`)) with `code_challenge_method=S256`, and the verifier later to `/oauth/token`. Required for public apps, strongly recommended for all; `plain` is refused.  **The code.** On approval the browser is redirected to `redirect_uri?code=...&state=...`. `state` is returned verbatim: generate an unguessable value per request and check it on return (CSRF protection for the app). The code is valid for 10 minutes and works once; if it is presented a second time, every token it issued is revoked (the audit log records `oauth.code_replayed`).  Parameters are declared as bounded strings, not enums, on purpose: the server validates their values itself so that errors can be redirected as RFC 6749 requires. The page is served with anti-framing headers (`X-Frame-Options: DENY`, `Content-Security-Policy: frame-ancestors 'none'`) against clickjacking, and only over HTTPS.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.authorize(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The app's `client_id`. An unknown one is shown on an error page, never redirected. (required)
        :param str response_type: Must be `code`. Anything else is redirected to the app as `unsupported_response_type`.
        :param str redirect_uri: Where to send the browser back: exactly one of the app's registered redirect URIs. Optional only when the app has exactly one. A mismatch is shown on an error page, never redirected. 
        :param str scope: Space-separated scopes the app asks for, each among the app's registered scopes. Defaults to all of them. The user sees them on the consent page. 
        :param str state: An opaque value returned verbatim in the redirect. Strongly recommended (CSRF protection).
        :param str code_challenge: The PKCE challenge: BASE64URL(SHA-256(code_verifier)), 43 characters. Required for public apps. 
        :param str code_challenge_method: Must be `S256` when `code_challenge` is sent; `plain` is refused (`invalid_request`).
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: str
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.authorize_with_http_info(client_id, **kwargs)  # noqa: E501

    def authorize_with_http_info(self, client_id, **kwargs):  # noqa: E501
        """Start an authorization (login and consent page)  # noqa: E501

        The OAuth 2.0 authorization endpoint (RFC 6749 section 4.1.1, with PKCE, RFC 7636). An app sends the user's browser here to ask for access; AetherFlow shows its own login page (if the user is not signed in) and then a consent page naming the app and the scopes it asks for. The page posts to `POST /oauth/authorize`. Only the authorization code flow exists (`response_type=code`); there is no implicit flow.  **Checks, in this order.** 1. `client_id` must be a registered app and `redirect_uri` must equal one of    its registered redirect URIs exactly (character for character: no prefix,    subdomain, port or path matching). It may be left out only when the app has    exactly one. If either check fails, the error is shown on an HTML page    (`400`) and the browser is **never** redirected, so the endpoint cannot be    used as an open redirector. 2. Every other problem is reported to the app by redirecting to the    `redirect_uri` with `error`, `error_description` and the `state` (RFC 6749    section 4.1.2.1): `unsupported_response_type`, `invalid_request` (a missing,    repeated or malformed parameter, a missing PKCE challenge for a public app,    or `code_challenge_method=plain`), `invalid_scope` (a scope the app is not    registered for), `access_denied` (the user clicked Deny).  **PKCE.** Send `code_challenge` = BASE64URL(SHA-256(`code_verifier`)) with `code_challenge_method=S256`, and the verifier later to `/oauth/token`. Required for public apps, strongly recommended for all; `plain` is refused.  **The code.** On approval the browser is redirected to `redirect_uri?code=...&state=...`. `state` is returned verbatim: generate an unguessable value per request and check it on return (CSRF protection for the app). The code is valid for 10 minutes and works once; if it is presented a second time, every token it issued is revoked (the audit log records `oauth.code_replayed`).  Parameters are declared as bounded strings, not enums, on purpose: the server validates their values itself so that errors can be redirected as RFC 6749 requires. The page is served with anti-framing headers (`X-Frame-Options: DENY`, `Content-Security-Policy: frame-ancestors 'none'`) against clickjacking, and only over HTTPS.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.authorize_with_http_info(client_id, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: The app's `client_id`. An unknown one is shown on an error page, never redirected. (required)
        :param str response_type: Must be `code`. Anything else is redirected to the app as `unsupported_response_type`.
        :param str redirect_uri: Where to send the browser back: exactly one of the app's registered redirect URIs. Optional only when the app has exactly one. A mismatch is shown on an error page, never redirected. 
        :param str scope: Space-separated scopes the app asks for, each among the app's registered scopes. Defaults to all of them. The user sees them on the consent page. 
        :param str state: An opaque value returned verbatim in the redirect. Strongly recommended (CSRF protection).
        :param str code_challenge: The PKCE challenge: BASE64URL(SHA-256(code_verifier)), 43 characters. Required for public apps. 
        :param str code_challenge_method: Must be `S256` when `code_challenge` is sent; `plain` is refused (`invalid_request`).
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(str, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'client_id',
            'response_type',
            'redirect_uri',
            'scope',
            'state',
            'code_challenge',
            'code_challenge_method'
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
                    " to method authorize" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'client_id' is set
        if self.api_client.client_side_validation and ('client_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['client_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `client_id` when calling `authorize`")  # noqa: E501

        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `authorize`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `authorize`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('response_type' in local_var_params and  # noqa: E501
                                                        len(local_var_params['response_type']) > 32):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `response_type` when calling `authorize`, length must be less than or equal to `32`")  # noqa: E501
        if self.api_client.client_side_validation and ('redirect_uri' in local_var_params and  # noqa: E501
                                                        len(local_var_params['redirect_uri']) > 2000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `redirect_uri` when calling `authorize`, length must be less than or equal to `2000`")  # noqa: E501
        if self.api_client.client_side_validation and ('scope' in local_var_params and  # noqa: E501
                                                        len(local_var_params['scope']) > 1000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `scope` when calling `authorize`, length must be less than or equal to `1000`")  # noqa: E501
        if self.api_client.client_side_validation and ('state' in local_var_params and  # noqa: E501
                                                        len(local_var_params['state']) > 1024):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `state` when calling `authorize`, length must be less than or equal to `1024`")  # noqa: E501
        if self.api_client.client_side_validation and ('code_challenge' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code_challenge']) > 128):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code_challenge` when calling `authorize`, length must be less than or equal to `128`")  # noqa: E501
        if self.api_client.client_side_validation and ('code_challenge_method' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code_challenge_method']) > 16):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code_challenge_method` when calling `authorize`, length must be less than or equal to `16`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []
        if 'response_type' in local_var_params and local_var_params['response_type'] is not None:  # noqa: E501
            query_params.append(('response_type', local_var_params['response_type']))  # noqa: E501
        if 'client_id' in local_var_params and local_var_params['client_id'] is not None:  # noqa: E501
            query_params.append(('client_id', local_var_params['client_id']))  # noqa: E501
        if 'redirect_uri' in local_var_params and local_var_params['redirect_uri'] is not None:  # noqa: E501
            query_params.append(('redirect_uri', local_var_params['redirect_uri']))  # noqa: E501
        if 'scope' in local_var_params and local_var_params['scope'] is not None:  # noqa: E501
            query_params.append(('scope', local_var_params['scope']))  # noqa: E501
        if 'state' in local_var_params and local_var_params['state'] is not None:  # noqa: E501
            query_params.append(('state', local_var_params['state']))  # noqa: E501
        if 'code_challenge' in local_var_params and local_var_params['code_challenge'] is not None:  # noqa: E501
            query_params.append(('code_challenge', local_var_params['code_challenge']))  # noqa: E501
        if 'code_challenge_method' in local_var_params and local_var_params['code_challenge_method'] is not None:  # noqa: E501
            query_params.append(('code_challenge_method', local_var_params['code_challenge_method']))  # noqa: E501

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['text/html'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/oauth/authorize', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='str',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def get_authorization_server_metadata(self, **kwargs):  # noqa: E501
        """Get the authorization server metadata (RFC 8414)  # noqa: E501

        The OAuth 2.0 authorization server metadata (RFC 8414): the issuer, the endpoint URLs, and the supported scopes, grants, client authentication methods and PKCE methods. OAuth client libraries that support discovery configure themselves from it. Check that `issuer` is exactly `https://api.aetherflow.com` and that tokens carry it in `iss`.  Public: no credential, no rate limit beyond the platform's abuse protection, and answered over HTTP or HTTPS (it carries no secret; fetch it over HTTPS in production). The document changes only with a release and may be cached for an hour.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_authorization_server_metadata(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: AuthorizationServerMetadata
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.get_authorization_server_metadata_with_http_info(**kwargs)  # noqa: E501

    def get_authorization_server_metadata_with_http_info(self, **kwargs):  # noqa: E501
        """Get the authorization server metadata (RFC 8414)  # noqa: E501

        The OAuth 2.0 authorization server metadata (RFC 8414): the issuer, the endpoint URLs, and the supported scopes, grants, client authentication methods and PKCE methods. OAuth client libraries that support discovery configure themselves from it. Check that `issuer` is exactly `https://api.aetherflow.com` and that tokens carry it in `iss`.  Public: no credential, no rate limit beyond the platform's abuse protection, and answered over HTTP or HTTPS (it carries no secret; fetch it over HTTPS in production). The document changes only with a release and may be cached for an hour.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_authorization_server_metadata_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(AuthorizationServerMetadata, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
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
                    " to method get_authorization_server_metadata" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']

        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/.well-known/oauth-authorization-server', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='AuthorizationServerMetadata',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def get_jwks(self, **kwargs):  # noqa: E501
        """Get the token signing keys (JWKS)  # noqa: E501

        The public keys that verify AetherFlow access tokens (session tokens and OAuth access tokens), as a JSON Web Key Set (RFC 7517). Each token's header names its key in `kid`; verify with that key and with its `alg` only (`ES256` or `EdDSA`). Never accept `none`, an HMAC algorithm, or a key that is not in this set.  **Rotation.** Signing keys are rotated without downtime, so the set usually holds more than one key: a new key is published here well before it signs anything, and a retired key stays until every token it signed has expired. The set may be cached for an hour (`Cache-Control`); if a token names a `kid` you do not have, refetch the set (at most once a minute) before rejecting it.  Only public key members are published; private members such as `d` can never appear. Public: no credential, answered over HTTP or HTTPS (fetch it over HTTPS in production).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_jwks(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: Jwks
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.get_jwks_with_http_info(**kwargs)  # noqa: E501

    def get_jwks_with_http_info(self, **kwargs):  # noqa: E501
        """Get the token signing keys (JWKS)  # noqa: E501

        The public keys that verify AetherFlow access tokens (session tokens and OAuth access tokens), as a JSON Web Key Set (RFC 7517). Each token's header names its key in `kid`; verify with that key and with its `alg` only (`ES256` or `EdDSA`). Never accept `none`, an HMAC algorithm, or a key that is not in this set.  **Rotation.** Signing keys are rotated without downtime, so the set usually holds more than one key: a new key is published here well before it signs anything, and a retired key stays until every token it signed has expired. The set may be cached for an hour (`Cache-Control`); if a token names a `kid` you do not have, refetch the set (at most once a minute) before rejecting it.  Only public key members are published; private members such as `d` can never appear. Public: no credential, answered over HTTP or HTTPS (fetch it over HTTPS in production).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.get_jwks_with_http_info(async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(Jwks, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
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
                    " to method get_jwks" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']

        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/.well-known/jwks.json', 'GET',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='Jwks',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def introspect_token(self, token, **kwargs):  # noqa: E501
        """Introspect a token (RFC 7662)  # noqa: E501

        Token introspection (RFC 7662): tells an app whether a token is active and what it grants, for example in a backend that receives AetherFlow tokens from its own frontend. Apps that can verify JWTs may instead verify access tokens locally with the keys at `/.well-known/jwks.json`, but only introspection sees revocations.  Only authenticated confidential apps may call it (`client_secret_basic` or `client_secret_post`); a public app or wrong credentials get `401 invalid_client`. An app can introspect only the tokens issued to it: any other token, and every unknown, malformed, expired, revoked or not yet valid one, is answered `{\"active\": false}` with nothing else, so the answer reveals nothing about tokens the app does not own. Both access tokens and refresh tokens can be introspected.  Parameters are bounded strings; an unknown `token_type_hint` is ignored. The answer is sent with `Cache-Control: no-store`. Failed client authentications are limited per client IP address (`429` with `Retry-After`).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.introspect_token(token, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str token: The access token or refresh token to describe. (required)
        :param str token_type_hint: `access_token` or `refresh_token`: where to look first. Other values are ignored.
        :param str client_id: The app's `client_id`, with `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only.
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: IntrospectionResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.introspect_token_with_http_info(token, **kwargs)  # noqa: E501

    def introspect_token_with_http_info(self, token, **kwargs):  # noqa: E501
        """Introspect a token (RFC 7662)  # noqa: E501

        Token introspection (RFC 7662): tells an app whether a token is active and what it grants, for example in a backend that receives AetherFlow tokens from its own frontend. Apps that can verify JWTs may instead verify access tokens locally with the keys at `/.well-known/jwks.json`, but only introspection sees revocations.  Only authenticated confidential apps may call it (`client_secret_basic` or `client_secret_post`); a public app or wrong credentials get `401 invalid_client`. An app can introspect only the tokens issued to it: any other token, and every unknown, malformed, expired, revoked or not yet valid one, is answered `{\"active\": false}` with nothing else, so the answer reveals nothing about tokens the app does not own. Both access tokens and refresh tokens can be introspected.  Parameters are bounded strings; an unknown `token_type_hint` is ignored. The answer is sent with `Cache-Control: no-store`. Failed client authentications are limited per client IP address (`429` with `Retry-After`).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.introspect_token_with_http_info(token, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str token: The access token or refresh token to describe. (required)
        :param str token_type_hint: `access_token` or `refresh_token`: where to look first. Other values are ignored.
        :param str client_id: The app's `client_id`, with `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only.
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(IntrospectionResponse, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'token',
            'token_type_hint',
            'client_id',
            'client_secret'
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
                    " to method introspect_token" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'token' is set
        if self.api_client.client_side_validation and ('token' not in local_var_params or  # noqa: E501
                                                        local_var_params['token'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `token` when calling `introspect_token`")  # noqa: E501

        if self.api_client.client_side_validation and ('token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token']) > 4096):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token` when calling `introspect_token`, length must be less than or equal to `4096`")  # noqa: E501
        if self.api_client.client_side_validation and ('token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token` when calling `introspect_token`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('token_type_hint' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token_type_hint']) > 32):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token_type_hint` when calling `introspect_token`, length must be less than or equal to `32`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `introspect_token`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_secret' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_secret']) > 256):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_secret` when calling `introspect_token`, length must be less than or equal to `256`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}
        if 'token' in local_var_params:
            form_params.append(('token', local_var_params['token']))  # noqa: E501
        if 'token_type_hint' in local_var_params:
            form_params.append(('token_type_hint', local_var_params['token_type_hint']))  # noqa: E501
        if 'client_id' in local_var_params:
            form_params.append(('client_id', local_var_params['client_id']))  # noqa: E501
        if 'client_secret' in local_var_params:
            form_params.append(('client_secret', local_var_params['client_secret']))  # noqa: E501

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/x-www-form-urlencoded'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/oauth/introspect', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='IntrospectionResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def issue_token(self, grant_type, **kwargs):  # noqa: E501
        """Issue tokens (OAuth 2.0 token endpoint)  # noqa: E501

        The OAuth 2.0 token endpoint (RFC 6749 section 3.2). Apps exchange an authorization code, a refresh token or their own client credentials for an access token (a JWT valid for 1 hour, sent to `/v1` as `Authorization: Bearer <access_token>`). Standard OAuth client libraries work unmodified: the body may be `application/x-www-form-urlencoded` (as RFC 6749 specifies) or JSON, and errors use RFC 6749's `{error, error_description}` form.  **Client authentication.** Confidential apps authenticate with `client_secret_basic` (`Authorization: Basic` of the form-urlencoded `client_id` and `client_secret`, preferred) or `client_secret_post` (`client_id` and `client_secret` in the body), whichever they are registered for, never both at once. Public apps send only `client_id` and must use PKCE. A failure is `401 invalid_client` with a `WWW-Authenticate: Basic` challenge; failed attempts count towards the per-IP brute-force limit.  **Grants.** - `authorization_code`: send `code`, the same `redirect_uri` as in the   authorization request, and the PKCE `code_verifier`. The code must belong   to the authenticated app, be under 10 minutes old and unused, and   SHA-256(`code_verifier`) must equal its challenge; otherwise   `invalid_grant`. A code is single use: presenting it again is treated as   theft, and every token it issued is revoked. - `refresh_token`: send `refresh_token`, optionally a narrower `scope`   (down-scoping; asking for more than the original grant is `invalid_scope`).   Refresh tokens rotate: the answer holds a new one and the old one is retired.   Presenting a retired refresh token again revokes its whole family (every   access and refresh token descended from the same authorization) and answers   `invalid_grant`. - `client_credentials` (confidential apps only): the app acts on its own, in   the project it is registered in, with `scope` (default: its registered   scopes). No refresh token is issued; ask for a new token when it expires.  A grant the app is not registered for is `unauthorized_client`, an unknown grant `unsupported_grant_type`. All parameters are declared as bounded strings, not enums, so that such errors come back in OAuth form; unknown parameters are ignored (RFC 6749 section 3.2). Issued tokens are recorded in the audit log (`token.issued`, `token.refreshed`), never their values. The response is sent with `Cache-Control: no-store` and `Pragma: no-cache`. Failed client authentications are limited per client IP address: past the limit, every request from that address gets `429` with `Retry-After`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.issue_token(grant_type, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str grant_type: `authorization_code`, `refresh_token` or `client_credentials`. (required)
        :param str code: The authorization code received at the redirect URI (single use, valid 10 minutes).
        :param str redirect_uri: The `redirect_uri` of the authorization request, identical.
        :param str code_verifier: The PKCE code verifier (43 to 128 characters) whose S256 hash was the `code_challenge`.
        :param str refresh_token: The refresh token to redeem (grant `refresh_token`). Single use.
        :param str scope: Space-separated scopes to request (see the grant table).
        :param str client_id: The app's `client_id`, for public apps and `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only. Prefer HTTP Basic.
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: TokenResponse
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.issue_token_with_http_info(grant_type, **kwargs)  # noqa: E501

    def issue_token_with_http_info(self, grant_type, **kwargs):  # noqa: E501
        """Issue tokens (OAuth 2.0 token endpoint)  # noqa: E501

        The OAuth 2.0 token endpoint (RFC 6749 section 3.2). Apps exchange an authorization code, a refresh token or their own client credentials for an access token (a JWT valid for 1 hour, sent to `/v1` as `Authorization: Bearer <access_token>`). Standard OAuth client libraries work unmodified: the body may be `application/x-www-form-urlencoded` (as RFC 6749 specifies) or JSON, and errors use RFC 6749's `{error, error_description}` form.  **Client authentication.** Confidential apps authenticate with `client_secret_basic` (`Authorization: Basic` of the form-urlencoded `client_id` and `client_secret`, preferred) or `client_secret_post` (`client_id` and `client_secret` in the body), whichever they are registered for, never both at once. Public apps send only `client_id` and must use PKCE. A failure is `401 invalid_client` with a `WWW-Authenticate: Basic` challenge; failed attempts count towards the per-IP brute-force limit.  **Grants.** - `authorization_code`: send `code`, the same `redirect_uri` as in the   authorization request, and the PKCE `code_verifier`. The code must belong   to the authenticated app, be under 10 minutes old and unused, and   SHA-256(`code_verifier`) must equal its challenge; otherwise   `invalid_grant`. A code is single use: presenting it again is treated as   theft, and every token it issued is revoked. - `refresh_token`: send `refresh_token`, optionally a narrower `scope`   (down-scoping; asking for more than the original grant is `invalid_scope`).   Refresh tokens rotate: the answer holds a new one and the old one is retired.   Presenting a retired refresh token again revokes its whole family (every   access and refresh token descended from the same authorization) and answers   `invalid_grant`. - `client_credentials` (confidential apps only): the app acts on its own, in   the project it is registered in, with `scope` (default: its registered   scopes). No refresh token is issued; ask for a new token when it expires.  A grant the app is not registered for is `unauthorized_client`, an unknown grant `unsupported_grant_type`. All parameters are declared as bounded strings, not enums, so that such errors come back in OAuth form; unknown parameters are ignored (RFC 6749 section 3.2). Issued tokens are recorded in the audit log (`token.issued`, `token.refreshed`), never their values. The response is sent with `Cache-Control: no-store` and `Pragma: no-cache`. Failed client authentications are limited per client IP address: past the limit, every request from that address gets `429` with `Retry-After`.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.issue_token_with_http_info(grant_type, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str grant_type: `authorization_code`, `refresh_token` or `client_credentials`. (required)
        :param str code: The authorization code received at the redirect URI (single use, valid 10 minutes).
        :param str redirect_uri: The `redirect_uri` of the authorization request, identical.
        :param str code_verifier: The PKCE code verifier (43 to 128 characters) whose S256 hash was the `code_challenge`.
        :param str refresh_token: The refresh token to redeem (grant `refresh_token`). Single use.
        :param str scope: Space-separated scopes to request (see the grant table).
        :param str client_id: The app's `client_id`, for public apps and `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only. Prefer HTTP Basic.
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(TokenResponse, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'grant_type',
            'code',
            'redirect_uri',
            'code_verifier',
            'refresh_token',
            'scope',
            'client_id',
            'client_secret'
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
                    " to method issue_token" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'grant_type' is set
        if self.api_client.client_side_validation and ('grant_type' not in local_var_params or  # noqa: E501
                                                        local_var_params['grant_type'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `grant_type` when calling `issue_token`")  # noqa: E501

        if self.api_client.client_side_validation and ('grant_type' in local_var_params and  # noqa: E501
                                                        len(local_var_params['grant_type']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `grant_type` when calling `issue_token`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('grant_type' in local_var_params and  # noqa: E501
                                                        len(local_var_params['grant_type']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `grant_type` when calling `issue_token`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('code' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code']) > 512):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code` when calling `issue_token`, length must be less than or equal to `512`")  # noqa: E501
        if self.api_client.client_side_validation and ('redirect_uri' in local_var_params and  # noqa: E501
                                                        len(local_var_params['redirect_uri']) > 2000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `redirect_uri` when calling `issue_token`, length must be less than or equal to `2000`")  # noqa: E501
        if self.api_client.client_side_validation and ('code_verifier' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code_verifier']) > 128):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code_verifier` when calling `issue_token`, length must be less than or equal to `128`")  # noqa: E501
        if self.api_client.client_side_validation and ('refresh_token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['refresh_token']) > 512):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `refresh_token` when calling `issue_token`, length must be less than or equal to `512`")  # noqa: E501
        if self.api_client.client_side_validation and ('scope' in local_var_params and  # noqa: E501
                                                        len(local_var_params['scope']) > 1000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `scope` when calling `issue_token`, length must be less than or equal to `1000`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `issue_token`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_secret' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_secret']) > 256):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_secret` when calling `issue_token`, length must be less than or equal to `256`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}
        if 'grant_type' in local_var_params:
            form_params.append(('grant_type', local_var_params['grant_type']))  # noqa: E501
        if 'code' in local_var_params:
            form_params.append(('code', local_var_params['code']))  # noqa: E501
        if 'redirect_uri' in local_var_params:
            form_params.append(('redirect_uri', local_var_params['redirect_uri']))  # noqa: E501
        if 'code_verifier' in local_var_params:
            form_params.append(('code_verifier', local_var_params['code_verifier']))  # noqa: E501
        if 'refresh_token' in local_var_params:
            form_params.append(('refresh_token', local_var_params['refresh_token']))  # noqa: E501
        if 'scope' in local_var_params:
            form_params.append(('scope', local_var_params['scope']))  # noqa: E501
        if 'client_id' in local_var_params:
            form_params.append(('client_id', local_var_params['client_id']))  # noqa: E501
        if 'client_secret' in local_var_params:
            form_params.append(('client_secret', local_var_params['client_secret']))  # noqa: E501

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/x-www-form-urlencoded'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/oauth/token', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='TokenResponse',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def revoke_token(self, token, **kwargs):  # noqa: E501
        """Revoke a token (RFC 7009)  # noqa: E501

        Token revocation (RFC 7009). An app tells AetherFlow it no longer needs a token, for example when the user signs out of the app or disconnects it.  - Revoking a **refresh token** revokes its whole family: the refresh token,   every refresh token rotated from the same authorization, and every access   token issued from them. - Revoking an **access token** revokes that token only (its `jti`); it stops   working on its next request, although it is a JWT that has not expired.  Confidential apps authenticate as at the token endpoint (`client_secret_basic` or `client_secret_post`); public apps send their `client_id`. An app can only revoke its own tokens.  **The answer is `200` with an empty body whenever the app authenticated**, also when the token is unknown, malformed, expired, already revoked or issued to another app (which is then left untouched): as RFC 7009 requires, the answer never tells whether a token existed. Parameters are bounded strings; `token_type_hint` must be `access_token` or `refresh_token` if sent (otherwise `unsupported_token_type`), and it is only a hint. Revocations are recorded in the audit log as `token.revoked`. Failed client authentications are limited per client IP address (`429` with `Retry-After`).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.revoke_token(token, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str token: The access token or refresh token to revoke. (required)
        :param str token_type_hint: `access_token` or `refresh_token`: where to look first. A wrong hint only costs a second lookup; any other value is refused with `unsupported_token_type`. 
        :param str client_id: The app's `client_id`, for public apps and `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only.
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: None
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.revoke_token_with_http_info(token, **kwargs)  # noqa: E501

    def revoke_token_with_http_info(self, token, **kwargs):  # noqa: E501
        """Revoke a token (RFC 7009)  # noqa: E501

        Token revocation (RFC 7009). An app tells AetherFlow it no longer needs a token, for example when the user signs out of the app or disconnects it.  - Revoking a **refresh token** revokes its whole family: the refresh token,   every refresh token rotated from the same authorization, and every access   token issued from them. - Revoking an **access token** revokes that token only (its `jti`); it stops   working on its next request, although it is a JWT that has not expired.  Confidential apps authenticate as at the token endpoint (`client_secret_basic` or `client_secret_post`); public apps send their `client_id`. An app can only revoke its own tokens.  **The answer is `200` with an empty body whenever the app authenticated**, also when the token is unknown, malformed, expired, already revoked or issued to another app (which is then left untouched): as RFC 7009 requires, the answer never tells whether a token existed. Parameters are bounded strings; `token_type_hint` must be `access_token` or `refresh_token` if sent (otherwise `unsupported_token_type`), and it is only a hint. Revocations are recorded in the audit log as `token.revoked`. Failed client authentications are limited per client IP address (`429` with `Retry-After`).   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.revoke_token_with_http_info(token, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str token: The access token or refresh token to revoke. (required)
        :param str token_type_hint: `access_token` or `refresh_token`: where to look first. A wrong hint only costs a second lookup; any other value is refused with `unsupported_token_type`. 
        :param str client_id: The app's `client_id`, for public apps and `client_secret_post`.
        :param str client_secret: The app's secret, with `client_secret_post` only.
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: None
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'token',
            'token_type_hint',
            'client_id',
            'client_secret'
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
                    " to method revoke_token" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'token' is set
        if self.api_client.client_side_validation and ('token' not in local_var_params or  # noqa: E501
                                                        local_var_params['token'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `token` when calling `revoke_token`")  # noqa: E501

        if self.api_client.client_side_validation and ('token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token']) > 4096):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token` when calling `revoke_token`, length must be less than or equal to `4096`")  # noqa: E501
        if self.api_client.client_side_validation and ('token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token` when calling `revoke_token`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('token_type_hint' in local_var_params and  # noqa: E501
                                                        len(local_var_params['token_type_hint']) > 32):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `token_type_hint` when calling `revoke_token`, length must be less than or equal to `32`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `revoke_token`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_secret' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_secret']) > 256):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_secret` when calling `revoke_token`, length must be less than or equal to `256`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}
        if 'token' in local_var_params:
            form_params.append(('token', local_var_params['token']))  # noqa: E501
        if 'token_type_hint' in local_var_params:
            form_params.append(('token_type_hint', local_var_params['token_type_hint']))  # noqa: E501
        if 'client_id' in local_var_params:
            form_params.append(('client_id', local_var_params['client_id']))  # noqa: E501
        if 'client_secret' in local_var_params:
            form_params.append(('client_secret', local_var_params['client_secret']))  # noqa: E501

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['application/json'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/x-www-form-urlencoded'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/oauth/revoke', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type=None,  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)

    def submit_authorization(self, client_id, action, **kwargs):  # noqa: E501
        """Submit the login or consent form  # noqa: E501

        Receives the form of the page that `GET /oauth/authorize` rendered; browsers post it, apps never call it. The form carries the original authorization request in hidden fields, the page's `csrf_token`, and the button pressed:  - `action=login` with `email` and `password`: signs the user in and shows   the consent page (`200`), or the login page again with a generic \"email or   password is incorrect\" message (`200`: the page never says which one was   wrong, nor whether the account exists). Failed logins count towards the same   per-IP and per-account brute-force limits as `POST /v1/auth/login`; beyond   them the answer is `429`. - `action=approve`: grants the app the listed scopes on the chosen project   and redirects (`302`) to `redirect_uri?code=...&state=...`. The code is   single-use and valid for 10 minutes, bound to the app, the redirect URI, the   user, the scopes and the PKCE challenge. - `action=deny`: redirects (`302`) to   `redirect_uri?error=access_denied&state=...`.  Every request parameter is checked again exactly as by `GET /oauth/authorize` (an unsafe `client_id` or `redirect_uri` is shown on an HTML page, never redirected). The `csrf_token` must match the one bound to the page's session cookie (`HttpOnly; Secure; SameSite=Lax`, host-only), otherwise the post is refused with `403` and nothing is granted. Consent and refusal are recorded in the audit log (`oauth.consent_granted`, `oauth.consent_denied`), logins as `auth.login_succeeded` / `auth.login_failed`, never with the password.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.submit_authorization(client_id, action, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: Echo of the authorization request's `client_id`. (required)
        :param str action: The button the user pressed: `login` (sign in with `email` and `password`, then show the consent page), `approve` (grant the app the listed scopes) or `deny` (refuse; the app receives `error=access_denied`).  (required)
        :param str response_type: Echo of the authorization request's `response_type` (`code`).
        :param str redirect_uri: Echo of the authorization request's `redirect_uri`.
        :param str scope: Echo of the authorization request's `scope` (space-separated scopes).
        :param str state: Echo of the authorization request's `state`, returned to the app verbatim.
        :param str code_challenge: Echo of the authorization request's PKCE `code_challenge`.
        :param str code_challenge_method: Echo of the authorization request's `code_challenge_method` (`S256`).
        :param str csrf_token: The anti-forgery token embedded in the page, bound to the page's session cookie. Always sent by the page; a missing, wrong or expired token is refused with `403` and nothing is granted. 
        :param str email: The user's email, with `action=login`.
        :param str password: The user's password, with `action=login`. Never logged or echoed back.
        :param str project_id: With `action=approve`: the project the app will act on, chosen on the consent page among the user's projects. Defaults to the user's default project. 
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: str
                 If the method is called asynchronously,
                 returns the request thread.
        """
        kwargs['_return_http_data_only'] = True
        return self.submit_authorization_with_http_info(client_id, action, **kwargs)  # noqa: E501

    def submit_authorization_with_http_info(self, client_id, action, **kwargs):  # noqa: E501
        """Submit the login or consent form  # noqa: E501

        Receives the form of the page that `GET /oauth/authorize` rendered; browsers post it, apps never call it. The form carries the original authorization request in hidden fields, the page's `csrf_token`, and the button pressed:  - `action=login` with `email` and `password`: signs the user in and shows   the consent page (`200`), or the login page again with a generic \"email or   password is incorrect\" message (`200`: the page never says which one was   wrong, nor whether the account exists). Failed logins count towards the same   per-IP and per-account brute-force limits as `POST /v1/auth/login`; beyond   them the answer is `429`. - `action=approve`: grants the app the listed scopes on the chosen project   and redirects (`302`) to `redirect_uri?code=...&state=...`. The code is   single-use and valid for 10 minutes, bound to the app, the redirect URI, the   user, the scopes and the PKCE challenge. - `action=deny`: redirects (`302`) to   `redirect_uri?error=access_denied&state=...`.  Every request parameter is checked again exactly as by `GET /oauth/authorize` (an unsafe `client_id` or `redirect_uri` is shown on an HTML page, never redirected). The `csrf_token` must match the one bound to the page's session cookie (`HttpOnly; Secure; SameSite=Lax`, host-only), otherwise the post is refused with `403` and nothing is granted. Consent and refusal are recorded in the audit log (`oauth.consent_granted`, `oauth.consent_denied`), logins as `auth.login_succeeded` / `auth.login_failed`, never with the password.   # noqa: E501
        This method makes a synchronous HTTP request by default. To make an
        asynchronous HTTP request, please pass async_req=True
        >>> thread = api.submit_authorization_with_http_info(client_id, action, async_req=True)
        >>> result = thread.get()

        :param async_req bool: execute request asynchronously
        :param str client_id: Echo of the authorization request's `client_id`. (required)
        :param str action: The button the user pressed: `login` (sign in with `email` and `password`, then show the consent page), `approve` (grant the app the listed scopes) or `deny` (refuse; the app receives `error=access_denied`).  (required)
        :param str response_type: Echo of the authorization request's `response_type` (`code`).
        :param str redirect_uri: Echo of the authorization request's `redirect_uri`.
        :param str scope: Echo of the authorization request's `scope` (space-separated scopes).
        :param str state: Echo of the authorization request's `state`, returned to the app verbatim.
        :param str code_challenge: Echo of the authorization request's PKCE `code_challenge`.
        :param str code_challenge_method: Echo of the authorization request's `code_challenge_method` (`S256`).
        :param str csrf_token: The anti-forgery token embedded in the page, bound to the page's session cookie. Always sent by the page; a missing, wrong or expired token is refused with `403` and nothing is granted. 
        :param str email: The user's email, with `action=login`.
        :param str password: The user's password, with `action=login`. Never logged or echoed back.
        :param str project_id: With `action=approve`: the project the app will act on, chosen on the consent page among the user's projects. Defaults to the user's default project. 
        :param _return_http_data_only: response data without head status code
                                       and headers
        :param _preload_content: if False, the urllib3.HTTPResponse object will
                                 be returned without reading/decoding response
                                 data. Default is True.
        :param _request_timeout: timeout setting for this request. If one
                                 number provided, it will be total request
                                 timeout. It can also be a pair (tuple) of
                                 (connection, read) timeouts.
        :return: tuple(str, status_code(int), headers(HTTPHeaderDict))
                 If the method is called asynchronously,
                 returns the request thread.
        """

        local_var_params = locals()

        all_params = [
            'client_id',
            'action',
            'response_type',
            'redirect_uri',
            'scope',
            'state',
            'code_challenge',
            'code_challenge_method',
            'csrf_token',
            'email',
            'password',
            'project_id'
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
                    " to method submit_authorization" % key
                )
            local_var_params[key] = val
        del local_var_params['kwargs']
        # verify the required parameter 'client_id' is set
        if self.api_client.client_side_validation and ('client_id' not in local_var_params or  # noqa: E501
                                                        local_var_params['client_id'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `client_id` when calling `submit_authorization`")  # noqa: E501
        # verify the required parameter 'action' is set
        if self.api_client.client_side_validation and ('action' not in local_var_params or  # noqa: E501
                                                        local_var_params['action'] is None):  # noqa: E501
            raise ApiValueError("Missing the required parameter `action` when calling `submit_authorization`")  # noqa: E501

        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `submit_authorization`, length must be less than or equal to `64`")  # noqa: E501
        if self.api_client.client_side_validation and ('client_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['client_id']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `client_id` when calling `submit_authorization`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('action' in local_var_params and  # noqa: E501
                                                        len(local_var_params['action']) > 16):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `action` when calling `submit_authorization`, length must be less than or equal to `16`")  # noqa: E501
        if self.api_client.client_side_validation and ('action' in local_var_params and  # noqa: E501
                                                        len(local_var_params['action']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `action` when calling `submit_authorization`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('response_type' in local_var_params and  # noqa: E501
                                                        len(local_var_params['response_type']) > 32):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `response_type` when calling `submit_authorization`, length must be less than or equal to `32`")  # noqa: E501
        if self.api_client.client_side_validation and ('redirect_uri' in local_var_params and  # noqa: E501
                                                        len(local_var_params['redirect_uri']) > 2000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `redirect_uri` when calling `submit_authorization`, length must be less than or equal to `2000`")  # noqa: E501
        if self.api_client.client_side_validation and ('scope' in local_var_params and  # noqa: E501
                                                        len(local_var_params['scope']) > 1000):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `scope` when calling `submit_authorization`, length must be less than or equal to `1000`")  # noqa: E501
        if self.api_client.client_side_validation and ('state' in local_var_params and  # noqa: E501
                                                        len(local_var_params['state']) > 1024):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `state` when calling `submit_authorization`, length must be less than or equal to `1024`")  # noqa: E501
        if self.api_client.client_side_validation and ('code_challenge' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code_challenge']) > 128):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code_challenge` when calling `submit_authorization`, length must be less than or equal to `128`")  # noqa: E501
        if self.api_client.client_side_validation and ('code_challenge_method' in local_var_params and  # noqa: E501
                                                        len(local_var_params['code_challenge_method']) > 16):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `code_challenge_method` when calling `submit_authorization`, length must be less than or equal to `16`")  # noqa: E501
        if self.api_client.client_side_validation and ('csrf_token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['csrf_token']) > 128):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `csrf_token` when calling `submit_authorization`, length must be less than or equal to `128`")  # noqa: E501
        if self.api_client.client_side_validation and ('csrf_token' in local_var_params and  # noqa: E501
                                                        len(local_var_params['csrf_token']) < 1):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `csrf_token` when calling `submit_authorization`, length must be greater than or equal to `1`")  # noqa: E501
        if self.api_client.client_side_validation and ('email' in local_var_params and  # noqa: E501
                                                        len(local_var_params['email']) > 254):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `email` when calling `submit_authorization`, length must be less than or equal to `254`")  # noqa: E501
        if self.api_client.client_side_validation and ('password' in local_var_params and  # noqa: E501
                                                        len(local_var_params['password']) > 1024):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `password` when calling `submit_authorization`, length must be less than or equal to `1024`")  # noqa: E501
        if self.api_client.client_side_validation and ('project_id' in local_var_params and  # noqa: E501
                                                        len(local_var_params['project_id']) > 64):  # noqa: E501
            raise ApiValueError("Invalid value for parameter `project_id` when calling `submit_authorization`, length must be less than or equal to `64`")  # noqa: E501
        collection_formats = {}

        path_params = {}

        query_params = []

        header_params = {}

        form_params = []
        local_var_files = {}
        if 'response_type' in local_var_params:
            form_params.append(('response_type', local_var_params['response_type']))  # noqa: E501
        if 'client_id' in local_var_params:
            form_params.append(('client_id', local_var_params['client_id']))  # noqa: E501
        if 'redirect_uri' in local_var_params:
            form_params.append(('redirect_uri', local_var_params['redirect_uri']))  # noqa: E501
        if 'scope' in local_var_params:
            form_params.append(('scope', local_var_params['scope']))  # noqa: E501
        if 'state' in local_var_params:
            form_params.append(('state', local_var_params['state']))  # noqa: E501
        if 'code_challenge' in local_var_params:
            form_params.append(('code_challenge', local_var_params['code_challenge']))  # noqa: E501
        if 'code_challenge_method' in local_var_params:
            form_params.append(('code_challenge_method', local_var_params['code_challenge_method']))  # noqa: E501
        if 'csrf_token' in local_var_params:
            form_params.append(('csrf_token', local_var_params['csrf_token']))  # noqa: E501
        if 'action' in local_var_params:
            form_params.append(('action', local_var_params['action']))  # noqa: E501
        if 'email' in local_var_params:
            form_params.append(('email', local_var_params['email']))  # noqa: E501
        if 'password' in local_var_params:
            form_params.append(('password', local_var_params['password']))  # noqa: E501
        if 'project_id' in local_var_params:
            form_params.append(('project_id', local_var_params['project_id']))  # noqa: E501

        body_params = None
        # HTTP header `Accept`
        header_params['Accept'] = self.api_client.select_header_accept(
            ['text/html'])  # noqa: E501

        # HTTP header `Content-Type`
        header_params['Content-Type'] = self.api_client.select_header_content_type(  # noqa: E501
            ['application/x-www-form-urlencoded'])  # noqa: E501

        # Authentication setting
        auth_settings = []  # noqa: E501

        return self.api_client.call_api(
            '/oauth/authorize', 'POST',
            path_params,
            query_params,
            header_params,
            body=body_params,
            post_params=form_params,
            files=local_var_files,
            response_type='str',  # noqa: E501
            auth_settings=auth_settings,
            async_req=local_var_params.get('async_req'),
            _return_http_data_only=local_var_params.get('_return_http_data_only'),  # noqa: E501
            _preload_content=local_var_params.get('_preload_content', True),
            _request_timeout=local_var_params.get('_request_timeout'),
            collection_formats=collection_formats)
