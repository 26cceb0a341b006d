"""Standing orders (docs/architecture.md "Standing orders"): recurring payments a customer,
or staff on their behalf, sets up; each due date runs once through the payment service.

``orders`` sets them up, pauses, resumes and cancels them; ``queries`` reads them;
``schedule`` is the date arithmetic; ``running`` runs due dates (the periodic job and
``flask vaulta run-standing-orders``); ``failure_mail`` mails customers about failed runs.
"""

from vaulta.services.standing_orders.orders import Schedule, cancel, create, pause, resume
from vaulta.services.standing_orders.running import run_due

__all__ = ["Schedule", "cancel", "create", "pause", "resume", "run_due"]
