"""`flask` commands: users, scenarios, acts, seed (and drill/score/export from their modules)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.models import Cohort, Role

users_cli = AppGroup("users", help="Manage user accounts.")
scenarios_cli = AppGroup("scenarios", help="Validate, list and load scenario and rubric files.")
acts_cli = AppGroup("acts", help="The speech-act (intent) model.")
seed_cli = AppGroup("seed", help="Demo data.")
notifications_cli = AppGroup("notifications", help="In-app notifications and their e-mail copies.")


@notifications_cli.command("due")
def notifications_due():
    """Notice assignments falling due within 24 hours and e-mail unsent notices (for cron)."""
    from app.services import notifications

    made = notifications.all_due_soon()
    sent = notifications.deliver_email()
    click.echo(f"{made} due-soon notices, {sent} e-mails sent")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(Role.values()), required=True)
@click.option("--name", "display_name", default=None, help="Display name (default: the username).")
@click.option("--cohort", default=None, help="Cohort name (trainees).")
@click.password_option(help="Password (prompted when not given).")
def users_create(username, role, display_name, cohort, password):
    """Create a user with one role."""
    from sqlalchemy import select

    from app.services import accounts, audit

    cohort_row = None
    if cohort:
        cohort_row = db.session.scalar(select(Cohort).where(Cohort.name == cohort))
        if cohort_row is None:
            raise click.ClickException(f"no cohort named {cohort!r}")
    try:
        user = accounts.create_user(username, password, role, display_name, cohort_row)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("user_created", target=user.username, role=role, via="cli")
    db.session.commit()
    click.echo(f"created {role} {username}")


def _dirs() -> tuple[Path, Path]:
    return Path(current_app.config["SCENARIOS_DIR"]), Path(current_app.config["RUBRICS_DIR"])


@scenarios_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-scripts", is_flag=True,
              help="Skip the check that each scenario in scenarios/ has its excellent and poor agent scripts.")
def scenarios_validate(paths, no_scripts):
    """Check scenario and rubric files; print each fault as `file: field path: reason`.

    Without PATHS every file under scenarios/ and rubrics/ is checked. Files with
    `{operator.…}` placeholders are checked under every operator profile. A scenario in
    scenarios/ must have its own excellent and poor agent scripts (AGENT_SCRIPTS_DIR,
    `<id>.good.txt` / `<id>.bad.txt`; English ones in `en/`). Exit status 1 on any fault.
    """
    from app.core.agent_scripts import missing_script_faults
    from app.core.catalog import build_catalog, other_operator_faults
    from app.core.operators import load_operators

    sdir, rdir = _dirs()
    operator = current_app.config.get("OPERATOR")
    catalog = build_catalog(sdir, rdir, list(paths) if paths else None, operator=operator)
    catalog.faults.extend(other_operator_faults(catalog, sorted(load_operators()), operator))
    if not no_scripts:
        # Drafts outside scenarios/ are checked on their own and not played: no scripts asked.
        played = [(e.path, e.model.id, e.model.language) for e in catalog.entries
                  if e.kind == "scenario" and e.path.resolve().is_relative_to(sdir.resolve())]
        catalog.faults.extend(missing_script_faults(played, current_app.config["AGENT_SCRIPTS_DIR"]))
    for fault in catalog.faults:
        click.echo(str(fault), err=True)
    if catalog.faults:
        click.echo(f"{len(catalog.faults)} fault(s) in {len({f.file for f in catalog.faults})} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len({e.path for e in catalog.entries})} file(s) valid")


@scenarios_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenarios_list(as_json):
    """List the scenarios (id, language, title, difficulty, direction, personas)."""
    from app.services.content import ContentError, catalog

    try:
        cat = catalog()
    except ContentError as exc:
        raise click.ClickException(str(exc)) from None
    rows = []
    for e in sorted(cat.of_kind("scenario"), key=lambda e: (e.model.id, e.model.language)):
        m = e.model
        rows.append({
            "id": m.id, "language": m.language, "title": m.title, "difficulty": m.difficulty,
            "category": m.category, "direction": m.direction, "personas": [p.id for p in getattr(m, "personas", [])],
            "file": str(e.path), "content_hash": e.content_hash,
        })
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']:<24} {r['language']:<6} d{r['difficulty']}  {r['title']}  [{', '.join(r['personas'])}]")


@scenarios_cli.command("new")
@click.argument("scenario_id")
@click.option("--title", default=None, help="The scenario's title (default: 新场景 ID).")
def scenarios_new(scenario_id, title):
    """Scaffold scenarios/ID.yaml (commented, valid, playable) and its two agent scripts.

    The file is a small working example to change step by step (docs/authoring.md);
    nothing is overwritten. The new file is validated at once.
    """
    from app.core.agent_scripts import missing_script_faults
    from app.core.catalog import build_catalog
    from app.core.scaffold import ScaffoldError, scaffold_scenario

    sdir, rdir = _dirs()
    try:
        written = scaffold_scenario(scenario_id, sdir, current_app.config["AGENT_SCRIPTS_DIR"], title)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    catalog = build_catalog(sdir, rdir, [written[0]], operator=current_app.config.get("OPERATOR"))
    faults = catalog.faults + missing_script_faults([(written[0], scenario_id, "zh-CN")],
                                                    current_app.config["AGENT_SCRIPTS_DIR"])
    for path in written:
        click.echo(f"wrote {path}")
    for fault in faults:
        click.echo(str(fault), err=True)
    if faults:
        sys.exit(1)
    click.echo(f"ok: {written[0]} is valid. Change it step by step (docs/authoring.md) and run "
               f"`flask scenarios validate {written[0]}` after each change.")


@scenarios_cli.command("load")
def scenarios_load():
    """Validate all files and store a version for every new scenario/rubric content. Idempotent."""
    from app.services.content import ContentError, sync_versions

    try:
        counts = sync_versions()
    except ContentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{counts['scenarios']} scenario file(s), {counts['rubrics']} rubric file(s), "
               f"{counts['new_versions']} new version(s)")


@acts_cli.command("train")
def acts_train():
    """Fit (or load from cache) the intent model for every language."""
    from app.core.acts import train_all

    _, rdir = _dirs()
    for line in train_all(rdir / "acts", Path(current_app.config["CACHE_DIR"])):
        click.echo(line)


@acts_cli.command("analyse")
@click.option("--lang", "language", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True,
              help="language of the utterances")
@click.option("--json", "as_json", is_flag=True,
              help="print every field of the understanding (actions, objects, verification items, numbers)")
def acts_analyse(language: str, as_json: bool):
    """Read one agent utterance per line from standard input; print one JSON object per
    line: {"text", "acts", "clauses": [{"text", "acts"}]} (with --json, more fields).
    Blank lines are skipped."""
    from app.core.acts import load_intent_model
    from app.core.understanding import understand

    _, rdir = _dirs()
    model = load_intent_model(language, rdir / "acts", Path(current_app.config["CACHE_DIR"]))
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        full = understand(text, model, language=language, clause_acts=True).to_dict()
        out = full if as_json else {k: full[k] for k in ("text", "acts", "clauses")}
        click.echo(json.dumps(out, ensure_ascii=False))


@seed_cli.command("demo")
def seed_demo():
    """Create the demo accounts (one per role) and the demo cohort. Safe to run twice."""
    from app.services.accounts import ensure_demo_accounts

    if not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are disabled in this configuration (DEMO_ACCOUNTS=0)")
    click.echo("Demo accounts (local use only):")
    for username, password, role, created in ensure_demo_accounts():
        click.echo(f"  {role:<8} {username:<9} password: {password}{'' if created else '  (existed)'}")


# --- flask drill / flask score: the commands live beside their core; these callables give
# them the app's content and models when they run (never at start-up).

def _scenario_lookup(scenario_id: str, language: str):
    from app.services.content import catalog

    entry = catalog().find("scenario", scenario_id, language)
    if entry is None:
        known = sorted({e.model.id for e in catalog().of_kind("scenario") if e.model.language == language})
        raise LookupError(f"known in {language}: {', '.join(known)}")
    return entry.model


def _analyser_for_language(language: str):
    from app.services.engines import analyser_factory

    return analyser_factory()(language)


def _llm_client_factory():
    from app.services.engines import _llm_client, llm_configured

    return _llm_client(current_app.config) if llm_configured() else None


def _score_transcript_dict(transcript: dict) -> dict:
    """Score a finished terminal drill exactly as `flask score` would score its export."""
    from app.core.rubric import load_rubric_by_id
    from app.core.scoring.files import score_file

    sdir, rdir = _dirs()
    raw = json.dumps(transcript, ensure_ascii=False).encode("utf-8")
    rubric = load_rubric_by_id("standard-100", rdir)
    _, report = score_file(raw, rubric, sdir, lambda lang: _analyser_for_language(lang).analyse, name="<drill>")
    return report.to_output()


def register(app: Flask) -> None:
    from app.export_cli import export_group
    from app.scoring_cli import score_command
    from app.simulation_cli import drill_command

    for group in (users_cli, scenarios_cli, acts_cli, seed_cli, notifications_cli):
        app.cli.add_command(group)
    app.cli.add_command(score_command, "score")
    app.cli.add_command(export_group)
    app.cli.add_command(drill_command(_scenario_lookup, _analyser_for_language, _llm_client_factory,
                                      scorer=_score_transcript_dict))
