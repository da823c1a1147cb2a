import pytest

from pastdue.bootstrap import load_policy
from pastdue.domain.policy import Policy, PolicyError
from pastdue.policy import shipped
from pastdue.settings import DEFAULT_POLICY


def test_the_shipped_policy_has_the_documented_defaults():
    policy = load_policy(DEFAULT_POLICY)
    assert policy is shipped()  # one calendar: what the tests, the gallery and production read
    cal = policy.default
    assert (cal.retry_days, cal.reminder_days, cal.final_notice_day, cal.disable_day) == (
        (1, 3, 5, 7, 14, 21),
        (3, 7, 14, 21),
        28,
        30,
    )
    assert (cal.delete_after_days, cal.deletion_warning_days) == (90, (1, 7, 30))
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
        Policy.from_document(doc, base=shipped())


def test_an_operators_policy_file_is_read_over_the_shipped_one(tmp_path):
    """What the operator's file leaves out is the shipped policy's; without a base, a policy names it all."""
    path = tmp_path / "policy.yaml"
    path.write_text("default:\n  disableDay: 35\nreopenRefunds: true\n", encoding="utf-8")
    policy = load_policy(str(path))
    assert policy.default.disable_day == 35 and policy.default.retry_days == shipped().default.retry_days
    assert policy.reopen_refunds and policy.reopen_lost_disputes == shipped().reopen_lost_disputes
    assert policy.for_plan("enterprise") == shipped().for_plan("enterprise")  # its plans too
    with pytest.raises(PolicyError, match="default: missing field"):
        Policy.from_document({"default": {"disableDay": 35}})
