"""The OpenAPI schema (drf-spectacular, refreshauth[openapi]): valid, complete, and what
the server answers, as schemathesis checks against the example project under gunicorn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from .server import ROOT, Server, environment, prepare, serve

pytest.importorskip("drf_spectacular")

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
    ]
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    generated: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)
    return generated


def test_bearer_and_dpop_schemes(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["accessToken"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["dpopAccessToken"]["scheme"] == "DPoP"
    assert schemes["dpopProof"]["in"] == "header" and schemes["dpopProof"]["name"] == "DPoP"
    assert schema["paths"]["/api/auth/sessions/"]["get"]["security"] == [
        {"accessToken": []},
        {"dpopAccessToken": [], "dpopProof": []},
    ]
    for path in ("/api/auth/login/", "/api/auth/refresh/"):
        parameters = schema["paths"][path]["post"]["parameters"]
        assert {"in": "header", "name": "DPoP"}.items() <= parameters[0].items()
    assert "security" not in schema["paths"]["/api/auth/login/"]["post"] or schema["paths"][
        "/api/auth/login/"
    ]["post"]["security"] in ([], [{}])


@pytest.mark.parametrize(
    "path,method,codes",
    [
        ("/api/auth/login/", "post", {"200", "400", "401", "403", "415", "429", "503"}),
        ("/api/auth/refresh/", "post", {"200", "400", "401", "403", "415", "429", "503"}),
        ("/api/auth/logout/", "post", {"204", "400", "403", "415", "503"}),
        ("/api/auth/logout-all/", "post", {"204", "400", "401", "415", "503"}),
        ("/api/auth/sessions/", "get", {"200", "401", "503"}),
        ("/api/auth/sessions/{session_id}/", "delete", {"204", "401", "404", "503"}),
        ("/demo/auth/csrf/", "get", {"204", "503"}),
        ("/api/auth/jwks/", "get", {"200", "503"}),
        ("/api/me/", "get", {"200", "401", "503"}),
    ],
)
def test_every_endpoint_documents_its_answers(
    schema: dict[str, Any], path: str, method: str, codes: set[str]
) -> None:
    operation = schema["paths"][path][method]
    assert codes <= set(operation["responses"])


def test_csrf_is_listed_under_cookie_mounts_only(schema: dict[str, Any]) -> None:
    assert "/demo/auth/csrf/" in schema["paths"]
    assert "/api/auth/csrf/" not in schema["paths"]
    # Both mounts share one login request component.
    for prefix in ("/api/auth/", "/demo/auth/"):
        body = schema["paths"][f"{prefix}login/"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/LoginRequest"


def test_spectacular_validates_without_warnings(tmp_path: Path) -> None:
    """The example project's schema, with its body and cookie mounts, as a user makes it."""
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "schema.yaml"),
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "example_project.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_refresh_takes_json_and_the_oauth_form(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/auth/refresh/"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)


@pytest.mark.django_db
def test_schema_and_ui_are_served_without_a_cdn() -> None:
    api = APIClient()
    assert api.get("/api/schema/").status_code == 200
    page = api.get("/api/schema/ui/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = environment(tmp)
    prepare(env)
    with serve(env, workers=2, threads=4) as running:
        yield running


@pytest.mark.server
def test_schemathesis_finds_no_failure(server: Server, tmp_path: Path) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("schemathesis is not installed")
    login = server.post("/api/auth/login/", {"username": "demo", "password": "demo-password-123"})
    token = login.json()["access_token"]
    result = subprocess.run(
        [
            binary,
            "run",
            f"{server.base_url}/api/schema/",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {token}",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-deterministic",
            "--no-color",
        ],
        cwd=tmp_path,  # schemathesis keeps its cache (.schemathesis/) in the working folder
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
