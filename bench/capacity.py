"""The capacity model of docs/performance.md, as arithmetic on measured inputs (no Azure call): for a
book of N accounts at a monthly failure rate, the accounts due a day, the RU a day, the instances that
finish a run within 15 minutes, Cosmos serverless against provisioned cost, and the first limit met.

Usage: python -m bench.capacity --ru-per-due 14.6 --cpu-ms-per-due 0.5 [--failure-rate 0.03]
The RU and CPU per due account come from bench.sweep --shards / bench.core; the rest are stated
assumptions (see the table's notes and docs/performance.md).
"""

from __future__ import annotations

import argparse
import math

BOOKS = (100_000, 1_000_000, 10_000_000)
VISITS_PER_EPISODE = 12  # card episode: 8 sweep days to the disable (1,3,5,7,14,21,28,30) + 4 to deletion
BUSY_DAY = 3.0  # failures bunch on the billing days: a busy day against the average
WINDOW_S = 15 * 60  # a run finishes within 15 minutes
INSTANCE_THREADS = 8  # the sweep's workers per shard (one shard per instance at a time)
COSMOS_ROUND_TRIP_S = 0.010  # a point write in-region, with the SDK's overhead (Azure figures: < 10 ms p99)
REQUESTS_PER_DUE = 2  # its replace and the archive chunk (the query page is shared by 100)
SERVERLESS_RU_S = 5_000  # per container up to 250 GB (more with more physical partitions)
SERVERLESS_USD_PER_MILLION_RU = 0.25
AUTOSCALE_USD_PER_100_RU_S_HOUR = 0.012  # billed at the hour's highest, at least 10% of the maximum
NOTICES_PER_DUE = 0.6  # reminders, final notices, disables, receipts per sweep visit (bench.sweep's mix)
EMAIL_PER_MINUTE, EMAIL_PER_HOUR = 30, 100  # ACS defaults for a custom domain (raised on request)


def model(accounts: int, failure_rate: float, ru_per_due: float, cpu_ms: float) -> dict:
    failing_a_month = accounts * failure_rate
    due_average = failing_a_month * VISITS_PER_EPISODE / 30
    due_busy = due_average * BUSY_DAY
    per_instance = min(INSTANCE_THREADS / (REQUESTS_PER_DUE * COSMOS_ROUND_TRIP_S), 1000 / cpu_ms)
    instances = max(1, math.ceil(due_busy / (per_instance * WINDOW_S)))
    ru_day = due_average * ru_per_due
    ru_s_needed = due_busy * ru_per_due / WINDOW_S
    serverless_month = ru_day * 30 / 1e6 * SERVERLESS_USD_PER_MILLION_RU
    # Autoscale sized for the busy run: its maximum for the run's hour, 10% of it the other 23 hours.
    autoscale_max = max(1_000, math.ceil(ru_s_needed / 1_000) * 1_000)
    provisioned_month = autoscale_max / 100 * AUTOSCALE_USD_PER_100_RU_S_HOUR * (1 + 23 * 0.1) * 30
    emails_busy = due_busy * NOTICES_PER_DUE
    limits = []
    if ru_s_needed > SERVERLESS_RU_S:
        limits.append(f"Cosmos serverless {SERVERLESS_RU_S:,} RU/s")
    if emails_busy > min(EMAIL_PER_MINUTE * 60, EMAIL_PER_HOUR) * 24:
        limits.append(f"ACS e-mail {EMAIL_PER_MINUTE}/min, {EMAIL_PER_HOUR}/h")
    return {
        "accounts": accounts,
        "dueAverage": due_average,
        "dueBusy": due_busy,
        "ruDay": ru_day,
        "ruPerSecond": ru_s_needed,
        "perInstance": per_instance,
        "instances": instances,
        "serverlessMonth": serverless_month,
        "provisionedMonth": provisioned_month,
        "autoscaleMax": autoscale_max,
        "emailsBusy": emails_busy,
        "limits": limits or ["none"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.capacity", description=__doc__.splitlines()[0])
    parser.add_argument("--ru-per-due", type=float, required=True)
    parser.add_argument("--cpu-ms-per-due", type=float, required=True)
    parser.add_argument("--failure-rate", type=float, default=0.03)
    args = parser.parse_args()
    print(
        f"inputs: {args.ru_per_due} RU and {args.cpu_ms_per_due} ms CPU per due account, "
        f"{args.failure_rate:.0%} of accounts failing a month, {VISITS_PER_EPISODE} sweep visits an episode, "
        f"busy day = {BUSY_DAY}x average, a run within {WINDOW_S // 60} min"
    )
    print(
        f"{'accounts':>10} {'due/day':>9} {'busy day':>9} {'RU/day':>11} {'RU/s busy':>9} {'instances':>9} "
        f"{'serverless $/mo':>15} {'autoscale $/mo':>14} {'e-mails busy':>12}  first limit"
    )
    for accounts in BOOKS:
        r = model(accounts, args.failure_rate, args.ru_per_due, args.cpu_ms_per_due)
        print(
            f"{accounts:>10,} {r['dueAverage']:>9,.0f} {r['dueBusy']:>9,.0f} {r['ruDay']:>11,.0f} "
            f"{r['ruPerSecond']:>9,.0f} {r['instances']:>9} {r['serverlessMonth']:>15,.2f} "
            f"{r['provisionedMonth']:>14,.2f} {r['emailsBusy']:>12,.0f}  {', '.join(r['limits'])}"
        )
    print(
        f"per instance: {model(1, 0, args.ru_per_due, args.cpu_ms_per_due)['perInstance']:.0f} due accounts/s "
        f"(the lesser of {INSTANCE_THREADS} threads over {REQUESTS_PER_DUE} round trips of "
        f"{COSMOS_ROUND_TRIP_S * 1000:.0f} ms, and one core at the CPU per due account)"
    )


if __name__ == "__main__":
    main()
