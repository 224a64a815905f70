"""The two install routes (pip via pyproject.toml, conda via environment.yml) must agree."""
import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$")


def parse(requirement: str) -> tuple[str, str]:
    """(name, version floor); an environment marker (``; sys_platform == 'linux'``) is dropped."""
    name, spec = REQUIREMENT.match(requirement.split(";")[0].strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(parse(r) for r in requirements)


def conda_requirements() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    lines = text.split("\ndependencies:\n", 1)[1].splitlines()
    # conda packages, and the pip-only ones (a wheel conda-forge does not have) under "- pip:"
    entries = [line.strip()[2:] for line in lines if re.match(r"^(  |      )- [A-Za-z]", line)]
    return dict(parse(e) for e in entries if not e.startswith(("python", "pip")))


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_floors_not_exact_pins():
    for name, spec in pyproject_requirements().items():
        assert spec.startswith(">="), f"{name} should have a version floor (>=), got {spec!r}"


def test_ci_runs_the_readme_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)
