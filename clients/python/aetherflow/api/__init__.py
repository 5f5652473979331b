from __future__ import absolute_import

# flake8: noqa

# import apis into api package
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
