import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert {"tokenAuth", "sessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/tokens/" in response.json()["paths"]


def test_api_docs_load_nothing_from_elsewhere(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["']https?://""", html), "the docs page must not pull assets from a CDN"
    assert "<script>" not in html.replace(" ", "")  # no inline script under the CSP
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    code = script.content.decode()
    assert not re.search(r"""["'`]https?://""", code)
    assert '"validatorUrl": null' in code  # Swagger UI would otherwise post the schema to an outside validator
