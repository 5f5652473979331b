# coding: utf-8

# flake8: noqa

"""
    AetherFlow Workflows API

    The AetherFlow Workflows API lets you define workflows, run them, watch their runs, store the third-party credentials they use, and feed them events. It is a JSON API over HTTPS: every request and every response is described by this document, and the server checks itself against it.  # Conventions  - **Base URL** `https://api.aetherflow.com`. Resource endpoints live under `/v1`;   the OAuth 2.0 protocol endpoints (`/oauth/...`, `/.well-known/...`) and `/health`   are outside it. - **HTTPS only.** A plain-HTTP request to `/v1` or `/oauth` is refused with   `403 https_required` (loopback is allowed in local development); `/health`   and `/.well-known/*` carry no credentials and answer either. Every response carries   `Strict-Transport-Security` and an `X-Request-Id` that you should quote when   you contact support. - **Envelope.** A successful `/v1` response is `{\"success\": true, \"data\": ...}`;   lists add `next_cursor`. Every `/v1` error is   `{\"success\": false, \"error\": {type, code, message, status, request_id, doc_url}}`. - **Pagination.** Lists take `limit` (1-100, default 20) and `cursor`; pass the   `next_cursor` of one page as the `cursor` of the next. `next_cursor` is `null`   on the last page. Cursors are opaque: do not build or edit them. - **Idempotency.** Every `POST` that creates or runs something accepts an   `Idempotency-Key` header (any unique string up to 255 characters, a UUID is   ideal). A retry with the same key and the same body returns the first   response (marked `Idempotent-Replayed: true`) and never runs the operation   twice; the same key with a different body is refused with   `409 idempotency_conflict`. Keys are remembered for 24 hours. - **Timestamps** are RFC 3339 strings in UTC. Identifiers carry a type prefix   (`wf_`, `run_`, `conn_`, `evt_`, `key_`, `aud_`, `cli_`). - **Limits on every request**, beyond each operation's schema: a body of at   most 1 MiB by default (`413 payload_too_large`); request headers of at most   16 KB, JSON nested at most 64 levels deep, no NUL character (U+0000) in any   path, query or body text, only finite numbers, and `Authorization`,   `X-API-Key`, `Host`, `Content-Type` and `Idempotency-Key` each sent at most   once (each `400 validation_failed`, with `details` naming the place).  # Authentication  Every `/v1` operation except login, refresh, leaked-key reporting and `/health` needs a credential. Three kinds are accepted, and every operation lists the scopes it needs under each scheme.  ## API keys  Send the key as `Authorization: Bearer <key>` (preferred) or `X-API-Key: <key>`.  ```bash curl https://api.aetherflow.com/v1/workflows \\   -H \"Authorization: Bearer sk_test_00AHj1XS1AlTPn4uRPYtr5vGj3ePqf1n2DEhwX\" ```  A key reads `{type}_{env}_{32 base62 characters}{6-character checksum}`:  | prefix | kind | may hold | use it | |---|---|---|---| | `sk_` | secret | any scope its creator holds | on your servers only | | `rk_` | read-only | `*:read` scopes only | dashboards, reporting | | `ck_` | client | `events:write` only | safe to ship inside apps and web pages |  `env` is `live` or `test`. Keys belong to one project and reach every resource in it and nothing outside it; `test` keys see only the project's sandbox data and `live` keys only its live data. The checksum is the CRC-32 of everything before it (`sk_test_` plus the 32 random characters), written in base62 and left-padded with `0` to 6 characters, so the server and secret scanners can reject a mistyped or invented key without a database lookup.  The secret is shown **once**, when the key is created or rotated; AetherFlow keeps only a keyed hash, a display prefix and the last four characters. Keys may carry an expiry (`expires_at`) and an IP allowlist (`allowed_ips`, CIDR). Revocation takes effect on the next request. Rotation issues a new secret and keeps the old one working for a grace period (24 hours by default); responses to the old secret meanwhile carry `X-Key-Expires-At`.  Legacy keys (`wfk_` followed by 32 characters) still authenticate through `X-API-Key` only; their responses carry a `Deprecation` header. Replace them with `sk_` keys.  If you find a leaked key, report it to `POST /v1/credentials/revoke` (no authentication needed): it is revoked at once.  ## JWT access tokens  `POST /v1/auth/login` exchanges an email and password for an access token (a JWT valid for 1 hour) and a refresh token. Send the access token as `Authorization: Bearer <jwt>`. Tokens are signed with ES256 or EdDSA; the header names the signing key (`kid`), and the public keys are published at `/.well-known/jwks.json`. Claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `scope` and `project_id`. `POST /v1/auth/refresh` trades a refresh token for a new pair; each refresh token works once, and presenting a used one revokes every token descended from the same login.  ## OAuth 2.0  Third-party apps use the authorization code flow with PKCE (S256; required for public clients) or, for their own resources, the client credentials grant. Register an app with `POST /v1/oauth/clients`, send the user to `/oauth/authorize`, exchange the code at `/oauth/token` and call `/v1` with the access token. Redirect URIs must match a registered one exactly, `state` is returned verbatim, codes are single-use and live 10 minutes. The token endpoint accepts form-encoded (RFC 6749) and JSON bodies and client authentication by `client_secret_basic` or `client_secret_post`. Revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414) are supported.  ## Scopes  | scope | grants | |---|---| | `workflows:read` | list and read workflows | | `workflows:write` | create, replace and delete workflows | | `workflows:execute` | run workflows; cancel and retry runs | | `runs:read` | list and read runs | | `connections:read` | list and read connections (never their credentials) | | `connections:write` | create and delete connections | | `events:write` | send events that trigger workflows | | `keys:read` | list and read API keys | | `keys:write` | create, rotate and revoke API keys | | `apps:read` | list and read OAuth apps | | `apps:write` | register and delete OAuth apps | | `audit:read` | read the audit log | | `usage:read` | read rate-limit standing and usage | | `read` | every `*:read` scope (kept for older integrations) | | `write` | every `*:write` scope (kept for older integrations) |  A credential without a scope an operation needs is refused with `403 insufficient_scope` and `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"<needed>\"`.  # Rate limits  Every applicable limit counts and the tightest one governs. Windows slide.  | limit applies to | allowance | |---|---| | reads (GET) | 1000 per minute per key or token | | writes (POST, PUT, PATCH, DELETE) | 100 per minute per key or token | | executions (run, cancel, retry) | 500 per minute per key or token | | event ingestion | 10000 per minute per client IP | | free plan | 60 per minute and 1000 per hour per account | | pro plan | 300 per minute and 10000 per hour per account | | enterprise plan | 1000 per minute and 50000 per hour per account | | API keys | 1000 per hour per key | | OAuth access tokens | 5000 per hour per token's grant | | JWT sessions | 2000 per hour per user |  Every rate-limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds) for the governing limit, and the IETF `RateLimit-Policy` and `RateLimit` fields for all of them. Over a limit the API answers `429 rate_limit_exceeded` with `Retry-After` in seconds: wait that long, then retry. `GET /v1/usage` shows where you stand. Login, refresh, leaked-key reports and failed authentication attempts are also limited per client IP to stop brute force (`429 too_many_attempts`).  # Errors  Every `/v1` error uses one envelope:  ```json {   \"success\": false,   \"error\": {     \"type\": \"authentication_error\",     \"code\": \"invalid_api_key\",     \"message\": \"The API key provided is invalid.\",     \"status\": 401,     \"request_id\": \"req_2R173icKNeCelgpIO3zC485E\",     \"doc_url\": \"https://docs.aetherflow.com/errors#invalid_api_key\"   } } ```  `type` says what kind of problem it is and `code` exactly which one; the full catalogue of codes, their statuses and what to do about each is in the `ErrorCode` schema. Branch on `code`, never on `message`. A 401 always carries `WWW-Authenticate` (RFC 6750). The OAuth protocol endpoints answer errors in RFC 6749's own `{\"error\", \"error_description\"}` form, because OAuth client libraries expect it.   # noqa: E501

    The version of the OpenAPI document: 1.0.0
    Contact: api@aetherflow.com
    Generated by: https://openapi-generator.tech
"""


from __future__ import absolute_import

__version__ = "1.0.0"

# import apis into sdk package
from aetherflow.api.api_keys_api import APIKeysApi
from aetherflow.api.audit_logs_api import AuditLogsApi
from aetherflow.api.connections_api import ConnectionsApi
from aetherflow.api.events_api import EventsApi
from aetherflow.api.health_api import HealthApi
from aetherflow.api.leaked_credentials_api import LeakedCredentialsApi
from aetherflow.api.o_auth_api import OAuthApi
from aetherflow.api.o_auth_apps_api import OAuthAppsApi
from aetherflow.api.runs_api import RunsApi
from aetherflow.api.sessions_api import SessionsApi
from aetherflow.api.usage_api import UsageApi
from aetherflow.api.workflows_api import WorkflowsApi

# import ApiClient
from aetherflow.api_client import ApiClient
from aetherflow.configuration import Configuration
from aetherflow.exceptions import OpenApiException
from aetherflow.exceptions import ApiTypeError
from aetherflow.exceptions import ApiValueError
from aetherflow.exceptions import ApiKeyError
from aetherflow.exceptions import ApiException
# import models into sdk package
from aetherflow.models.api_key import ApiKey
from aetherflow.models.api_key_create import ApiKeyCreate
from aetherflow.models.api_key_envelope import ApiKeyEnvelope
from aetherflow.models.api_key_list_envelope import ApiKeyListEnvelope
from aetherflow.models.api_key_rotate import ApiKeyRotate
from aetherflow.models.api_key_secret_envelope import ApiKeySecretEnvelope
from aetherflow.models.api_key_status import ApiKeyStatus
from aetherflow.models.api_key_type import ApiKeyType
from aetherflow.models.api_key_with_secret import ApiKeyWithSecret
from aetherflow.models.audit_log_action import AuditLogAction
from aetherflow.models.audit_log_actor import AuditLogActor
from aetherflow.models.audit_log_entry import AuditLogEntry
from aetherflow.models.audit_log_list_envelope import AuditLogListEnvelope
from aetherflow.models.audit_log_outcome import AuditLogOutcome
from aetherflow.models.audit_log_resource import AuditLogResource
from aetherflow.models.audit_log_resource_type import AuditLogResourceType
from aetherflow.models.authorization_server_metadata import AuthorizationServerMetadata
from aetherflow.models.connection import Connection
from aetherflow.models.connection_auth_type import ConnectionAuthType
from aetherflow.models.connection_envelope import ConnectionEnvelope
from aetherflow.models.connection_input import ConnectionInput
from aetherflow.models.connection_list_envelope import ConnectionListEnvelope
from aetherflow.models.credential_info import CredentialInfo
from aetherflow.models.credential_info_envelope import CredentialInfoEnvelope
from aetherflow.models.deleted_resource import DeletedResource
from aetherflow.models.deleted_resource_envelope import DeletedResourceEnvelope
from aetherflow.models.environment import Environment
from aetherflow.models.error import Error
from aetherflow.models.error_code import ErrorCode
from aetherflow.models.error_error import ErrorError
from aetherflow.models.error_type import ErrorType
from aetherflow.models.event_input import EventInput
from aetherflow.models.event_receipt import EventReceipt
from aetherflow.models.event_receipt_envelope import EventReceiptEnvelope
from aetherflow.models.health import Health
from aetherflow.models.health_check import HealthCheck
from aetherflow.models.health_checks import HealthChecks
from aetherflow.models.introspection_active_token import IntrospectionActiveToken
from aetherflow.models.introspection_inactive_token import IntrospectionInactiveToken
from aetherflow.models.introspection_request import IntrospectionRequest
from aetherflow.models.introspection_response import IntrospectionResponse
from aetherflow.models.jwk import Jwk
from aetherflow.models.jwk_ec import JwkEc
from aetherflow.models.jwk_okp import JwkOkp
from aetherflow.models.jwks import Jwks
from aetherflow.models.leaked_credential_receipt import LeakedCredentialReceipt
from aetherflow.models.leaked_credential_receipt_envelope import LeakedCredentialReceiptEnvelope
from aetherflow.models.leaked_credential_report import LeakedCredentialReport
from aetherflow.models.login_request import LoginRequest
from aetherflow.models.login_with_email import LoginWithEmail
from aetherflow.models.login_with_username import LoginWithUsername
from aetherflow.models.logout_request import LogoutRequest
from aetherflow.models.logout_result import LogoutResult
from aetherflow.models.logout_result_envelope import LogoutResultEnvelope
from aetherflow.models.o_auth_authorize_form import OAuthAuthorizeForm
from aetherflow.models.o_auth_client import OAuthClient
from aetherflow.models.o_auth_client_auth_method import OAuthClientAuthMethod
from aetherflow.models.o_auth_client_create import OAuthClientCreate
from aetherflow.models.o_auth_client_envelope import OAuthClientEnvelope
from aetherflow.models.o_auth_client_list_envelope import OAuthClientListEnvelope
from aetherflow.models.o_auth_client_type import OAuthClientType
from aetherflow.models.o_auth_client_with_secret import OAuthClientWithSecret
from aetherflow.models.o_auth_client_with_secret_envelope import OAuthClientWithSecretEnvelope
from aetherflow.models.o_auth_error import OAuthError
from aetherflow.models.o_auth_grant_type import OAuthGrantType
from aetherflow.models.rate_limit_policy_standing import RateLimitPolicyStanding
from aetherflow.models.refresh_request import RefreshRequest
from aetherflow.models.run import Run
from aetherflow.models.run_envelope import RunEnvelope
from aetherflow.models.run_error import RunError
from aetherflow.models.run_list_envelope import RunListEnvelope
from aetherflow.models.run_status import RunStatus
from aetherflow.models.run_step_result import RunStepResult
from aetherflow.models.run_step_status import RunStepStatus
from aetherflow.models.run_trigger import RunTrigger
from aetherflow.models.run_workflow_request import RunWorkflowRequest
from aetherflow.models.scope import Scope
from aetherflow.models.session_tokens import SessionTokens
from aetherflow.models.session_tokens_envelope import SessionTokensEnvelope
from aetherflow.models.token_request import TokenRequest
from aetherflow.models.token_response import TokenResponse
from aetherflow.models.token_revocation_request import TokenRevocationRequest
from aetherflow.models.usage import Usage
from aetherflow.models.usage_envelope import UsageEnvelope
from aetherflow.models.usage_principal import UsagePrincipal
from aetherflow.models.validation_issue import ValidationIssue
from aetherflow.models.workflow import Workflow
from aetherflow.models.workflow_envelope import WorkflowEnvelope
from aetherflow.models.workflow_input import WorkflowInput
from aetherflow.models.workflow_list_envelope import WorkflowListEnvelope
from aetherflow.models.workflow_status import WorkflowStatus
from aetherflow.models.workflow_step import WorkflowStep
from aetherflow.models.workflow_step_fail import WorkflowStepFail
from aetherflow.models.workflow_step_log import WorkflowStepLog
from aetherflow.models.workflow_step_set import WorkflowStepSet
from aetherflow.models.workflow_step_type import WorkflowStepType
from aetherflow.models.workflow_step_wait import WorkflowStepWait
from aetherflow.models.workflow_trigger import WorkflowTrigger
from aetherflow.models.workflow_trigger_event import WorkflowTriggerEvent
from aetherflow.models.workflow_trigger_manual import WorkflowTriggerManual

