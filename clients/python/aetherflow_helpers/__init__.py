"""Hand-written helpers for the generated AetherFlow client (package `aetherflow`).

openapi-generator writes `aetherflow`; it gives no pagination, retries only what
urllib3 retries on its own, and leaves the error envelope as JSON text in an
ApiException. These fill the gaps:

    from aetherflow_helpers import error_of, paginate, with_retries

This package is not generated: `npm run clients` keeps it as it is.
"""
from aetherflow_helpers.errors import error_of
from aetherflow_helpers.pagination import pages, paginate
from aetherflow_helpers.retry import RetryingRESTClient, with_retries

__all__ = ["error_of", "pages", "paginate", "RetryingRESTClient", "with_retries"]
