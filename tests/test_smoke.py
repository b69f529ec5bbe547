from tests.people.factories import UserFactory


def test_login_then_home_then_logout(client, auth):
    user = UserFactory(name="Ada Lovelace")
    auth.login(user)
    assert "Welcome, Ada Lovelace" in client.get("/home").get_data(as_text=True)
    auth.logout()
    assert client.get("/home").status_code == 302
