#!/usr/bin/env python3
"""Compare an Autobahn|Testsuite report with the expected outcome of every case.

usage: autobahn_check.py REPORT_DIR AGENT EXPECTED_FILE

EXPECTED_FILE has one case per line: `CASE BEHAVIOR BEHAVIOR_CLOSE`, optionally
followed by `# why`. A case that does worse than expected (a missing case,
or any result other than the expected one) fails the check, so a regression
can never land quietly. A case that does *better* than expected is reported
too, so the file can be tightened.
"""
import json
import sys

report_dir, agent, expected_file = sys.argv[1:4]
with open(f"{report_dir}/index.json") as f:
    report = json.load(f)
if agent not in report:
    sys.exit(f"autobahn-check: agent {agent!r} not in the report (agents: {list(report)})")
results = report[agent]

expected = {}
with open(expected_file) as f:
    for line in f:
        line = line.split("#", 1)[0].strip()
        if line:
            case, behavior, behavior_close = line.split()
            expected[case] = (behavior, behavior_close)

worse, better = [], []
for case, (behavior, behavior_close) in sorted(expected.items()):
    got = results.get(case)
    if got is None:
        worse.append(f"{case}: missing (expected {behavior}/{behavior_close})")
        continue
    actual = (got["behavior"], got["behaviorClose"])
    if actual != (behavior, behavior_close):
        line = f"{case}: {actual[0]}/{actual[1]} (expected {behavior}/{behavior_close})"
        (better if actual == ("OK", "OK") else worse).append(line)
unexpected = sorted(set(results) - set(expected))

print(f"autobahn-check ({agent}): {len(expected)} cases expected, "
      f"{len(worse)} worse, {len(better)} better, {len(unexpected)} not listed")
for line in worse:
    print("  WORSE  " + line)
for line in better:
    print("  better " + line)
for case in unexpected:
    print(f"  not listed: {case}")
sys.exit(1 if worse or unexpected else 0)
