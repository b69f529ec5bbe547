"""The admin's page of a person links to that person's training record, for the roles that
may read it."""

from __future__ import annotations

import pytest

from tests.people.factories import UserFactory


@pytest.mark.parametrize("role", ["admin", "hr"])
def test_user_page_links_to_the_training_record(client, auth, role):
    person = UserFactory(name="Anna Keller")
    auth.login(UserFactory(roles=[role]))
    body = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    link = f'href="/people/{person.id}/record"'
    assert link in body
    assert ">Training record</a>" in body
    assert client.get(f"/people/{person.id}/record").status_code == 200
