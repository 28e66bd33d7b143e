"""User agents in Okta's vocabulary: ``browser`` (CHROME, FIREFOX, ...), ``os`` and ``client.device``.

A ``User-Agent`` is cut to ``MAX_USER_AGENT_LENGTH`` characters before anything reads it: ua-parser's
regular expressions never run over megabytes, its cache never holds them, and the event records the cut
value (``client.userAgent.rawUserAgent``). Okta documents no limit of its own; real user agents stay
well under 512 characters, so 1024 keeps every real one whole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ua_parser import BestAvailableResolver, Domain, Resolver, Result, load_lazy_builtins

from registrar.controls import truncate

__all__ = ["MAX_USER_AGENT_LENGTH", "UserAgentInfo", "parse_user_agent", "truncate_user_agent"]

MAX_USER_AGENT_LENGTH = 1024

# ua-parser's family names → the upper-case browser values Okta writes. Anything else is UNKNOWN, which is
# also what Okta records for API clients and SDKs.
_BROWSERS = {
    "Chrome": "CHROME",
    "Chrome Mobile": "CHROME",
    "Chrome Mobile iOS": "CHROME",
    "Chrome Mobile WebView": "CHROME",
    "Chromium": "CHROME",
    "HeadlessChrome": "CHROME",
    "Firefox": "FIREFOX",
    "Firefox Mobile": "FIREFOX",
    "Firefox iOS": "FIREFOX",
    "Firefox Beta": "FIREFOX",
    "Safari": "SAFARI",
    "Mobile Safari": "SAFARI",
    "Mobile Safari UI/WKWebView": "SAFARI",
    "Edge": "EDGE",
    "Edge Mobile": "EDGE",
    "IE": "IE",
    "IE Mobile": "IE",
    "Opera": "OPERA",
    "Opera Mobile": "OPERA",
    "Opera Mini": "OPERA",
}
_LINUXES = frozenset(
    {"Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "SUSE", "Mint", "Arch Linux", "CentOS"}
)
_DESKTOPS = frozenset({"Mac OS X", "Windows", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris"})
_MOBILES = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Tizen", "HarmonyOS"})
_TABLETS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")
_UNKNOWN = "Unknown"


@functools.cache
def _resolver() -> Resolver:
    # Built on first use (compiling the rules takes ~0.2 s: not a cost for every CLI command), and
    # uncached: ``parse_user_agent`` caches the whole mapped answer instead of ua-parser's parts.
    return BestAvailableResolver(load_lazy_builtins())


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What a ``User-Agent`` says, in the values Okta's System Log uses."""

    browser: str
    os: str
    device: str


def _os_name(result: Result) -> str:
    os = result.os
    if os is None or os.family == "Other":
        return _UNKNOWN
    if os.family == "Windows":
        # Okta writes "Windows 10"; ua-parser gives the version apart ("10", "7", "XP").
        return f"Windows {os.major}" if os.major else "Windows"
    if os.family in _LINUXES:
        return "Linux"
    return os.family


def _device(result: Result, os_name: str) -> str:
    device = result.device
    family = device.family if device else ""
    if family == "Spider":
        return _UNKNOWN
    brand = (device.brand or "") if device else ""
    if any(mark in family for mark in _TABLETS) or "Tablet" in brand:
        return "Tablet"
    if os_name in _MOBILES or family in {"iPhone", "iPod", "Generic Smartphone"}:
        return "Mobile"
    if os_name in _DESKTOPS or os_name.startswith("Windows") or os_name == "Linux" or family == "Mac":
        return "Computer"
    return _UNKNOWN


def truncate_user_agent(raw: str | None) -> str | None:
    """``raw`` cut to ``MAX_USER_AGENT_LENGTH`` characters (ending in "…" when cut)."""
    return truncate(raw, MAX_USER_AGENT_LENGTH)


def parse_user_agent(raw: str | None) -> UserAgentInfo:
    """Okta's browser, OS and device for a raw ``User-Agent`` (cut first; cached: clients repeat theirs)."""
    return _parse(truncate_user_agent(raw))


@functools.lru_cache(maxsize=4096)
def _parse(raw: str | None) -> UserAgentInfo:
    if not raw:
        return UserAgentInfo(browser="UNKNOWN", os=_UNKNOWN, device=_UNKNOWN)
    result = _resolver()(raw, Domain.ALL).complete()
    family = result.user_agent.family if result.user_agent else ""
    os_name = _os_name(result)
    return UserAgentInfo(
        browser=_BROWSERS.get(family, "UNKNOWN"), os=os_name, device=_device(result, os_name)
    )
