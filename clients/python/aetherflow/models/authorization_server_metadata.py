# coding: utf-8

"""
    AetherFlow Workflows API

    The AetherFlow Workflows API lets you define workflows, run them, watch their runs, store the third-party credentials they use, and feed them events. It is a JSON API over HTTPS: every request and every response is described by this document, and the server checks itself against it.  # Conventions  - **Base URL** `https://api.aetherflow.com`. Resource endpoints live under `/v1`;   the OAuth 2.0 protocol endpoints (`/oauth/...`, `/.well-known/...`) and `/health`   are outside it. - **HTTPS only.** A plain-HTTP request to `/v1` or `/oauth` is refused with   `403 https_required` (loopback is allowed in local development); `/health`   and `/.well-known/*` carry no credentials and answer either. Every response carries   `Strict-Transport-Security` and an `X-Request-Id` that you should quote when   you contact support. - **Envelope.** A successful `/v1` response is `{\"success\": true, \"data\": ...}`;   lists add `next_cursor`. Every `/v1` error is   `{\"success\": false, \"error\": {type, code, message, status, request_id, doc_url}}`. - **Pagination.** Lists take `limit` (1-100, default 20) and `cursor`; pass the   `next_cursor` of one page as the `cursor` of the next. `next_cursor` is `null`   on the last page. Cursors are opaque: do not build or edit them. - **Idempotency.** Every `POST` that creates or runs something accepts an   `Idempotency-Key` header (any unique string up to 255 characters, a UUID is   ideal). A retry with the same key and the same body returns the first   response (marked `Idempotent-Replayed: true`) and never runs the operation   twice; the same key with a different body is refused with   `409 idempotency_conflict`. Keys are remembered for 24 hours. - **Timestamps** are RFC 3339 strings in UTC. Identifiers carry a type prefix   (`wf_`, `run_`, `conn_`, `evt_`, `key_`, `aud_`, `cli_`). - **Limits on every request**, beyond each operation's schema: a body of at   most 1 MiB by default (`413 payload_too_large`); request headers of at most   16 KB, JSON nested at most 64 levels deep, no NUL character (U+0000) in any   path, query or body text, only finite numbers, and `Authorization`,   `X-API-Key`, `Host`, `Content-Type` and `Idempotency-Key` each sent at most   once (each `400 validation_failed`, with `details` naming the place).  # Authentication  Every `/v1` operation except login, refresh, leaked-key reporting and `/health` needs a credential. Three kinds are accepted, and every operation lists the scopes it needs under each scheme.  ## API keys  Send the key as `Authorization: Bearer <key>` (preferred) or `X-API-Key: <key>`.  ```bash curl https://api.aetherflow.com/v1/workflows \\   -H \"Authorization: Bearer sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX\" ```  A key reads `{type}_{env}_{32 base62 characters}{6-character checksum}`:  | prefix | kind | may hold | use it | |---|---|---|---| | `sk_` | secret | any scope its creator holds | on your servers only | | `rk_` | read-only | `*:read` scopes only | dashboards, reporting | | `ck_` | client | `events:write` only | safe to ship inside apps and web pages |  `env` is `live` or `test`. Keys belong to one project and reach every resource in it and nothing outside it; `test` keys see only the project's sandbox data and `live` keys only its live data. The checksum is the CRC-32 of everything before it (`sk_test_` plus the 32 random characters), written in base62 and left-padded with `0` to 6 characters, so the server and secret scanners can reject a mistyped or invented key without a database lookup.  The secret is shown **once**, when the key is created or rotated; AetherFlow keeps only a keyed hash, a display prefix and the last four characters. Keys may carry an expiry (`expires_at`) and an IP allowlist (`allowed_ips`, CIDR). Revocation takes effect on the next request. Rotation issues a new secret and keeps the old one working for a grace period (24 hours by default); responses to the old secret meanwhile carry `X-Key-Expires-At`.  Legacy keys (`wfk_` followed by 32 characters) still authenticate through `X-API-Key` only; their responses carry a `Deprecation` header. Replace them with `sk_` keys.  If you find a leaked key, report it to `POST /v1/credentials/revoke` (no authentication needed): it is revoked at once.  ## JWT access tokens  `POST /v1/auth/login` exchanges an email and password for an access token (a JWT valid for 1 hour) and a refresh token. Send the access token as `Authorization: Bearer <jwt>`. Tokens are signed with ES256 or EdDSA; the header names the signing key (`kid`), and the public keys are published at `/.well-known/jwks.json`. Claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `scope` and `project_id`. `POST /v1/auth/refresh` trades a refresh token for a new pair; each refresh token works once, and presenting a used one revokes every token descended from the same login.  ## OAuth 2.0  Third-party apps use the authorization code flow with PKCE (S256; required for public clients) or, for their own resources, the client credentials grant. Register an app with `POST /v1/oauth/clients`, send the user to `/oauth/authorize`, exchange the code at `/oauth/token` and call `/v1` with the access token. Redirect URIs must match a registered one exactly, `state` is returned verbatim, codes are single-use and live 10 minutes. The token endpoint accepts form-encoded (RFC 6749) and JSON bodies and client authentication by `client_secret_basic` or `client_secret_post`. Revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414) are supported.  ## Scopes  | scope | grants | |---|---| | `workflows:read` | list and read workflows | | `workflows:write` | create, replace and delete workflows | | `workflows:execute` | run workflows; cancel and retry runs | | `runs:read` | list and read runs | | `connections:read` | list and read connections (never their credentials) | | `connections:write` | create and delete connections | | `events:write` | send events that trigger workflows | | `keys:read` | list and read API keys | | `keys:write` | create, rotate and revoke API keys | | `apps:read` | list and read OAuth apps | | `apps:write` | register and delete OAuth apps | | `audit:read` | read the audit log | | `usage:read` | read rate-limit standing and usage | | `read` | every `*:read` scope (kept for older integrations) | | `write` | every `*:write` scope (kept for older integrations) |  A credential without a scope an operation needs is refused with `403 insufficient_scope` and `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"<needed>\"`.  # Rate limits  Every applicable limit counts and the tightest one governs. Windows slide.  | limit applies to | allowance | |---|---| | reads (GET) | 1000 per minute per key or token | | writes (POST, PUT, PATCH, DELETE) | 100 per minute per key or token | | executions (run, cancel, retry) | 500 per minute per key or token | | event ingestion | 10000 per minute per client IP | | free plan | 60 per minute and 1000 per hour per account | | pro plan | 300 per minute and 10000 per hour per account | | enterprise plan | 1000 per minute and 50000 per hour per account | | API keys | 1000 per hour per key | | OAuth access tokens | 5000 per hour per token's grant | | JWT sessions | 2000 per hour per user |  Every rate-limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds) for the governing limit, and the IETF `RateLimit-Policy` and `RateLimit` fields for all of them. Over a limit the API answers `429 rate_limit_exceeded` with `Retry-After` in seconds: wait that long, then retry. `GET /v1/usage` shows where you stand. Login, refresh, leaked-key reports and failed authentication attempts are also limited per client IP to stop brute force (`429 too_many_attempts`).  # Errors  Every `/v1` error uses one envelope:  ```json {   \"success\": false,   \"error\": {     \"type\": \"authentication_error\",     \"code\": \"invalid_api_key\",     \"message\": \"The API key provided is invalid.\",     \"status\": 401,     \"request_id\": \"req_2R173icKNeCelgpIO3zC485E\",     \"doc_url\": \"https://docs.aetherflow.com/errors#invalid_api_key\"   } } ```  `type` says what kind of problem it is and `code` exactly which one; the full catalogue of codes, their statuses and what to do about each is in the `ErrorCode` schema. Branch on `code`, never on `message`. A 401 always carries `WWW-Authenticate` (RFC 6750). The OAuth protocol endpoints answer errors in RFC 6749's own `{\"error\", \"error_description\"}` form, because OAuth client libraries expect it.   # noqa: E501

    The version of the OpenAPI document: 1.0.0
    Contact: api@aetherflow.com
    Generated by: https://openapi-generator.tech
"""


import pprint
import re  # noqa: F401

import six

from aetherflow.configuration import Configuration


class AuthorizationServerMetadata(object):
    """NOTE: This class is auto generated by OpenAPI Generator.
    Ref: https://openapi-generator.tech

    Do not edit the class manually.
    """

    """
    Attributes:
      openapi_types (dict): The key is attribute name
                            and the value is attribute type.
      attribute_map (dict): The key is attribute name
                            and the value is json key in definition.
    """
    openapi_types = {
        'issuer': 'str',
        'authorization_endpoint': 'str',
        'token_endpoint': 'str',
        'revocation_endpoint': 'str',
        'introspection_endpoint': 'str',
        'jwks_uri': 'str',
        'scopes_supported': 'list[Scope]',
        'response_types_supported': 'list[str]',
        'response_modes_supported': 'list[str]',
        'grant_types_supported': 'list[OAuthGrantType]',
        'token_endpoint_auth_methods_supported': 'list[OAuthClientAuthMethod]',
        'revocation_endpoint_auth_methods_supported': 'list[OAuthClientAuthMethod]',
        'introspection_endpoint_auth_methods_supported': 'list[OAuthClientAuthMethod]',
        'code_challenge_methods_supported': 'list[str]',
        'service_documentation': 'str'
    }

    attribute_map = {
        'issuer': 'issuer',
        'authorization_endpoint': 'authorization_endpoint',
        'token_endpoint': 'token_endpoint',
        'revocation_endpoint': 'revocation_endpoint',
        'introspection_endpoint': 'introspection_endpoint',
        'jwks_uri': 'jwks_uri',
        'scopes_supported': 'scopes_supported',
        'response_types_supported': 'response_types_supported',
        'response_modes_supported': 'response_modes_supported',
        'grant_types_supported': 'grant_types_supported',
        'token_endpoint_auth_methods_supported': 'token_endpoint_auth_methods_supported',
        'revocation_endpoint_auth_methods_supported': 'revocation_endpoint_auth_methods_supported',
        'introspection_endpoint_auth_methods_supported': 'introspection_endpoint_auth_methods_supported',
        'code_challenge_methods_supported': 'code_challenge_methods_supported',
        'service_documentation': 'service_documentation'
    }

    def __init__(self, issuer=None, authorization_endpoint=None, token_endpoint=None, revocation_endpoint=None, introspection_endpoint=None, jwks_uri=None, scopes_supported=None, response_types_supported=None, response_modes_supported=None, grant_types_supported=None, token_endpoint_auth_methods_supported=None, revocation_endpoint_auth_methods_supported=None, introspection_endpoint_auth_methods_supported=None, code_challenge_methods_supported=None, service_documentation=None, local_vars_configuration=None):  # noqa: E501
        """AuthorizationServerMetadata - a model defined in OpenAPI"""  # noqa: E501
        if local_vars_configuration is None:
            local_vars_configuration = Configuration()
        self.local_vars_configuration = local_vars_configuration

        self._issuer = None
        self._authorization_endpoint = None
        self._token_endpoint = None
        self._revocation_endpoint = None
        self._introspection_endpoint = None
        self._jwks_uri = None
        self._scopes_supported = None
        self._response_types_supported = None
        self._response_modes_supported = None
        self._grant_types_supported = None
        self._token_endpoint_auth_methods_supported = None
        self._revocation_endpoint_auth_methods_supported = None
        self._introspection_endpoint_auth_methods_supported = None
        self._code_challenge_methods_supported = None
        self._service_documentation = None
        self.discriminator = None

        self.issuer = issuer
        self.authorization_endpoint = authorization_endpoint
        self.token_endpoint = token_endpoint
        self.revocation_endpoint = revocation_endpoint
        self.introspection_endpoint = introspection_endpoint
        self.jwks_uri = jwks_uri
        self.scopes_supported = scopes_supported
        self.response_types_supported = response_types_supported
        self.response_modes_supported = response_modes_supported
        self.grant_types_supported = grant_types_supported
        self.token_endpoint_auth_methods_supported = token_endpoint_auth_methods_supported
        self.revocation_endpoint_auth_methods_supported = revocation_endpoint_auth_methods_supported
        self.introspection_endpoint_auth_methods_supported = introspection_endpoint_auth_methods_supported
        self.code_challenge_methods_supported = code_challenge_methods_supported
        self.service_documentation = service_documentation

    @property
    def issuer(self):
        """Gets the issuer of this AuthorizationServerMetadata.  # noqa: E501

        The issuer identifier, equal to the `iss` claim of every token. Clients must check it.  # noqa: E501

        :return: The issuer of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._issuer

    @issuer.setter
    def issuer(self, issuer):
        """Sets the issuer of this AuthorizationServerMetadata.

        The issuer identifier, equal to the `iss` claim of every token. Clients must check it.  # noqa: E501

        :param issuer: The issuer of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and issuer is None:  # noqa: E501
            raise ValueError("Invalid value for `issuer`, must not be `None`")  # noqa: E501

        self._issuer = issuer

    @property
    def authorization_endpoint(self):
        """Gets the authorization_endpoint of this AuthorizationServerMetadata.  # noqa: E501

        Where to send the user's browser (`GET /oauth/authorize`).  # noqa: E501

        :return: The authorization_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._authorization_endpoint

    @authorization_endpoint.setter
    def authorization_endpoint(self, authorization_endpoint):
        """Sets the authorization_endpoint of this AuthorizationServerMetadata.

        Where to send the user's browser (`GET /oauth/authorize`).  # noqa: E501

        :param authorization_endpoint: The authorization_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and authorization_endpoint is None:  # noqa: E501
            raise ValueError("Invalid value for `authorization_endpoint`, must not be `None`")  # noqa: E501

        self._authorization_endpoint = authorization_endpoint

    @property
    def token_endpoint(self):
        """Gets the token_endpoint of this AuthorizationServerMetadata.  # noqa: E501

        Where to exchange codes and refresh tokens (`POST /oauth/token`).  # noqa: E501

        :return: The token_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._token_endpoint

    @token_endpoint.setter
    def token_endpoint(self, token_endpoint):
        """Sets the token_endpoint of this AuthorizationServerMetadata.

        Where to exchange codes and refresh tokens (`POST /oauth/token`).  # noqa: E501

        :param token_endpoint: The token_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and token_endpoint is None:  # noqa: E501
            raise ValueError("Invalid value for `token_endpoint`, must not be `None`")  # noqa: E501

        self._token_endpoint = token_endpoint

    @property
    def revocation_endpoint(self):
        """Gets the revocation_endpoint of this AuthorizationServerMetadata.  # noqa: E501

        Where to revoke tokens (RFC 7009).  # noqa: E501

        :return: The revocation_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._revocation_endpoint

    @revocation_endpoint.setter
    def revocation_endpoint(self, revocation_endpoint):
        """Sets the revocation_endpoint of this AuthorizationServerMetadata.

        Where to revoke tokens (RFC 7009).  # noqa: E501

        :param revocation_endpoint: The revocation_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and revocation_endpoint is None:  # noqa: E501
            raise ValueError("Invalid value for `revocation_endpoint`, must not be `None`")  # noqa: E501

        self._revocation_endpoint = revocation_endpoint

    @property
    def introspection_endpoint(self):
        """Gets the introspection_endpoint of this AuthorizationServerMetadata.  # noqa: E501

        Where confidential apps introspect tokens (RFC 7662).  # noqa: E501

        :return: The introspection_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._introspection_endpoint

    @introspection_endpoint.setter
    def introspection_endpoint(self, introspection_endpoint):
        """Sets the introspection_endpoint of this AuthorizationServerMetadata.

        Where confidential apps introspect tokens (RFC 7662).  # noqa: E501

        :param introspection_endpoint: The introspection_endpoint of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and introspection_endpoint is None:  # noqa: E501
            raise ValueError("Invalid value for `introspection_endpoint`, must not be `None`")  # noqa: E501

        self._introspection_endpoint = introspection_endpoint

    @property
    def jwks_uri(self):
        """Gets the jwks_uri of this AuthorizationServerMetadata.  # noqa: E501

        The public keys that verify access tokens.  # noqa: E501

        :return: The jwks_uri of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._jwks_uri

    @jwks_uri.setter
    def jwks_uri(self, jwks_uri):
        """Sets the jwks_uri of this AuthorizationServerMetadata.

        The public keys that verify access tokens.  # noqa: E501

        :param jwks_uri: The jwks_uri of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and jwks_uri is None:  # noqa: E501
            raise ValueError("Invalid value for `jwks_uri`, must not be `None`")  # noqa: E501

        self._jwks_uri = jwks_uri

    @property
    def scopes_supported(self):
        """Gets the scopes_supported of this AuthorizationServerMetadata.  # noqa: E501

        Every scope an app may request.  # noqa: E501

        :return: The scopes_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[Scope]
        """
        return self._scopes_supported

    @scopes_supported.setter
    def scopes_supported(self, scopes_supported):
        """Sets the scopes_supported of this AuthorizationServerMetadata.

        Every scope an app may request.  # noqa: E501

        :param scopes_supported: The scopes_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[Scope]
        """
        if self.local_vars_configuration.client_side_validation and scopes_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `scopes_supported`, must not be `None`")  # noqa: E501

        self._scopes_supported = scopes_supported

    @property
    def response_types_supported(self):
        """Gets the response_types_supported of this AuthorizationServerMetadata.  # noqa: E501

        Only the authorization code flow (`code`); the implicit flow is not offered.  # noqa: E501

        :return: The response_types_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[str]
        """
        return self._response_types_supported

    @response_types_supported.setter
    def response_types_supported(self, response_types_supported):
        """Sets the response_types_supported of this AuthorizationServerMetadata.

        Only the authorization code flow (`code`); the implicit flow is not offered.  # noqa: E501

        :param response_types_supported: The response_types_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[str]
        """
        if self.local_vars_configuration.client_side_validation and response_types_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `response_types_supported`, must not be `None`")  # noqa: E501
        allowed_values = ["code"]  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                not set(response_types_supported).issubset(set(allowed_values))):  # noqa: E501
            raise ValueError(
                "Invalid values for `response_types_supported` [{0}], must be a subset of [{1}]"  # noqa: E501
                .format(", ".join(map(str, set(response_types_supported) - set(allowed_values))),  # noqa: E501
                        ", ".join(map(str, allowed_values)))
            )

        self._response_types_supported = response_types_supported

    @property
    def response_modes_supported(self):
        """Gets the response_modes_supported of this AuthorizationServerMetadata.  # noqa: E501

        Authorization responses are returned in the redirect URI's query string.  # noqa: E501

        :return: The response_modes_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[str]
        """
        return self._response_modes_supported

    @response_modes_supported.setter
    def response_modes_supported(self, response_modes_supported):
        """Sets the response_modes_supported of this AuthorizationServerMetadata.

        Authorization responses are returned in the redirect URI's query string.  # noqa: E501

        :param response_modes_supported: The response_modes_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[str]
        """
        if self.local_vars_configuration.client_side_validation and response_modes_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `response_modes_supported`, must not be `None`")  # noqa: E501
        allowed_values = ["query"]  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                not set(response_modes_supported).issubset(set(allowed_values))):  # noqa: E501
            raise ValueError(
                "Invalid values for `response_modes_supported` [{0}], must be a subset of [{1}]"  # noqa: E501
                .format(", ".join(map(str, set(response_modes_supported) - set(allowed_values))),  # noqa: E501
                        ", ".join(map(str, allowed_values)))
            )

        self._response_modes_supported = response_modes_supported

    @property
    def grant_types_supported(self):
        """Gets the grant_types_supported of this AuthorizationServerMetadata.  # noqa: E501

        The grants `/oauth/token` accepts.  # noqa: E501

        :return: The grant_types_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[OAuthGrantType]
        """
        return self._grant_types_supported

    @grant_types_supported.setter
    def grant_types_supported(self, grant_types_supported):
        """Sets the grant_types_supported of this AuthorizationServerMetadata.

        The grants `/oauth/token` accepts.  # noqa: E501

        :param grant_types_supported: The grant_types_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[OAuthGrantType]
        """
        if self.local_vars_configuration.client_side_validation and grant_types_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `grant_types_supported`, must not be `None`")  # noqa: E501

        self._grant_types_supported = grant_types_supported

    @property
    def token_endpoint_auth_methods_supported(self):
        """Gets the token_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501

        How apps authenticate at the token endpoint (`none` for public apps, with PKCE).  # noqa: E501

        :return: The token_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[OAuthClientAuthMethod]
        """
        return self._token_endpoint_auth_methods_supported

    @token_endpoint_auth_methods_supported.setter
    def token_endpoint_auth_methods_supported(self, token_endpoint_auth_methods_supported):
        """Sets the token_endpoint_auth_methods_supported of this AuthorizationServerMetadata.

        How apps authenticate at the token endpoint (`none` for public apps, with PKCE).  # noqa: E501

        :param token_endpoint_auth_methods_supported: The token_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[OAuthClientAuthMethod]
        """
        if self.local_vars_configuration.client_side_validation and token_endpoint_auth_methods_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `token_endpoint_auth_methods_supported`, must not be `None`")  # noqa: E501

        self._token_endpoint_auth_methods_supported = token_endpoint_auth_methods_supported

    @property
    def revocation_endpoint_auth_methods_supported(self):
        """Gets the revocation_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501

        How apps authenticate at the revocation endpoint (`none`: public apps send only `client_id`).  # noqa: E501

        :return: The revocation_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[OAuthClientAuthMethod]
        """
        return self._revocation_endpoint_auth_methods_supported

    @revocation_endpoint_auth_methods_supported.setter
    def revocation_endpoint_auth_methods_supported(self, revocation_endpoint_auth_methods_supported):
        """Sets the revocation_endpoint_auth_methods_supported of this AuthorizationServerMetadata.

        How apps authenticate at the revocation endpoint (`none`: public apps send only `client_id`).  # noqa: E501

        :param revocation_endpoint_auth_methods_supported: The revocation_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[OAuthClientAuthMethod]
        """
        if self.local_vars_configuration.client_side_validation and revocation_endpoint_auth_methods_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `revocation_endpoint_auth_methods_supported`, must not be `None`")  # noqa: E501

        self._revocation_endpoint_auth_methods_supported = revocation_endpoint_auth_methods_supported

    @property
    def introspection_endpoint_auth_methods_supported(self):
        """Gets the introspection_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501

        How apps authenticate at the introspection endpoint (confidential apps only).  # noqa: E501

        :return: The introspection_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[OAuthClientAuthMethod]
        """
        return self._introspection_endpoint_auth_methods_supported

    @introspection_endpoint_auth_methods_supported.setter
    def introspection_endpoint_auth_methods_supported(self, introspection_endpoint_auth_methods_supported):
        """Sets the introspection_endpoint_auth_methods_supported of this AuthorizationServerMetadata.

        How apps authenticate at the introspection endpoint (confidential apps only).  # noqa: E501

        :param introspection_endpoint_auth_methods_supported: The introspection_endpoint_auth_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[OAuthClientAuthMethod]
        """
        if self.local_vars_configuration.client_side_validation and introspection_endpoint_auth_methods_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `introspection_endpoint_auth_methods_supported`, must not be `None`")  # noqa: E501

        self._introspection_endpoint_auth_methods_supported = introspection_endpoint_auth_methods_supported

    @property
    def code_challenge_methods_supported(self):
        """Gets the code_challenge_methods_supported of this AuthorizationServerMetadata.  # noqa: E501

        PKCE methods; only `S256` (`plain` is refused).  # noqa: E501

        :return: The code_challenge_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: list[str]
        """
        return self._code_challenge_methods_supported

    @code_challenge_methods_supported.setter
    def code_challenge_methods_supported(self, code_challenge_methods_supported):
        """Sets the code_challenge_methods_supported of this AuthorizationServerMetadata.

        PKCE methods; only `S256` (`plain` is refused).  # noqa: E501

        :param code_challenge_methods_supported: The code_challenge_methods_supported of this AuthorizationServerMetadata.  # noqa: E501
        :type: list[str]
        """
        if self.local_vars_configuration.client_side_validation and code_challenge_methods_supported is None:  # noqa: E501
            raise ValueError("Invalid value for `code_challenge_methods_supported`, must not be `None`")  # noqa: E501
        allowed_values = ["S256"]  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                not set(code_challenge_methods_supported).issubset(set(allowed_values))):  # noqa: E501
            raise ValueError(
                "Invalid values for `code_challenge_methods_supported` [{0}], must be a subset of [{1}]"  # noqa: E501
                .format(", ".join(map(str, set(code_challenge_methods_supported) - set(allowed_values))),  # noqa: E501
                        ", ".join(map(str, allowed_values)))
            )

        self._code_challenge_methods_supported = code_challenge_methods_supported

    @property
    def service_documentation(self):
        """Gets the service_documentation of this AuthorizationServerMetadata.  # noqa: E501

        Developer documentation of the OAuth integration.  # noqa: E501

        :return: The service_documentation of this AuthorizationServerMetadata.  # noqa: E501
        :rtype: str
        """
        return self._service_documentation

    @service_documentation.setter
    def service_documentation(self, service_documentation):
        """Sets the service_documentation of this AuthorizationServerMetadata.

        Developer documentation of the OAuth integration.  # noqa: E501

        :param service_documentation: The service_documentation of this AuthorizationServerMetadata.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and service_documentation is None:  # noqa: E501
            raise ValueError("Invalid value for `service_documentation`, must not be `None`")  # noqa: E501

        self._service_documentation = service_documentation

    def to_dict(self):
        """Returns the model properties as a dict"""
        result = {}

        for attr, _ in six.iteritems(self.openapi_types):
            value = getattr(self, attr)
            if isinstance(value, list):
                result[attr] = list(map(
                    lambda x: x.to_dict() if hasattr(x, "to_dict") else x,
                    value
                ))
            elif hasattr(value, "to_dict"):
                result[attr] = value.to_dict()
            elif isinstance(value, dict):
                result[attr] = dict(map(
                    lambda item: (item[0], item[1].to_dict())
                    if hasattr(item[1], "to_dict") else item,
                    value.items()
                ))
            else:
                result[attr] = value

        return result

    def to_str(self):
        """Returns the string representation of the model"""
        return pprint.pformat(self.to_dict())

    def __repr__(self):
        """For `print` and `pprint`"""
        return self.to_str()

    def __eq__(self, other):
        """Returns true if both objects are equal"""
        if not isinstance(other, AuthorizationServerMetadata):
            return False

        return self.to_dict() == other.to_dict()

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        if not isinstance(other, AuthorizationServerMetadata):
            return True

        return self.to_dict() != other.to_dict()
