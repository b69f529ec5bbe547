"""Certificate jobs."""

from __future__ import annotations

from app.platform.jobs import job


@job("certificates.issue_for_enrollment")
def issue_for_enrollment(enrollment_id: int) -> int | None:
    """Issue (exactly once) the certificate of a completed enrollment and render its PDF."""
    from app.services.certificates import issue_certificate_for_enrollment

    cert = issue_certificate_for_enrollment(enrollment_id)
    return cert.id if cert else None
