"""The operator's anonymizer list, and files that reload when they change."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import pytest

from registrar.context.anonymizers import load_anonymizers
from registrar.context.geo import open_mmdb
from registrar.context.watched import WatchedFile


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_list_format(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "tor-exits.txt"
    path.write_text(
        "# Tor exit nodes\n185.220.101.1\n\n185.220.102.0/24  # a whole range\nnot-an-ip\n2a0b:f4c2::/40\n"
    )
    with caplog.at_level(logging.WARNING):
        listed = load_anonymizers(path)
    assert _ip("185.220.101.1") in listed
    assert _ip("185.220.102.77") in listed
    assert _ip("2a0b:f4c2:2::1") in listed
    assert _ip("185.220.101.2") not in listed
    assert "skipped 1 line(s)" in caplog.text and "line 5" in caplog.text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _touch_later(path: Path) -> None:
    # Filesystems with coarse timestamps: make the change visible whatever the clock resolution.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_list_is_reloaded_when_it_changes_and_checked_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "anonymizers.txt"
    path.write_text("203.0.113.7\n")
    clock = Clock()
    watched = WatchedFile(path, load_anonymizers, check_interval=5.0, clock=clock)
    assert _ip("203.0.113.7") in watched.get()

    path.write_text("203.0.113.7\n198.51.100.0/24\n")
    _touch_later(path)
    assert _ip("198.51.100.9") not in watched.get()  # not checked again before the interval is up
    clock.now = 5.0
    assert _ip("198.51.100.9") in watched.get()
    assert watched.generation == 1

    clock.now = 10.0
    assert _ip("198.51.100.9") in watched.get()
    assert watched.generation == 1  # unchanged file: not reloaded


def test_a_vanished_or_broken_file_keeps_the_last_good_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from .mmdb import write_mmdb

    path = write_mmdb(
        tmp_path / "asn.mmdb", "GeoLite2-ASN", {"8.8.8.0/24": {"autonomous_system_number": 15169}}
    )
    watched = WatchedFile(path, open_mmdb, check_interval=0)
    path.write_bytes(b"this is not a MaxMind database")
    with caplog.at_level(logging.WARNING):
        assert watched.get().get("8.8.8.8") == {"autonomous_system_number": 15169}
    assert "keeping the copy loaded before" in caplog.text
    path.unlink()
    assert watched.get().get("8.8.8.8") == {"autonomous_system_number": 15169}


def test_a_missing_file_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WatchedFile(tmp_path / "absent.txt", load_anonymizers)
