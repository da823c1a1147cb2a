import pytest

from pastdue.bootstrap import load_policy
from pastdue.domain.policy import Calendar, Policy, PolicyError
from pastdue.settings import DEFAULT_POLICY


def test_the_shipped_policy_has_the_documented_defaults():
    policy = load_policy(DEFAULT_POLICY)
    assert policy.default == Calendar((1, 3, 5, 7, 14, 21), (3, 7, 14, 21), 28, 30, 90, (1, 7, 30))
    assert policy.for_plan("enterprise").disable_day == 45
    assert policy.for_plan("enterprise").retry_days == (1, 3, 5, 7, 14, 21)  # inherited
    assert policy.for_plan("unknown") == policy.default
    assert policy.is_hard("expired_card") and not policy.is_hard("insufficient_funds")


@pytest.mark.parametrize(
    "doc, field",
    [
        ({"default": {"disableDay": 0}}, "default.disableDay"),
        ({"default": {"retryDays": [1, 1]}}, "default.retryDays"),
        ({"default": {"finalNoticeDay": 31}}, "default.finalNoticeDay"),
        ({"plans": {"gold": {"reminderDays": [40]}}}, "plans.gold"),
        ({"plans": {"gold": {"nope": 1}}}, "plans.gold: unknown field(s) nope"),
        ({"default": {"deletionWarningDays": [90]}}, "default.deletionWarningDays"),
        ({"extra": 1}, "unknown policy field(s): extra"),
        ({"hardDeclineCodes": "expired_card"}, "hardDeclineCodes"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_field(doc, field):
    with pytest.raises(PolicyError, match=field.replace("(", r"\(").replace(")", r"\)")):
        Policy.from_document(doc)
