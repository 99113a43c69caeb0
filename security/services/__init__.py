"""Every write of the security app: social accounts, publishing rights,
training records, custody, credentials, reveals, offboarding.

Each service checks the actor's permission, changes what it must inside one
transaction, and writes the audit event there too. Pages, API and commands
all call these.

Split by domain; import from here: ``from security import services``.
"""

from .custody import (  # noqa: F401
    break_glass,
    credential_for_connector,
    credential_set,
    custodian_add,
    custodian_remove,
    reveal_perform,
    reveal_request_cancel,
    reveal_request_create,
    reveal_request_decide,
    rotate_vault_keys,
    totp_device_confirm,
    totp_device_pending,
)
from .offboarding import offboard_user, session_remember  # noqa: F401
from .rights import (  # noqa: F401
    account_create,
    account_retire,
    account_update,
    grant_create,
    grant_revoke,
    training_record_create,
)
