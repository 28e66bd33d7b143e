"""``GET /metrics``: the transparency log's health as Prometheus gauges, parsed with prometheus_client's own
text parser: tree size, checkpoint size and age, and each witness's lag and failure."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ..conftest import MakeToken
from .conftest import Log
from .witness import SpecWitness


def _gauges(log: Log) -> dict[tuple[str, str], float]:
    response = log.client.get("/metrics", headers=log.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, sample.labels.get("witness", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_the_tree_the_checkpoint_and_the_witness_are_measured(log: Log, witness: SpecWitness) -> None:
    log.write(3)
    before = _gauges(log)
    size = log.size()
    assert before[("registrar_tlog_tree_size", "")] == size
    assert before[("registrar_tlog_checkpoint_size", "")] == 0
    log.checkpoint()
    after = _gauges(log)
    assert after[("registrar_tlog_checkpoint_size", "")] == size
    assert 0 <= after[("registrar_tlog_checkpoint_age_seconds", "")] < 60
    assert after[("registrar_tlog_witness_lag_entries", witness.name)] == 0
    assert after[("registrar_tlog_witness_failing", witness.name)] == 0
    log.write(2)
    log.checkpoint()
    assert _gauges(log)[("registrar_tlog_witness_lag_entries", witness.name)] == 0


def test_a_witness_that_is_down_shows_as_failing_and_behind(log: Log, witness: SpecWitness) -> None:
    log.write(1)
    log.checkpoint()
    witness.stop()
    log.write(2)
    log.checkpoint()
    gauges = _gauges(log)
    assert gauges[("registrar_tlog_witness_failing", witness.name)] == 1
    assert gauges[("registrar_tlog_witness_lag_entries", witness.name)] == 2


def test_metrics_need_a_token_that_reads_the_log(log: Log, make_token: MakeToken) -> None:
    assert log.client.get("/metrics").status_code == 401
    other = make_token("okta.resourceServers.apiServers.read", email="ops@example.com")
    assert log.client.get("/metrics", headers={"Authorization": f"Bearer {other}"}).status_code == 403
