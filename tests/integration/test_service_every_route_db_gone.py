"""With the database gone (renamed away on the real PostgreSQL server, every connection to it
ended), every route of the real service under uvicorn answers 503: the API in the JSON error
format, the review pages with a page that says so. The routes are enumerated from the app
itself, so a route added later is covered without anyone remembering to list it; the few
that need no database (documentation, liveness, metrics, the sign-in page) are named and
must keep working. Once the database is back, everything answers again."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.routing import Route

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.pg_admin import own_database, rename_database
from support.service import serve

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

#: Routes that need no database, and what they answer without one.
WITHOUT_DATABASE = {("GET", "/"): 307, ("GET", "/livez"): 200, ("GET", "/metrics"): 200,
                    ("GET", "/openapi.json"): 200, ("GET", "/docs"): 200,
                    ("GET", "/docs/oauth2-redirect"): 200, ("GET", "/redoc"): 200,
                    ("GET", "/ui/login"): 200, ("POST", "/ui/logout"): 303}


def test_every_route_is_503_in_the_error_format_with_the_database_gone(
        tmp_path: Path) -> None:
    with own_database("ddq_gone") as database:
        settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                            database_url=database, readiness_timeout_s=0.5)
        kb = KnowledgeBase(settings)
        key = KeyStore(kb.store.engine).create(workspace="acme", name="me",
                                               role=Role.ADMIN)[1]
        name = make_url(database).database
        assert name is not None
        app = create_app(settings, kb=kb)
        try:
            with serve(app) as url, httpx.Client(
                    base_url=url, timeout=30, headers={"X-API-Key": key},
                    cookies={"ddq_key": key}) as client:
                assert client.get("/api/me").status_code == 200
                routes = [r for r in app.routes if isinstance(r, Route)] + app.state.routes
                calls = sorted({(method, route.path) for route in routes
                                for method in (route.methods or set()) - {"HEAD"}})
                assert len(calls) >= 40, calls  # the enumeration found the routes
                rename_database(database, name, f"{name}_away")
                wrong: list[str] = []
                try:
                    for method, template in calls:
                        path = re.sub(r"\{[^}]+\}", "1", template)
                        if (method, template) == ("POST", "/ui/login"):
                            answer = client.post(path, data={"key": key})
                        else:
                            answer = client.request(method, path, follow_redirects=False,
                                                    json={} if method != "GET" else None)
                        if (method, template) in WITHOUT_DATABASE:
                            if answer.status_code != WITHOUT_DATABASE[(method, template)]:
                                wrong.append(f"{method} {template}: {answer.status_code}")
                            continue
                        if answer.status_code != 503:
                            wrong.append(f"{method} {template}: {answer.status_code} "
                                         f"{answer.text[:120]}")
                        elif template == "/readyz":
                            assert answer.json()["checks"]["database"].startswith("failing")
                        elif answer.headers["content-type"].startswith("text/html"):
                            # A person in the browser gets a page saying so.
                            if not template.startswith("/ui") \
                                    or "That did not work" not in answer.text:
                                wrong.append(f"{method} {template}: {answer.text[:120]}")
                        else:
                            body = answer.json()
                            if set(body) != {"error_code", "detail"} \
                                    or body["error_code"] != "store_error":
                                wrong.append(f"{method} {template}: {body}")
                            if "psycopg" in answer.text or name in answer.text:
                                wrong.append(f"{method} {template}: names the driver")
                    print(f"{len(calls)} routes with the database gone: "
                          f"{len(calls) - len(WITHOUT_DATABASE)} answered 503, "
                          f"{len(WITHOUT_DATABASE)} need no database")
                    assert not wrong, "\n".join(wrong)
                finally:
                    rename_database(database, f"{name}_away", name)
                assert client.get("/api/me").status_code == 200
                assert client.get("/ui").status_code == 200
        finally:
            kb.close()
