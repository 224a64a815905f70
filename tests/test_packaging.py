"""The two install routes (pip via pyproject.toml, conda via environment.yml) must agree, and
declare what the library imports."""
import ast
import importlib.metadata
import re
import sys
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
    extras = project["optional-dependencies"]
    requirements = project["dependencies"] + extras["course"] + extras["test"]
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


def third_party_imports() -> set[str]:
    """Top-level names of the modules nutshell_lib imports that are neither stdlib nor itself."""
    names = set()
    for path in (ROOT / "nutshell_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "nutshell_lib"}


def test_every_import_of_the_library_is_a_runtime_dependency():
    runtime = {parse(r)[0] for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module in sorted(third_party_imports()):
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not providers & runtime:
            undeclared[module] = sorted(providers)
    assert not undeclared, f"imported by nutshell_lib but not in [project] dependencies: {undeclared}"


def test_version_comes_from_the_package_metadata():
    import nutshell_lib

    assert nutshell_lib.__version__ == importlib.metadata.version("nutshell-lib")


def test_constraints_pin_every_requirement_at_or_above_its_floor():
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "tools" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, pinned = line.split("==")
            pins[name.lower().replace("_", "-")] = pinned
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for requirement in map(Requirement, project["dependencies"] + extras["course"] + extras["test"]):
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"tools/constraints.txt does not pin {name}: run make constraints"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"tools/constraints.txt pins {name}=={pins[name]}, outside {requirement.specifier}"
