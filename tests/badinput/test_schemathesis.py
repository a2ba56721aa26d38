"""The drill's JSON endpoints driven by schemathesis from their OpenAPI description
(docs/openapi.yaml), as a logged-in trainee, against the WSGI app.

Positive cases (valid by the description) and negative ones (violating it: wrong types,
over-long text, out-of-range positions, ids that are not integers) against a drill of the
trainee and against ids of nothing. Checks: never a 5xx (in testing the app re-raises, so
a server error fails the call itself), every status and content type is one the
description lists, bodies match their schema, and negative data is refused with a 4xx.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
from hypothesis import given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import USER_AGENT
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from werkzeug.test import Client

from app.extensions import db
from badinput_results import TALLY  # tests/badinput/: the counts of every suite here

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
COUNTED: dict[str, int] = {}


def _operations():
    schema = schemathesis.openapi.from_path(str(SPEC))
    return schema, [result.ok() for result in schema.get_all_operations()]


def test_the_description_names_real_routes(app):
    """docs/openapi.yaml is a valid OpenAPI 3 document, and each of its paths and methods
    is a route of the app."""
    schema, operations = _operations()
    schema.validate()  # raises on a document the OpenAPI 3.0 meta-schema rejects
    rules = {(re.sub(r"<(?:int:)?([a-z_]+)>", r"{\1}", r.rule), m) for r in app.url_map.iter_rules() for m in r.methods}
    described = {(op.path, op.method.upper()) for op in operations}
    assert described and described <= rules, described - rules


@pytest.fixture
def trainee_api(app_factory):
    """An app outside any pushed context (schemathesis calls it like a server would), a
    logged-in trainee's session cookie and that trainee's drill."""
    from app.services.accounts import create_user
    from app.services.drills import start_drill

    app = app_factory()
    with app.app_context():
        trainee = create_user("api-trainee", "password-123", "trainee", None, None)
        db.session.commit()
        drill_id = start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=1).id
    # Logged in through a plain werkzeug client with the User-Agent schemathesis sends: the
    # session is bound to address and agent (Flask-Login "strong" protection), as a browser's is.
    client = Client(app)
    login = client.post("/login", data={"username": "api-trainee", "password": "password-123"},
                        headers={"User-Agent": USER_AGENT})
    assert login.status_code == 302
    cookie = client.get_cookie("session")
    return app, {"session": cookie.value}, drill_id


def test_drill_endpoints_against_their_description(trainee_api):
    app, cookie, drill_id = trainee_api
    schema, operations = _operations()
    schema.app = app
    cases = st.one_of([op.as_strategy(generation_mode=mode) for op in operations
                       for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])

    @settings(settings.get_profile("badinput-ci"), max_examples=60)
    @given(case=cases, own_drill=st.booleans())
    def run(case, own_drill):
        if own_drill and case.path_parameters is not None:
            case.path_parameters = {**case.path_parameters, "drill_id": drill_id}
        mode = "negative" if case.meta and case.meta.generation.mode == GenerationMode.NEGATIVE else "positive"
        response = case.call_and_validate(headers={"Accept": "application/json"}, cookies=cookie, checks=CHECKS,
                                          app=app)
        key = f"{mode} {response.status_code}"
        COUNTED[key] = COUNTED.get(key, 0) + 1
        status = response.status_code
        TALLY["sqlite"][("schemathesis", "5xx" if status >= 500 else "4xx" if status >= 400 else "handled")] += 1

    run()
    # It did reach the drill (2xx), and it was refused as well (4xx), in both modes.
    assert any(k.endswith(" 200") for k in COUNTED) and any(k.startswith("negative 4") for k in COUNTED), COUNTED
    assert not any(k.split()[1].startswith("5") for k in COUNTED), COUNTED
