"""Every API write route is offered by a page for the role that uses it, or is named as a machine's route.

A new write route fails here until tests/web/route_pages.py says which page serves it (and the page really
offers it: a form or button whose data-api and method are the route's, with real ids, for that role).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi import FastAPI

from service.api.deps import route_roles
from service.app import api_routes
from tests.builders.page_worlds import WORLDS
from tests.conftest import Tenant
from tests.web.route_pages import NO_PAGE, NO_PAGE_YET, PAGES, Route
from tests.web.test_pages import signed_in


def write_routes(app: FastAPI) -> set[Route]:
    return {(method, r.path) for r in api_routes(app) if r.path.startswith("/api/")
            for method in (r.methods or ()) if method not in ("GET", "HEAD")}


class _Actions(HTMLParser):
    """The (method, url) of each form or button app.js sends to the API, with whether it can be used."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[tuple[str, str], bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("data-batch-sign"):  # signing.js posts the ticked records there
            self.found[("POST", str(a["data-batch-sign"]))] = True
        if tag in ("form", "button") and a.get("data-api"):
            key = ((a.get("data-method") or "POST").upper(), str(a["data-api"]))
            self.found[key] = self.found.get(key, False) or "disabled" not in a


def actions(html: str) -> dict[tuple[str, str], bool]:
    parser = _Actions()
    parser.feed(html)
    return parser.found


def test_every_write_route_is_mapped_to_a_page_or_a_reason(app: FastAPI) -> None:
    routes = write_routes(app)
    mapped = set(PAGES) | set(NO_PAGE) | set(NO_PAGE_YET)
    missing = sorted(routes - mapped)
    assert not missing, "write routes with no page and no reason in tests/web/route_pages.py: " + ", ".join(
        f"{m} {p}" for m, p in missing)
    stale = sorted(mapped - routes)
    assert not stale, "tests/web/route_pages.py names routes the API no longer has: " + ", ".join(
        f"{m} {p}" for m, p in stale)
    twice = [r for r in routes if sum(r in d for d in (PAGES, NO_PAGE, NO_PAGE_YET)) > 1]
    assert not twice, f"routes mapped more than once: {twice}"


def test_each_page_is_mapped_for_a_role_the_route_allows(app: FastAPI) -> None:
    allowed = {(m, r.path): route_roles(r.dependant) or frozenset() for r in api_routes(app) for m in r.methods or ()}
    refused = [f"{m} {p} refuses {page.role}" for (m, p), page in sorted(PAGES.items())
               if page.role not in allowed.get((m, p), frozenset())]
    assert not refused, f"pages mapped to a role whose action the API would refuse: {refused}"


def test_no_write_route_still_waits_for_its_page() -> None:
    assert not NO_PAGE_YET, "write routes a person needs that no page offers yet:\n" + "\n".join(
        f"  {m} {p}  ({where})" for (m, p), where in sorted(NO_PAGE_YET.items()))


@pytest.mark.parametrize("route", sorted(PAGES), ids=lambda r: f"{r[0]} {r[1]}")
def test_the_page_offers_the_route_to_its_role(route: Route, tenant: Tenant) -> None:
    method, path = route
    page = PAGES[route]
    ids = WORLDS[page.world](tenant)
    url, api = page.url.format(**ids), path.format(**ids)
    response = signed_in(tenant, page.role).get(url)
    assert response.status_code == 200, f"{page.role} GET {url}: {response.status_code}"
    found = actions(response.text)
    assert (method, api) in found, f"{url} as {page.role} has no form or button for {method} {api}: {sorted(found)}"
    assert found[(method, api)], f"{url} as {page.role} shows {method} {api} only disabled"
