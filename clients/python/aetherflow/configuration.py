# coding: utf-8

"""
    AetherFlow Workflows API

    The AetherFlow Workflows API lets you define workflows, run them, watch their runs, store the third-party credentials they use, and feed them events. It is a JSON API over HTTPS: every request and every response is described by this document, and the server checks itself against it.  # Conventions  - **Base URL** `https://api.aetherflow.com`. Resource endpoints live under `/v1`;   the OAuth 2.0 protocol endpoints (`/oauth/...`, `/.well-known/...`) and `/health`   are outside it. - **HTTPS only.** A plain-HTTP request to `/v1` or `/oauth` is refused with   `403 https_required` (loopback is allowed in local development); `/health`   and `/.well-known/*` carry no credentials and answer either. Every response carries   `Strict-Transport-Security` and an `X-Request-Id` that you should quote when   you contact support. - **Envelope.** A successful `/v1` response is `{\"success\": true, \"data\": ...}`;   lists add `next_cursor`. Every `/v1` error is   `{\"success\": false, \"error\": {type, code, message, status, request_id, doc_url}}`. - **Pagination.** Lists take `limit` (1-100, default 20) and `cursor`; pass the   `next_cursor` of one page as the `cursor` of the next. `next_cursor` is `null`   on the last page. Cursors are opaque: do not build or edit them. - **Idempotency.** Every `POST` that creates or runs something accepts an   `Idempotency-Key` header (any unique string up to 255 characters, a UUID is   ideal). A retry with the same key and the same body returns the first   response (marked `Idempotent-Replayed: true`) and never runs the operation   twice; the same key with a different body is refused with   `409 idempotency_conflict`. Keys are remembered for 24 hours. - **Timestamps** are RFC 3339 strings in UTC. Identifiers carry a type prefix   (`wf_`, `run_`, `conn_`, `evt_`, `key_`, `aud_`, `cli_`). - **Limits on every request**, beyond each operation's schema: a body of at   most 1 MiB by default (`413 payload_too_large`); request headers of at most   16 KB, JSON nested at most 64 levels deep, no NUL character (U+0000) in any   path, query or body text, only finite numbers, and `Authorization`,   `X-API-Key`, `Host`, `Content-Type` and `Idempotency-Key` each sent at most   once (each `400 validation_failed`, with `details` naming the place).  # Authentication  Every `/v1` operation except login, refresh, leaked-key reporting and `/health` needs a credential. Three kinds are accepted, and every operation lists the scopes it needs under each scheme.  ## API keys  Send the key as `Authorization: Bearer <key>` (preferred) or `X-API-Key: <key>`.  ```bash curl https://api.aetherflow.com/v1/workflows \\   -H \"Authorization: Bearer sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX\" ```  A key reads `{type}_{env}_{32 base62 characters}{6-character checksum}`:  | prefix | kind | may hold | use it | |---|---|---|---| | `sk_` | secret | any scope its creator holds | on your servers only | | `rk_` | read-only | `*:read` scopes only | dashboards, reporting | | `ck_` | client | `events:write` only | safe to ship inside apps and web pages |  `env` is `live` or `test`. Keys belong to one project and reach every resource in it and nothing outside it; `test` keys see only the project's sandbox data and `live` keys only its live data. The checksum is the CRC-32 of everything before it (`sk_test_` plus the 32 random characters), written in base62 and left-padded with `0` to 6 characters, so the server and secret scanners can reject a mistyped or invented key without a database lookup.  The secret is shown **once**, when the key is created or rotated; AetherFlow keeps only a keyed hash, a display prefix and the last four characters. Keys may carry an expiry (`expires_at`) and an IP allowlist (`allowed_ips`, CIDR). Revocation takes effect on the next request. Rotation issues a new secret and keeps the old one working for a grace period (24 hours by default); responses to the old secret meanwhile carry `X-Key-Expires-At`.  Legacy keys (`wfk_` followed by 32 characters) still authenticate through `X-API-Key` only; their responses carry a `Deprecation` header. Replace them with `sk_` keys.  If you find a leaked key, report it to `POST /v1/credentials/revoke` (no authentication needed): it is revoked at once.  ## JWT access tokens  `POST /v1/auth/login` exchanges an email and password for an access token (a JWT valid for 1 hour) and a refresh token. Send the access token as `Authorization: Bearer <jwt>`. Tokens are signed with ES256 or EdDSA; the header names the signing key (`kid`), and the public keys are published at `/.well-known/jwks.json`. Claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `scope` and `project_id`. `POST /v1/auth/refresh` trades a refresh token for a new pair; each refresh token works once, and presenting a used one revokes every token descended from the same login.  ## OAuth 2.0  Third-party apps use the authorization code flow with PKCE (S256; required for public clients) or, for their own resources, the client credentials grant. Register an app with `POST /v1/oauth/clients`, send the user to `/oauth/authorize`, exchange the code at `/oauth/token` and call `/v1` with the access token. Redirect URIs must match a registered one exactly, `state` is returned verbatim, codes are single-use and live 10 minutes. The token endpoint accepts form-encoded (RFC 6749) and JSON bodies and client authentication by `client_secret_basic` or `client_secret_post`. Revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414) are supported.  ## Scopes  | scope | grants | |---|---| | `workflows:read` | list and read workflows | | `workflows:write` | create, replace and delete workflows | | `workflows:execute` | run workflows; cancel and retry runs | | `runs:read` | list and read runs | | `connections:read` | list and read connections (never their credentials) | | `connections:write` | create and delete connections | | `events:write` | send events that trigger workflows | | `keys:read` | list and read API keys | | `keys:write` | create, rotate and revoke API keys | | `apps:read` | list and read OAuth apps | | `apps:write` | register and delete OAuth apps | | `audit:read` | read the audit log | | `usage:read` | read rate-limit standing and usage | | `read` | every `*:read` scope (kept for older integrations) | | `write` | every `*:write` scope (kept for older integrations) |  A credential without a scope an operation needs is refused with `403 insufficient_scope` and `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"<needed>\"`.  # Rate limits  Every applicable limit counts and the tightest one governs. Windows slide.  | limit applies to | allowance | |---|---| | reads (GET) | 1000 per minute per key or token | | writes (POST, PUT, PATCH, DELETE) | 100 per minute per key or token | | executions (run, cancel, retry) | 500 per minute per key or token | | event ingestion | 10000 per minute per client IP | | free plan | 60 per minute and 1000 per hour per account | | pro plan | 300 per minute and 10000 per hour per account | | enterprise plan | 1000 per minute and 50000 per hour per account | | API keys | 1000 per hour per key | | OAuth access tokens | 5000 per hour per token's grant | | JWT sessions | 2000 per hour per user |  Every rate-limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds) for the governing limit, and the IETF `RateLimit-Policy` and `RateLimit` fields for all of them. Over a limit the API answers `429 rate_limit_exceeded` with `Retry-After` in seconds: wait that long, then retry. `GET /v1/usage` shows where you stand. Login, refresh, leaked-key reports and failed authentication attempts are also limited per client IP to stop brute force (`429 too_many_attempts`).  # Errors  Every `/v1` error uses one envelope:  ```json {   \"success\": false,   \"error\": {     \"type\": \"authentication_error\",     \"code\": \"invalid_api_key\",     \"message\": \"The API key provided is invalid.\",     \"status\": 401,     \"request_id\": \"req_2R173icKNeCelgpIO3zC485E\",     \"doc_url\": \"https://docs.aetherflow.com/errors#invalid_api_key\"   } } ```  `type` says what kind of problem it is and `code` exactly which one; the full catalogue of codes, their statuses and what to do about each is in the `ErrorCode` schema. Branch on `code`, never on `message`. A 401 always carries `WWW-Authenticate` (RFC 6750). The OAuth protocol endpoints answer errors in RFC 6749's own `{\"error\", \"error_description\"}` form, because OAuth client libraries expect it.   # noqa: E501

    The version of the OpenAPI document: 1.0.0
    Contact: api@aetherflow.com
    Generated by: https://openapi-generator.tech
"""


from __future__ import absolute_import

import copy
import logging
import multiprocessing
import sys
import urllib3

import six
from six.moves import http_client as httplib


class Configuration(object):
    """NOTE: This class is auto generated by OpenAPI Generator

    Ref: https://openapi-generator.tech
    Do not edit the class manually.

    :param host: Base url
    :param api_key: Dict to store API key(s).
      Each entry in the dict specifies an API key.
      The dict key is the name of the security scheme in the OAS specification.
      The dict value is the API key secret.
    :param api_key_prefix: Dict to store API prefix (e.g. Bearer)
      The dict key is the name of the security scheme in the OAS specification.
      The dict value is an API key prefix when generating the auth data.
    :param username: Username for HTTP basic authentication
    :param password: Password for HTTP basic authentication
    :param discard_unknown_keys: Boolean value indicating whether to discard
      unknown properties. A server may send a response that includes additional
      properties that are not known by the client in the following scenarios:
      1. The OpenAPI document is incomplete, i.e. it does not match the server
         implementation.
      2. The client was generated using an older version of the OpenAPI document
         and the server has been upgraded since then.
      If a schema in the OpenAPI document defines the additionalProperties attribute,
      then all undeclared properties received by the server are injected into the
      additional properties map. In that case, there are undeclared properties, and
      nothing to discard.

    :Example:

    API Key Authentication Example.
    Given the following security scheme in the OpenAPI specification:
      components:
        securitySchemes:
          cookieAuth:         # name for the security scheme
            type: apiKey
            in: cookie
            name: JSESSIONID  # cookie name

    You can programmatically set the cookie:

conf = aetherflow.Configuration(
    api_key={'cookieAuth': 'abc123'}
    api_key_prefix={'cookieAuth': 'JSESSIONID'}
)

    The following cookie will be added to the HTTP request:
       Cookie: JSESSIONID abc123
    """

    _default = None

    def __init__(self, host="https://api.aetherflow.com",
                 api_key=None, api_key_prefix=None,
                 username=None, password=None,
                 discard_unknown_keys=False,
                 ):
        """Constructor
        """
        self.host = host
        """Default Base url
        """
        self.temp_folder_path = None
        """Temp file folder for downloading files
        """
        # Authentication Settings
        self.api_key = {}
        if api_key:
            self.api_key = api_key
        """dict to store API key(s)
        """
        self.api_key_prefix = {}
        if api_key_prefix:
            self.api_key_prefix = api_key_prefix
        """dict to store API prefix (e.g. Bearer)
        """
        self.refresh_api_key_hook = None
        """function hook to refresh API key if expired
        """
        self.username = username
        """Username for HTTP basic authentication
        """
        self.password = password
        """Password for HTTP basic authentication
        """
        self.discard_unknown_keys = discard_unknown_keys
        self.access_token = None
        """access token for OAuth/Bearer
        """
        self.logger = {}
        """Logging Settings
        """
        self.logger["package_logger"] = logging.getLogger("aetherflow")
        self.logger["urllib3_logger"] = logging.getLogger("urllib3")
        self.logger_format = '%(asctime)s %(levelname)s %(message)s'
        """Log format
        """
        self.logger_stream_handler = None
        """Log stream handler
        """
        self.logger_file_handler = None
        """Log file handler
        """
        self.logger_file = None
        """Debug file location
        """
        self.debug = False
        """Debug switch
        """

        self.verify_ssl = True
        """SSL/TLS verification
           Set this to false to skip verifying SSL certificate when calling API
           from https server.
        """
        self.ssl_ca_cert = None
        """Set this to customize the certificate file to verify the peer.
        """
        self.cert_file = None
        """client certificate file
        """
        self.key_file = None
        """client key file
        """
        self.assert_hostname = None
        """Set this to True/False to enable/disable SSL hostname verification.
        """

        self.connection_pool_maxsize = multiprocessing.cpu_count() * 5
        """urllib3 connection pool's maximum number of connections saved
           per pool. urllib3 uses 1 connection as default value, but this is
           not the best value when you are making a lot of possibly parallel
           requests to the same host, which is often the case here.
           cpu_count * 5 is used as default value to increase performance.
        """

        self.proxy = None
        """Proxy URL
        """
        self.proxy_headers = None
        """Proxy headers
        """
        self.safe_chars_for_path_param = ''
        """Safe chars for path_param
        """
        self.retries = None
        """Adding retries to override urllib3 default value 3
        """
        # Disable client side validation
        self.client_side_validation = True

    def __deepcopy__(self, memo):
        cls = self.__class__
        result = cls.__new__(cls)
        memo[id(self)] = result
        for k, v in self.__dict__.items():
            if k not in ('logger', 'logger_file_handler'):
                setattr(result, k, copy.deepcopy(v, memo))
        # shallow copy of loggers
        result.logger = copy.copy(self.logger)
        # use setters to configure loggers
        result.logger_file = self.logger_file
        result.debug = self.debug
        return result

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    @classmethod
    def set_default(cls, default):
        """Set default instance of configuration.

        It stores default configuration, which can be
        returned by get_default_copy method.

        :param default: object of Configuration
        """
        cls._default = copy.deepcopy(default)

    @classmethod
    def get_default_copy(cls):
        """Return new instance of configuration.

        This method returns newly created, based on default constructor,
        object of Configuration class or returns a copy of default
        configuration passed by the set_default method.

        :return: The configuration object.
        """
        if cls._default is not None:
            return copy.deepcopy(cls._default)
        return Configuration()

    @property
    def logger_file(self):
        """The logger file.

        If the logger_file is None, then add stream handler and remove file
        handler. Otherwise, add file handler and remove stream handler.

        :param value: The logger_file path.
        :type: str
        """
        return self.__logger_file

    @logger_file.setter
    def logger_file(self, value):
        """The logger file.

        If the logger_file is None, then add stream handler and remove file
        handler. Otherwise, add file handler and remove stream handler.

        :param value: The logger_file path.
        :type: str
        """
        self.__logger_file = value
        if self.__logger_file:
            # If set logging file,
            # then add file handler and remove stream handler.
            self.logger_file_handler = logging.FileHandler(self.__logger_file)
            self.logger_file_handler.setFormatter(self.logger_formatter)
            for _, logger in six.iteritems(self.logger):
                logger.addHandler(self.logger_file_handler)

    @property
    def debug(self):
        """Debug status

        :param value: The debug status, True or False.
        :type: bool
        """
        return self.__debug

    @debug.setter
    def debug(self, value):
        """Debug status

        :param value: The debug status, True or False.
        :type: bool
        """
        self.__debug = value
        if self.__debug:
            # if debug status is True, turn on debug logging
            for _, logger in six.iteritems(self.logger):
                logger.setLevel(logging.DEBUG)
            # turn on httplib debug
            httplib.HTTPConnection.debuglevel = 1
        else:
            # if debug status is False, turn off debug logging,
            # setting log level to default `logging.WARNING`
            for _, logger in six.iteritems(self.logger):
                logger.setLevel(logging.WARNING)
            # turn off httplib debug
            httplib.HTTPConnection.debuglevel = 0

    @property
    def logger_format(self):
        """The logger format.

        The logger_formatter will be updated when sets logger_format.

        :param value: The format string.
        :type: str
        """
        return self.__logger_format

    @logger_format.setter
    def logger_format(self, value):
        """The logger format.

        The logger_formatter will be updated when sets logger_format.

        :param value: The format string.
        :type: str
        """
        self.__logger_format = value
        self.logger_formatter = logging.Formatter(self.__logger_format)

    def get_api_key_with_prefix(self, identifier):
        """Gets API key (with prefix if set).

        :param identifier: The identifier of apiKey.
        :return: The token for api key authentication.
        """
        if self.refresh_api_key_hook is not None:
            self.refresh_api_key_hook(self)
        key = self.api_key.get(identifier)
        if key:
            prefix = self.api_key_prefix.get(identifier)
            if prefix:
                return "%s %s" % (prefix, key)
            else:
                return key

    def get_basic_auth_token(self):
        """Gets HTTP basic authentication header (string).

        :return: The token for basic HTTP authentication.
        """
        username = ""
        if self.username is not None:
            username = self.username
        password = ""
        if self.password is not None:
            password = self.password
        return urllib3.util.make_headers(
            basic_auth=username + ':' + password
        ).get('authorization')

    def auth_settings(self):
        """Gets Auth Settings dict for api client.

        :return: The Auth Settings information dict.
        """
        auth = {}
        if 'X-API-Key' in self.api_key:
            auth['ApiKeyHeader'] = {
                'type': 'api_key',
                'in': 'header',
                'key': 'X-API-Key',
                'value': self.get_api_key_with_prefix('X-API-Key')
            }
        if self.access_token is not None:
            auth['BearerAuth'] = {
                'type': 'bearer',
                'in': 'header',
                'format': 'API key or JWT',
                'key': 'Authorization',
                'value': 'Bearer ' + self.access_token
            }
        if self.access_token is not None:
            auth['OAuth2'] = {
                'type': 'oauth2',
                'in': 'header',
                'key': 'Authorization',
                'value': 'Bearer ' + self.access_token
            }
        return auth

    def to_debug_report(self):
        """Gets the essential information for debugging.

        :return: The report for debugging.
        """
        return "Python SDK Debug Report:\n"\
               "OS: {env}\n"\
               "Python Version: {pyversion}\n"\
               "Version of the API: 1.0.0\n"\
               "SDK Package Version: 1.0.0".\
               format(env=sys.platform, pyversion=sys.version)

    def get_host_settings(self):
        """Gets an array of host settings

        :return: An array of host settings
        """
        return [
            {
                'url': "https://api.aetherflow.com",
                'description': "Production (the key decides between live and sandbox data)",
            },
            {
                'url': "http://localhost:3000",
                'description': "Local development server (`npm start`; plain HTTP is accepted from loopback only)",
            }
        ]

    def get_host_from_settings(self, index, variables=None):
        """Gets host URL based on the index and variables
        :param index: array index of the host settings
        :param variables: hash of variable and the corresponding value
        :return: URL based on host settings
        """
        variables = {} if variables is None else variables
        servers = self.get_host_settings()

        try:
            server = servers[index]
        except IndexError:
            raise ValueError(
                "Invalid index {0} when selecting the host settings. "
                "Must be less than {1}".format(index, len(servers)))

        url = server['url']

        # go through variables and replace placeholders
        for variable_name, variable in server['variables'].items():
            used_value = variables.get(
                variable_name, variable['default_value'])

            if 'enum_values' in variable \
                    and used_value not in variable['enum_values']:
                raise ValueError(
                    "The variable `{0}` in the host URL has invalid value "
                    "{1}. Must be {2}.".format(
                        variable_name, variables[variable_name],
                        variable['enum_values']))

            url = url.replace("{" + variable_name + "}", used_value)

        return url
