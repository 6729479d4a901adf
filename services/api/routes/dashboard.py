"""GET /dashboard: the built-in dashboard — one HTML page and its assets, shipped in the package
(services/api/static: plain HTML, CSS and an ES module; no CDN, no build step). The page itself is
open: it holds no data. Everything it shows comes from this API with the key the user signs in
with (kept in the tab's sessionStorage), so each role sees what the API lets it see."""
from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["dashboard"])
STATIC = files("services.api") / "static"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# the page's own scripts and styles only; data from this origin
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
          "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)  # a page, not an API
def dashboard() -> HTMLResponse:
    """The dashboard (HTML): pipeline board, funnel, cycle time, leaderboard, forecast, reviews,
    stalled deals and an event browser, refreshed by the live event stream."""
    return HTMLResponse((STATIC / "dashboard.html").read_text(), headers={"Content-Security-Policy": POLICY})


@router.get("/dashboard/assets/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, f"no dashboard asset {name!r}")
    return Response((STATIC / name).read_text(), media_type=ASSETS[name],
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
