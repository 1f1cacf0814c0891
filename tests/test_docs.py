"""The docs keep their promises checkable: every test a guarantee names exists, the README stays a short
front door, and every docs page it links to is there."""

from __future__ import annotations

import re

from genre_models.config import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
# A test named as `file.py::test_name`, or `::test_name` after one (same file as the last named one).
TEST_REFERENCE = re.compile(r"(test_\w+\.py)?::(test_\w+)")


def defined_tests() -> dict[str, set[str]]:
    """Return {test file name: the test functions it defines}."""
    return {path.name: set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
            for path in (PROJECT_ROOT / "tests").glob("test_*.py")}


def test_every_test_a_guarantee_names_exists():
    defined = defined_tests()
    missing, current, named = [], None, 0
    for page in DOCS.glob("*.md"):
        for match in TEST_REFERENCE.finditer(page.read_text(encoding="utf-8")):
            current = match.group(1) or current
            named += 1
            if match.group(2) not in defined.get(current, set()):
                missing.append(f"{page.name}: {current}::{match.group(2)}")
    assert named >= 50 and not missing, missing


def test_the_readme_is_a_short_front_door_whose_links_lead_somewhere():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    links = re.findall(r"\]\(((?:docs/)[^)#]+)\)", readme)
    assert links and all((PROJECT_ROOT / link).is_file() for link in links), links
    # The test command CI runs is the one the README gives.
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in readme and ".venv/bin/python -m pytest" in ci
