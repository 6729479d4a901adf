"""The README is a front door (at most 250 lines) and the documentation stands on its own: no
page cites a file outside the repository (a specification section, a sibling checkout), and every
relative link of README.md, docs/*.md and bench/README.md leads to a file that exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_no_page_cites_what_the_repository_does_not_hold():
    for page in PAGES:
        text = page.read_text()
        assert "SPEC §" not in text and "../shared" not in text, page.name


def test_every_relative_link_leads_to_a_file():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists() or ROOT not in path.parents:
                broken.append((page.relative_to(ROOT).as_posix(), target))
    assert broken == []
