"""The platform's one segregation-of-duties rule: the same person never both performs and
approves."""

from __future__ import annotations

import pytest

from app.people.sod import SelfApproval, require_distinct
from app.platform.errors import Forbidden
from tests.people.factories import UserFactory


def test_the_same_person_is_refused_with_a_403_and_the_reason(app):
    user = UserFactory()
    with pytest.raises(SelfApproval) as exc:
        require_distinct(user, user.id, "you issued it; another person must approve it.")
    assert isinstance(exc.value, Forbidden) and exc.value.status == 403
    why = "you issued it; another person must approve it."
    assert exc.value.detail == f"Segregation of duties: {why}"


def test_different_or_unknown_people_pass(app):
    one, two = UserFactory(), UserFactory()
    require_distinct(one, two, "x")
    require_distinct(one.id, two.id, "x")
    require_distinct(None, one, "x")  # nobody recorded: nothing to keep apart
