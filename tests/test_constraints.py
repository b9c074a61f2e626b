"""constraints.txt: parses, pins every dependency install.sh installs, and each pin satisfies pyproject.

A fresh install months from now resolves to these known-good versions (install.sh passes
``-c constraints.txt``); if pyproject gains a dependency or tightens a bound, this fails
until constraints.txt is regenerated.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
INSTALLED_EXTRAS = ("test", "dm-control")
"""Extras `scripts/install.sh --test` installs; optional hardware extras are not pinned."""


def _pins() -> dict[str, Version]:
    pins = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][^\s;]*)", line)
        assert match, f"constraints.txt:{number}: {line!r} is not NAME==VERSION"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"constraints.txt:{number}: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in INSTALLED_EXTRAS:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def test_constraints_parse_and_do_not_pin_the_project_itself() -> None:
    pins = _pins()
    assert len(pins) > 20
    assert "hilserl-bench" not in pins


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_dependency_is_pinned_within_its_bounds(requirement: Requirement) -> None:
    pins = _pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{name} is a dependency but constraints.txt does not pin it"
    assert requirement.specifier.contains(pins[name], prereleases=True), \
        f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"


def test_install_script_extras_exist_under_their_normalized_names() -> None:
    """pip < 23.3 (what ensurepip gives Python 3.11) matches extras only by their normalized spelling."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    script = (ROOT / "scripts" / "install.sh").read_text()
    wanted = re.search(r'--test\) extras="\[([^\]]*)\]"', script).group(1).split(",")
    for extra in wanted:
        assert extra in project["optional-dependencies"], extra
        assert extra == re.sub(r"[-_.]+", "-", extra).lower(), f"extra {extra!r} is not in normalized form"


def test_install_script_uses_the_constraints() -> None:
    script = (ROOT / "scripts" / "install.sh").read_text()
    assert "-c constraints.txt" in script and "constraints.txt" in script.split("hash=", 1)[1].splitlines()[0]
