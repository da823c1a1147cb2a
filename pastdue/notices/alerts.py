"""Portal alerts, derived from the account's state and worded in the admin's language."""

from __future__ import annotations

from pastdue.domain.codec import dump
from pastdue.domain.model import DISABLED, INVOICE, PAST_DUE, Account
from pastdue.notices.formatting import date, language, money

MESSAGES = {
    "en": {
        "pastDue": "We couldn't charge your payment method for {name}. {amount} is past due. "
                   "To avoid service interruption, update your payment information.",
        "pastDueInvoice": "Invoice payment of {amount} for {name} is overdue. Send a bank transfer to "
                          "IBAN {iban} (BIC {bic}) with the reference {reference}.",
        "cardRefused": "Your card was declined ({reason}) and will not be retried. Add a new payment method.",
        "confirmPayment": "Your bank asks you to confirm the payment of {amount} for {name}. Confirm it to "
                          "avoid service interruption.",
        "disabled": "{name} is disabled: service cancelled and resources unavailable. Pay {amount} to "
                    "reactivate it. Its data will be deleted on {date}.",
        "paidDisabled": "{name} is paid but still disabled. Reactivate it to restore the service.",
        "emailUndeliverable": "Notices to {email} could not be delivered. Verify the e-mail address "
                              "of the account admin profile.",
    },
    "fr": {
        "pastDue": "Nous n'avons pas pu débiter votre moyen de paiement pour {name}. {amount} est en "
                   "retard. Pour éviter une interruption de service, mettez à jour vos informations de paiement.",
        "pastDueInvoice": "Le paiement de la facture de {amount} pour {name} est en retard. Envoyez un "
                          "virement à l'IBAN {iban} (BIC {bic}) avec la référence {reference}.",
        "cardRefused": "Votre carte a été refusée ({reason}) et ne sera pas débitée à nouveau. "
                       "Ajoutez un nouveau moyen de paiement.",
        "confirmPayment": "Votre banque vous demande de confirmer le paiement de {amount} pour {name}. "
                          "Confirmez-le pour éviter une interruption de service.",
        "disabled": "{name} est désactivé : service résilié et ressources indisponibles. Payez {amount} "
                    "pour le réactiver. Ses données seront supprimées le {date}.",
        "paidDisabled": "{name} est payé mais toujours désactivé. Réactivez-le pour rétablir le service.",
        "emailUndeliverable": "Les avis envoyés à {email} n'ont pas pu être remis. Vérifiez l'adresse "
                              "e-mail du profil administrateur du compte.",
    },
}


def alerts(account: Account) -> list[dict]:
    tag = account.admin.locale
    words = MESSAGES[language(tag)]
    found = []

    def add(kind: str, severity: str, subscription_id: str | None = None, chargeId: str | None = None,  # noqa: N803
            **values):
        item = {"kind": kind, "severity": severity, "message": words[kind].format(**values)}
        if subscription_id:
            item["subscriptionId"] = subscription_id
        if chargeId:
            item["chargeId"] = chargeId
        found.append(item)

    if account.admin.email_undeliverable:
        add("emailUndeliverable", "warning", email=account.admin.email)
    remit = dump(account.remittance) if account.remittance else {"iban": "-", "bic": "-", "reference": "-"}
    for sub in account.subscriptions.values():
        owed = dump(account.balance(sub.subscription_id))
        name, amount = sub.display_name, money(owed, tag)
        if sub.state == PAST_DUE and account.payment_mode == INVOICE:
            add("pastDueInvoice", "error", sub.subscription_id, name=name, amount=amount, **remit)
        elif sub.state == PAST_DUE:
            add("pastDue", "error", sub.subscription_id, name=name, amount=amount)
        elif sub.state == DISABLED and owed["value"] > 0:
            add("disabled", "critical", sub.subscription_id, name=name, amount=amount,
                date=date(sub.deletion_scheduled_at, tag))
        elif sub.state == DISABLED:
            add("paidDisabled", "warning", sub.subscription_id, name=name)
    for charge in account.open_charges():
        if charge.awaiting_action is not None and account.payment_mode != INVOICE:
            sub = account.subscriptions.get(charge.subscription_id)
            add("confirmPayment", "error", charge.subscription_id, chargeId=charge.charge_id,
                name=sub.display_name if sub else charge.subscription_id, amount=money(dump(charge.outstanding), tag))
    refused = next((c for c in account.open_charges() if c.hard), None)
    if refused is not None and account.payment_mode != INVOICE:
        from pastdue.notices.reasons import category
        from pastdue.notices.render import catalog

        reason = catalog(language(tag))["reasons"][category(refused.decline_code)]
        add("cardRefused", "error", refused.subscription_id, reason=reason)
    return found
