"""The main menu: each role sees the groups it may use, and never a link it cannot open."""

from __future__ import annotations

import re

import pytest

from app.people.models import ROLES
from tests.people.factories import UserFactory


def _menu(body: str) -> str:
    return body.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]


def _links(menu: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu)


def _groups(menu: str) -> list[str]:
    return re.findall(r"<summary[^>]*>([^<]+)</summary>", menu)


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_link_opens_for_the_role(client, auth, role):
    auth.login(UserFactory(roles=[role]))
    links = _links(_menu(client.get("/home").get_data(as_text=True)))
    assert ("/home", "Home") in links and len(links) >= 5
    for href, label in links:
        assert client.get(href, follow_redirects=True).status_code == 200, (role, label, href)


@pytest.mark.parametrize(
    ("roles", "groups", "flat"),
    [
        (["employee"], [], ["Home", "Course catalog", "Training calendar", "My record"]),
        (["manager"], ["Learn", "Compliance"], ["Home", "Documents"]),
        (["trainer"], ["Learn"], ["Home", "Documents"]),
        (["qa"], ["Learn", "Compliance", "Quality"], ["Home"]),
        (["admin"], ["Learn", "Compliance", "Quality", "Admin"], ["Home"]),
    ],
)
def test_the_menu_groups_what_a_role_may_use(client, auth, roles, groups, flat):
    auth.login(UserFactory(roles=roles))
    menu = _menu(client.get("/home").get_data(as_text=True))
    assert _groups(menu) == groups
    top_level = re.sub(r"<details.*?</details>", "", menu, flags=re.S)
    assert [label for _, label in _links(top_level)][: len(flat)] == flat


def test_the_page_names_agree_with_the_menu(client, auth):
    """One name per page: the menu label is the page's <title> and its <h1>."""
    auth.login(UserFactory(roles=["admin", "hr", "qa", "trainer", "manager"]))
    menu = _menu(client.get("/home").get_data(as_text=True))
    same_name = {
        "Course catalog",
        "Training calendar",
        "My certificates",
        "Authoring",
        "Programs",
        "Grading queue",
        "Compliance dashboard",
        "Training matrix",
        "Requirements",
        "Waivers",
        "Documents",
        "Certificates pending approval",
        "Audit trail",
        "Inspection exports",
        "Validation evidence",
        "People",
        "API tokens",
    }
    links = dict((label, href) for href, label in _links(menu))
    assert same_name <= set(links)
    for label in same_name:
        body = client.get(links[label]).get_data(as_text=True)
        assert f"<title>{label} · Cadre</title>" in body, label
        assert re.search(rf"<h1[^>]*>\s*{re.escape(label)}\s*</h1>", body), label


def test_the_active_item_and_its_group_are_marked(client, auth):
    auth.login(UserFactory(roles=["manager"]))
    menu = _menu(client.get("/requirements").get_data(as_text=True))
    assert '<a href="/requirements" aria-current="page" class="active">Requirements</a>' in menu
    assert '<summary class="active">Compliance</summary>' in menu
