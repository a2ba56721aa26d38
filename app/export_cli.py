"""`flask export certifications`: the HR exports from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services import exports

export_group = AppGroup("export", help="Export data for HR and LMS systems.")


@export_group.command("certifications")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "xapi"]))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--cohort", default=None, help="cohort name")
@click.option("--track", default=None, help="track id, e.g. core")
@click.option("--grade", default=None, help="excellent, good, pass or retake")
@click.option("--since", default=None, help="first award date, YYYY-MM-DD")
@click.option("--until", default=None, help="last award date (inclusive), YYYY-MM-DD")
@click.option("--language", type=click.Choice(exports.LANGUAGES), default="zh-CN",
              help="language of the header row, track and grade names")
def export_certifications(fmt, out, language, **filters):
    """Write the certification results matching the filters to OUT; prints the row count."""
    try:
        f = exports.check_known(exports.ResultFilter.parse(filters))
    except exports.FilterError as exc:
        raise click.ClickException(str(exc)) from None  # exit status 1
    result = exports.export(fmt, f, None, language)
    with open(out, "wb") as fh:
        for chunk in result.chunks:
            fh.write(chunk)
    click.echo(f"{result.rows} rows written to {out}")
