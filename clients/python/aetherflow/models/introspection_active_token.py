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


class IntrospectionActiveToken(object):
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
        'active': 'bool',
        'scope': 'str',
        'client_id': 'str',
        'username': 'str',
        'token_type': 'str',
        'exp': 'int',
        'iat': 'int',
        'nbf': 'int',
        'sub': 'str',
        'aud': 'str',
        'iss': 'str',
        'jti': 'str',
        'project_id': 'str'
    }

    attribute_map = {
        'active': 'active',
        'scope': 'scope',
        'client_id': 'client_id',
        'username': 'username',
        'token_type': 'token_type',
        'exp': 'exp',
        'iat': 'iat',
        'nbf': 'nbf',
        'sub': 'sub',
        'aud': 'aud',
        'iss': 'iss',
        'jti': 'jti',
        'project_id': 'project_id'
    }

    def __init__(self, active=None, scope=None, client_id=None, username=None, token_type=None, exp=None, iat=None, nbf=None, sub=None, aud=None, iss=None, jti=None, project_id=None, local_vars_configuration=None):  # noqa: E501
        """IntrospectionActiveToken - a model defined in OpenAPI"""  # noqa: E501
        if local_vars_configuration is None:
            local_vars_configuration = Configuration()
        self.local_vars_configuration = local_vars_configuration

        self._active = None
        self._scope = None
        self._client_id = None
        self._username = None
        self._token_type = None
        self._exp = None
        self._iat = None
        self._nbf = None
        self._sub = None
        self._aud = None
        self._iss = None
        self._jti = None
        self._project_id = None
        self.discriminator = None

        self.active = active
        self.scope = scope
        self.client_id = client_id
        if username is not None:
            self.username = username
        if token_type is not None:
            self.token_type = token_type
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.sub = sub
        self.aud = aud
        self.iss = iss
        self.jti = jti
        self.project_id = project_id

    @property
    def active(self):
        """Gets the active of this IntrospectionActiveToken.  # noqa: E501

        Always `true`.  # noqa: E501

        :return: The active of this IntrospectionActiveToken.  # noqa: E501
        :rtype: bool
        """
        return self._active

    @active.setter
    def active(self, active):
        """Sets the active of this IntrospectionActiveToken.

        Always `true`.  # noqa: E501

        :param active: The active of this IntrospectionActiveToken.  # noqa: E501
        :type: bool
        """
        if self.local_vars_configuration.client_side_validation and active is None:  # noqa: E501
            raise ValueError("Invalid value for `active`, must not be `None`")  # noqa: E501

        self._active = active

    @property
    def scope(self):
        """Gets the scope of this IntrospectionActiveToken.  # noqa: E501

        The token's scopes, space-separated.  # noqa: E501

        :return: The scope of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._scope

    @scope.setter
    def scope(self, scope):
        """Sets the scope of this IntrospectionActiveToken.

        The token's scopes, space-separated.  # noqa: E501

        :param scope: The scope of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and scope is None:  # noqa: E501
            raise ValueError("Invalid value for `scope`, must not be `None`")  # noqa: E501

        self._scope = scope

    @property
    def client_id(self):
        """Gets the client_id of this IntrospectionActiveToken.  # noqa: E501

        The app the token was issued to.  # noqa: E501

        :return: The client_id of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._client_id

    @client_id.setter
    def client_id(self, client_id):
        """Sets the client_id of this IntrospectionActiveToken.

        The app the token was issued to.  # noqa: E501

        :param client_id: The client_id of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and client_id is None:  # noqa: E501
            raise ValueError("Invalid value for `client_id`, must not be `None`")  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                client_id is not None and not re.search(r'^cli_[0-9A-Za-z]{24}$', client_id)):  # noqa: E501
            raise ValueError(r"Invalid value for `client_id`, must be a follow pattern or equal to `/^cli_[0-9A-Za-z]{24}$/`")  # noqa: E501

        self._client_id = client_id

    @property
    def username(self):
        """Gets the username of this IntrospectionActiveToken.  # noqa: E501

        The email of the user who authorized the app. Absent for client-credentials tokens (no user is involved).   # noqa: E501

        :return: The username of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._username

    @username.setter
    def username(self, username):
        """Sets the username of this IntrospectionActiveToken.

        The email of the user who authorized the app. Absent for client-credentials tokens (no user is involved).   # noqa: E501

        :param username: The username of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """

        self._username = username

    @property
    def token_type(self):
        """Gets the token_type of this IntrospectionActiveToken.  # noqa: E501

        `Bearer` for access tokens; absent for refresh tokens.  # noqa: E501

        :return: The token_type of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._token_type

    @token_type.setter
    def token_type(self, token_type):
        """Sets the token_type of this IntrospectionActiveToken.

        `Bearer` for access tokens; absent for refresh tokens.  # noqa: E501

        :param token_type: The token_type of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        allowed_values = ["Bearer"]  # noqa: E501
        if self.local_vars_configuration.client_side_validation and token_type not in allowed_values:  # noqa: E501
            raise ValueError(
                "Invalid value for `token_type` ({0}), must be one of {1}"  # noqa: E501
                .format(token_type, allowed_values)
            )

        self._token_type = token_type

    @property
    def exp(self):
        """Gets the exp of this IntrospectionActiveToken.  # noqa: E501

        When the token expires, in Unix seconds.  # noqa: E501

        :return: The exp of this IntrospectionActiveToken.  # noqa: E501
        :rtype: int
        """
        return self._exp

    @exp.setter
    def exp(self, exp):
        """Sets the exp of this IntrospectionActiveToken.

        When the token expires, in Unix seconds.  # noqa: E501

        :param exp: The exp of this IntrospectionActiveToken.  # noqa: E501
        :type: int
        """
        if self.local_vars_configuration.client_side_validation and exp is None:  # noqa: E501
            raise ValueError("Invalid value for `exp`, must not be `None`")  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                exp is not None and exp < 0):  # noqa: E501
            raise ValueError("Invalid value for `exp`, must be a value greater than or equal to `0`")  # noqa: E501

        self._exp = exp

    @property
    def iat(self):
        """Gets the iat of this IntrospectionActiveToken.  # noqa: E501

        When the token was issued, in Unix seconds.  # noqa: E501

        :return: The iat of this IntrospectionActiveToken.  # noqa: E501
        :rtype: int
        """
        return self._iat

    @iat.setter
    def iat(self, iat):
        """Sets the iat of this IntrospectionActiveToken.

        When the token was issued, in Unix seconds.  # noqa: E501

        :param iat: The iat of this IntrospectionActiveToken.  # noqa: E501
        :type: int
        """
        if self.local_vars_configuration.client_side_validation and iat is None:  # noqa: E501
            raise ValueError("Invalid value for `iat`, must not be `None`")  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                iat is not None and iat < 0):  # noqa: E501
            raise ValueError("Invalid value for `iat`, must be a value greater than or equal to `0`")  # noqa: E501

        self._iat = iat

    @property
    def nbf(self):
        """Gets the nbf of this IntrospectionActiveToken.  # noqa: E501

        Before this time (Unix seconds) the token is not valid.  # noqa: E501

        :return: The nbf of this IntrospectionActiveToken.  # noqa: E501
        :rtype: int
        """
        return self._nbf

    @nbf.setter
    def nbf(self, nbf):
        """Sets the nbf of this IntrospectionActiveToken.

        Before this time (Unix seconds) the token is not valid.  # noqa: E501

        :param nbf: The nbf of this IntrospectionActiveToken.  # noqa: E501
        :type: int
        """
        if self.local_vars_configuration.client_side_validation and nbf is None:  # noqa: E501
            raise ValueError("Invalid value for `nbf`, must not be `None`")  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                nbf is not None and nbf < 0):  # noqa: E501
            raise ValueError("Invalid value for `nbf`, must be a value greater than or equal to `0`")  # noqa: E501

        self._nbf = nbf

    @property
    def sub(self):
        """Gets the sub of this IntrospectionActiveToken.  # noqa: E501

        Who the token acts for: the user's id (`usr_...`), or the app's `client_id` for client-credentials tokens.   # noqa: E501

        :return: The sub of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._sub

    @sub.setter
    def sub(self, sub):
        """Sets the sub of this IntrospectionActiveToken.

        Who the token acts for: the user's id (`usr_...`), or the app's `client_id` for client-credentials tokens.   # noqa: E501

        :param sub: The sub of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and sub is None:  # noqa: E501
            raise ValueError("Invalid value for `sub`, must not be `None`")  # noqa: E501

        self._sub = sub

    @property
    def aud(self):
        """Gets the aud of this IntrospectionActiveToken.  # noqa: E501

        The audience the token is valid for, the AetherFlow API.  # noqa: E501

        :return: The aud of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._aud

    @aud.setter
    def aud(self, aud):
        """Sets the aud of this IntrospectionActiveToken.

        The audience the token is valid for, the AetherFlow API.  # noqa: E501

        :param aud: The aud of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and aud is None:  # noqa: E501
            raise ValueError("Invalid value for `aud`, must not be `None`")  # noqa: E501

        self._aud = aud

    @property
    def iss(self):
        """Gets the iss of this IntrospectionActiveToken.  # noqa: E501

        The issuer, as in the authorization server metadata.  # noqa: E501

        :return: The iss of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._iss

    @iss.setter
    def iss(self, iss):
        """Sets the iss of this IntrospectionActiveToken.

        The issuer, as in the authorization server metadata.  # noqa: E501

        :param iss: The iss of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and iss is None:  # noqa: E501
            raise ValueError("Invalid value for `iss`, must not be `None`")  # noqa: E501

        self._iss = iss

    @property
    def jti(self):
        """Gets the jti of this IntrospectionActiveToken.  # noqa: E501

        The token's unique id, as found in the audit log.  # noqa: E501

        :return: The jti of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._jti

    @jti.setter
    def jti(self, jti):
        """Sets the jti of this IntrospectionActiveToken.

        The token's unique id, as found in the audit log.  # noqa: E501

        :param jti: The jti of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and jti is None:  # noqa: E501
            raise ValueError("Invalid value for `jti`, must not be `None`")  # noqa: E501

        self._jti = jti

    @property
    def project_id(self):
        """Gets the project_id of this IntrospectionActiveToken.  # noqa: E501

        The project the token acts on (AetherFlow extension).  # noqa: E501

        :return: The project_id of this IntrospectionActiveToken.  # noqa: E501
        :rtype: str
        """
        return self._project_id

    @project_id.setter
    def project_id(self, project_id):
        """Sets the project_id of this IntrospectionActiveToken.

        The project the token acts on (AetherFlow extension).  # noqa: E501

        :param project_id: The project_id of this IntrospectionActiveToken.  # noqa: E501
        :type: str
        """
        if self.local_vars_configuration.client_side_validation and project_id is None:  # noqa: E501
            raise ValueError("Invalid value for `project_id`, must not be `None`")  # noqa: E501
        if (self.local_vars_configuration.client_side_validation and
                project_id is not None and not re.search(r'^proj_[0-9A-Za-z]{24}$', project_id)):  # noqa: E501
            raise ValueError(r"Invalid value for `project_id`, must be a follow pattern or equal to `/^proj_[0-9A-Za-z]{24}$/`")  # noqa: E501

        self._project_id = project_id

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
        if not isinstance(other, IntrospectionActiveToken):
            return False

        return self.to_dict() == other.to_dict()

    def __ne__(self, other):
        """Returns true if both objects are not equal"""
        if not isinstance(other, IntrospectionActiveToken):
            return True

        return self.to_dict() != other.to_dict()
