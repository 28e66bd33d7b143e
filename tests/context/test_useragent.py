"""User agents in Okta's vocabulary."""

from __future__ import annotations

import pytest

from registrar.context.useragent import UserAgentInfo, parse_user_agent

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0.0.0 Safari/537.36"
)

AGENTS = [
    (MAC_CHROME, "CHROME", "Mac OS X", "Computer"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:72.0) Gecko/20100101 Firefox/72.0",
        "FIREFOX",
        "Mac OS X",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Safari/605.1.15",
        "SAFARI",
        "Mac OS X",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "EDGE",
        "Windows 10",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
        "OPERA",
        "Windows 10",
        "Computer",
    ),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE", "Windows 7", "Computer"),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "FIREFOX",
        "Linux",
        "Computer",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "CHROME",
        "Chrome OS",
        "Computer",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Mobile/15E148 Safari/604.1",
        "SAFARI",
        "iOS",
        "Mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Mobile/15E148 Safari/604.1",
        "SAFARI",
        "iOS",
        "Tablet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        "CHROME",
        "Android",
        "Mobile",
    ),
    # SDKs and tools: no browser, and nothing to say about the device.
    ("OpenAPI-Generator/1.0.0/python", "UNKNOWN", "Unknown", "Unknown"),
    ("curl/8.5.0", "UNKNOWN", "Unknown", "Unknown"),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", "UNKNOWN", "Unknown", "Unknown"),
    ("", "UNKNOWN", "Unknown", "Unknown"),
    (None, "UNKNOWN", "Unknown", "Unknown"),
]


@pytest.mark.parametrize(("raw", "browser", "os", "device"), AGENTS)
def test_parse_user_agent(raw: str | None, browser: str, os: str, device: str) -> None:
    assert parse_user_agent(raw) == UserAgentInfo(browser=browser, os=os, device=device)


def test_browser_values_are_okta_enumerations() -> None:
    okta_browsers = {"CHROME", "FIREFOX", "SAFARI", "EDGE", "OPERA", "IE", "UNKNOWN"}
    assert {parse_user_agent(raw).browser for raw, *_ in AGENTS} == okta_browsers


def test_parses_are_cached() -> None:
    assert parse_user_agent(MAC_CHROME) is parse_user_agent(MAC_CHROME)
