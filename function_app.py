"""The function app: registers each function's blueprint, nothing else (see functions/)."""

import azure.functions as func

from functions.admin_contact import bp as admin_contact
from functions.charge_failed import bp as charge_failed
from functions.daily_sweep import bp as daily_sweep
from functions.email_events import bp as email_events
from functions.get_account import bp as get_account
from functions.health import bp as health
from functions.history import bp as history
from functions.my_accounts import bp as my_accounts
from functions.payment_confirmations import bp as payment_confirmations
from functions.payment_received import bp as payment_received
from functions.payment_setup import bp as payment_setup
from functions.put_account import bp as put_account
from functions.put_subscription import bp as put_subscription
from functions.reactivate import bp as reactivate
from functions.send_notices import bp as send_notices
from functions.stripe_events import bp as stripe_events
from functions.support import bp as support
from functions.sweep_shard import bp as sweep_shard
from functions.transfer_admin import bp as transfer_admin
from functions.update_payment import bp as update_payment

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health,
    put_account,
    put_subscription,
    charge_failed,
    payment_received,
    get_account,
    update_payment,
    reactivate,
    admin_contact,
    history,
    transfer_admin,
    daily_sweep,
    sweep_shard,
    send_notices,
    email_events,
    payment_setup,
    payment_confirmations,
    stripe_events,
    my_accounts,
    support,
):
    app.register_functions(blueprint)
