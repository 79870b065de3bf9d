"""Reads a Prometheus text exposition on stdin with the Prometheus project's own parser
(prometheus_client), and prints its samples as JSON: [{"name", "labels", "value"}, ...].
A document the parser refuses exits non-zero with its error (tests/tests/metrics.rs)."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"name": sample.name, "type": family.type, "labels": sample.labels, "value": sample.value})
json.dump(samples, sys.stdout)
