"""A printed certificate verifies on the instance that printed it: links follow its port."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.config import ROOT, load_config
from app.learning.certificate_pdf import render_certificate_pdf
from app.learning.certificates import issue_certificate_for_enrollment, verification_url
from app.platform.storage import get_storage
from tests.learning.certificates.conftest import completed_enrollment, pdf_text


@pytest.fixture
def served_on_5055(app, monkeypatch):
    """The app configured as `PORT=5055` with no PUBLIC_BASE_URL, read through load_config."""
    monkeypatch.setenv("PORT", "5055")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    config = load_config()
    app.config.update(PORT=config["PORT"], PUBLIC_BASE_URL=config["PUBLIC_BASE_URL"])
    return app


def _printed_link(cert, tmp_path) -> str:
    """The verify link as printed on the stored PDF (its text, else its uncompressed bytes)."""
    text = pdf_text(get_storage().get(cert.file.key), tmp_path)
    if text is None:
        raw = render_certificate_pdf(cert, verification_url(cert.verification_code), compress=False)
        text = raw.decode("latin-1")
    found = re.search(r"https?://[^\s()<>]+/verify/[A-Z2-7]+", text)
    assert found, text[:2000]
    return found.group(0)


def test_a_certificate_printed_outside_a_request_points_at_the_port_served(
    served_on_5055, client, tmp_path
):
    cert = issue_certificate_for_enrollment(completed_enrollment().id)

    link = _printed_link(cert, tmp_path)

    assert link == f"http://127.0.0.1:5055/verify/{cert.verification_code}"


def test_following_the_printed_link_verifies_the_certificate(served_on_5055, client, tmp_path):
    cert = issue_certificate_for_enrollment(completed_enrollment().id)

    page = client.get(urlsplit(_printed_link(cert, tmp_path)).path)

    assert page.status_code == 200
    assert cert.number in page.get_data(as_text=True)
    assert client.get("/verify/NOTACODE234567").status_code == 404


def test_a_page_shows_the_link_of_the_host_it_was_served_from(served_on_5055, client, auth):
    cert = issue_certificate_for_enrollment(completed_enrollment().id)
    auth.login(cert.user)

    body = client.get(f"/certificates/{cert.id}").get_data(as_text=True)

    assert f"http://cadre.test/verify/{cert.verification_code}" in body


def test_a_configured_public_base_url_wins(app):
    app.config["PUBLIC_BASE_URL"] = "https://training.example.org"
    cert = issue_certificate_for_enrollment(completed_enrollment().id)

    assert verification_url(cert.verification_code) == (
        f"https://training.example.org/verify/{cert.verification_code}"
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_exports_its_port_as_the_public_base_url(tmp_path):
    """`PORT=5055 make run` hands the app PUBLIC_BASE_URL=http://127.0.0.1:5055 (a stand-in
    flask prints what it was given instead of serving)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    flask = venv / "bin" / "flask"
    flask.write_text('#!/bin/sh\necho "flask $* PORT=$PORT PUBLIC_BASE_URL=$PUBLIC_BASE_URL"\n')
    flask.chmod(0o755)
    (venv / "bin" / "python").symlink_to(Path(os.sys.executable))
    (venv / ".installed").touch()
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    out = subprocess.run(  # noqa: S603
        ["make", "-s", "run", "PORT=5055", f"VENV={venv}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "flask seed-demo PORT=5055 PUBLIC_BASE_URL=http://127.0.0.1:5055" in out
    assert "--port 5055 PORT=5055 PUBLIC_BASE_URL=http://127.0.0.1:5055" in out
