"""A real server stopped in the middle of a backlog, then started again: every event still arrives.

Delivery is at least once, so duplicates are allowed, but only within its bounds: a batch the receiver
acknowledged before a clean stop is never sent again, and after a crash only the batch that was in flight
is (with its original ``eventId``).
"""

from __future__ import annotations

from pathlib import Path

from ..live import running_server
from .conftest import hook_body
from .live import api_client, logged_uuids, register, server_env, server_token
from .receiver import Receiver, wait_until

EVENTS = 20


def test_a_stop_in_the_middle_of_a_backlog_loses_nothing(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = server_env(database_url)
    token = server_token(env, tmp_path)
    receiver.default_status = 500  # the receiver is down while the backlog builds up
    with running_server(env, tmp_path) as server, api_client(server.url, token) as api:
        hook = api.post("/api/v1/eventHooks", json=hook_body(f"{receiver.url}/okta")).json()
        assert api.post(f"/api/v1/eventHooks/{hook['id']}/lifecycle/verify").status_code == 200
        register(api, EVENTS)
        expected = logged_uuids(api)
        wait_until(lambda: len(receiver.posts()) >= 3, "the server to retry the refused batch")
        receiver.answer_next(200, 200)  # two batches get through, then the receiver fails again
        wait_until(lambda: len(receiver.accepted()) == 2, "two accepted batches")
        acknowledged = receiver.accepted_uuids()

        def backlog() -> int:
            count: int = api.get(f"/api/v1/eventHooks/{hook['id']}").json()["delivery"]["backlog"]
            return count

        wait_until(lambda: backlog() == EVENTS - len(acknowledged), "the position to be committed")
        assert backlog() > 0  # the stop below happens with events still to deliver
    receiver.default_status = 200
    with running_server(env, tmp_path) as server, api_client(server.url, token) as api:
        wait_until(lambda: set(receiver.accepted_uuids()) >= set(expected), "the rest of the backlog")
        wait_until(lambda: backlog() == 0, "the hook to catch up")
    arrivals = receiver.accepted_uuids()
    assert list(dict.fromkeys(arrivals)) == expected  # all of them, in order of first arrival
    assert all(arrivals.count(uuid) == 1 for uuid in acknowledged)  # nothing acknowledged came again
    for post in receiver.accepted():
        assert len(set(post.uuids)) == len(post.uuids)  # never an event twice within one delivery


def test_a_crash_with_a_batch_in_flight_resends_that_batch(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    env = server_env(database_url)
    token = server_token(env, tmp_path)
    receiver.hold_after = 2  # the third delivery stays at the receiver: it is in flight when the server dies
    with running_server(env, tmp_path) as server, api_client(server.url, token) as api:
        hook = api.post("/api/v1/eventHooks", json=hook_body(f"{receiver.url}/okta")).json()
        assert api.post(f"/api/v1/eventHooks/{hook['id']}/lifecycle/verify").status_code == 200
        register(api, EVENTS)
        expected = logged_uuids(api)
        wait_until(lambda: len(receiver.posts()) == 3, "a delivery in flight")
        server.process.kill()  # no shutdown: the claim on the in-flight batch is left behind
        server.process.wait()
    in_flight = receiver.posts()[2]
    receiver.hold_after = None
    receiver.release.set()
    # The dead worker's lease lapses (2 x 1 s timeout + 1 s), then the new server takes the hook over.
    with running_server(env, tmp_path):
        wait_until(lambda: set(receiver.accepted_uuids()) >= set(expected), "every event after the crash")
    resent = receiver.posts()[3]
    assert resent.payload["eventId"] == in_flight.payload["eventId"]  # the same envelope, again
    assert resent.uuids == in_flight.uuids
    arrivals = receiver.accepted_uuids()
    assert list(dict.fromkeys(arrivals)) == expected
    duplicated = {uuid for uuid in arrivals if arrivals.count(uuid) > 1}
    assert duplicated <= set(in_flight.uuids)  # only the batch in flight at the crash came twice
