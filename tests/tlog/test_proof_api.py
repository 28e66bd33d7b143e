"""``GET /api/v1/logs/tlog/proof?uuid=…``: a c2sp.org/tlog-proof that the independent verifier accepts
offline, for the latest (cosigned) checkpoint; an event no checkpoint covers yet, or a bad uuid, is a 4xx."""

from __future__ import annotations

import orjson
import pytest

from ..conftest import MakeToken
from . import independent
from .conftest import Log
from .witness import SpecWitness

PROOF = "/api/v1/logs/tlog/proof"


def _events(log: Log) -> list[bytes]:
    served = log.client.get("/api/v1/logs", params={"limit": 1000, "since": "2000-01-01"}, headers=log.auth)
    return [orjson.dumps(e) for e in served.json()]  # compact, as stored (checked byte for byte below)


def test_every_event_has_a_proof_that_verifies_offline(log: Log, witness: SpecWitness) -> None:
    log.write(7)
    assert log.checkpoint() is not None
    bundle = log.client.get("/api/v1/logs/tlog/tile/entries/000.p/7", headers=log.auth).content
    bodies = independent.parse_bundle(bundle)
    assert bodies == _events(log)
    for index, body in enumerate(bodies):
        uuid = orjson.loads(body)["uuid"]
        response = log.client.get(PROOF, params={"uuid": uuid}, headers=log.auth)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        checkpoint = independent.verify_proof(response.content, body, log.vkey, witnesses=[witness.vkey])
        assert checkpoint.size == 7
        assert independent.parse_proof(response.content).index == index
        # Another event's bytes are not included at this index.
        other = bodies[(index + 1) % len(bodies)]
        with pytest.raises(independent.VerificationError) as refused:
            independent.verify_proof(response.content, other, log.vkey)
        assert refused.value.what == "inclusion"


def test_an_event_no_checkpoint_covers_yet_is_not_found(log: Log) -> None:
    log.write(2)
    log.checkpoint()
    log.write(1)
    newest = orjson.loads(_events(log)[-1])["uuid"]
    response = log.client.get(PROOF, params={"uuid": newest}, headers=log.auth)
    assert response.status_code == 404
    assert "not yet covered by a checkpoint" in response.json()["errorSummary"]
    log.checkpoint()
    assert log.client.get(PROOF, params={"uuid": newest}, headers=log.auth).status_code == 200


def test_bad_or_unknown_uuids_and_missing_scopes(log: Log, make_token: MakeToken) -> None:
    log.write(1)
    log.checkpoint()
    for params, status in [
        ({}, 400),
        ({"uuid": "not-a-uuid"}, 400),
        ({"uuid": "00000000-0000-4000-8000-00000000000\x00"}, 400),
        ({"uuid": "00000000-0000-4000-8000-000000000000"}, 404),
    ]:
        response = log.client.get(PROOF, params=params, headers=log.auth)
        assert response.status_code == status, params
        assert response.json()["errorCode"] == ("E0000001" if status == 400 else "E0000007")
    uuid = orjson.loads(_events(log)[0])["uuid"]
    assert log.client.get(PROOF, params={"uuid": uuid}).status_code == 401
    other = make_token("okta.eventHooks.read")
    denied = log.client.get(PROOF, params={"uuid": uuid}, headers={"Authorization": f"SSWS {other}"})
    assert denied.status_code == 403
