"""CLI: `flask validation-report` builds the validation evidence (PDF + JSON) of this release."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("validation-report")
    @click.option(
        "--junit",
        "junit",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="pytest JUnit XML of the run to report (default: VALIDATION_JUNIT_PATH).",
    )
    @click.option(
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Also write the PDF and JSON into this folder (to file them elsewhere).",
    )
    def validation_report_command(junit: Path | None, output: Path | None) -> None:
        """Map each GxP control to its tests' results in the last run; store and record it."""
        from app.extensions import db
        from app.gxp.validation_report import create_validation_report
        from app.platform.files import StoredFile
        from app.platform.storage import get_storage

        report = create_validation_report(actor=None, junit=junit)
        s, run = report.summary, report.summary["test_run"]
        click.echo(
            f"Validation report {report.id}: Cadre {report.version} at commit {report.commit}."
        )
        if run["found"]:
            click.echo(
                f"Test run {run['source']}: {run['tests']} tests, {run['passed']} passed, "
                f"{run['failed']} failed, {run['errors']} errors, {run['skipped']} skipped."
            )
        else:
            click.echo(f"Test run {run['source']}: not found (run `make test` first).")
        click.echo(
            f"Controls: {s['controls']}: {s['passed']} passed, {s['failed']} failed, "
            f"{s['not_run']} not run ({s['pending']} pending tests)."
        )
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
            for file_id in (report.pdf_file_id, report.json_file_id):
                stored = db.session.get(StoredFile, file_id)
                target = output / stored.filename
                target.write_bytes(get_storage().get(stored.key))
                click.echo(f"Wrote {target}")
