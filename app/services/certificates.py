"""Certificates: issue exactly once per completion, render the PDF, verify publicly."""

from __future__ import annotations


def issue_certificate_for_enrollment(enrollment_id: int):
    """Placeholder until the certificates slice lands: issues nothing."""
    return None
