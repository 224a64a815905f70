"""Fixtures for the browser test: a temporary copy of the course, a private JupyterLab serving it,
and headless Chromium (Debian's /usr/bin/chromium; Playwright never downloads a browser here)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lab_server import LabServer
from notebook_page import load_jupyterlab

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# The library is left out so that notebooks use the installed kit (and its warm Numba cache).
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "nutshell_lib", "site", "ui-screenshots", "build", "*.egg-info",
    "__pycache__", ".ipynb_checkpoints", ".hypothesis", ".whl",
)


def pytest_addoption(parser):
    group = parser.getgroup("ui", "browser test of the course in JupyterLab")
    group.addoption("--course", default=str(ROOT), help="course root to copy and serve (default: this repository)")
    group.addoption("--notebook-dirs", default="notebooks,exercises", help="comma-separated folders to test")
    group.addoption("--screenshots", default=str(ROOT / "ui-screenshots"), help="where screenshots go")
    group.addoption("--notebook-timeout", type=float, default=300.0, help="seconds one notebook may run")


def course_notebooks(config) -> list[str]:
    course = Path(config.getoption("--course"))
    found = []
    for folder in config.getoption("--notebook-dirs").split(","):
        for path in sorted((course / folder.strip()).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(path.relative_to(course).as_posix())
    return found


def pytest_generate_tests(metafunc):
    if "notebook_path" in metafunc.fixturenames:
        paths = course_notebooks(metafunc.config)
        metafunc.parametrize("notebook_path", paths, ids=paths)


@pytest.fixture(scope="session")
def all_notebooks(pytestconfig) -> list[str]:
    return course_notebooks(pytestconfig)


@pytest.fixture(scope="session")
def notebook_timeout(pytestconfig) -> float:
    return pytestconfig.getoption("--notebook-timeout")


@pytest.fixture(scope="session")
def course_copy(pytestconfig, tmp_path_factory) -> Path:
    """A throwaway copy of the course: running and saving notebooks must not touch the repository."""
    copy = tmp_path_factory.mktemp("ui") / "course"
    shutil.copytree(pytestconfig.getoption("--course"), copy, ignore=NOT_COPIED)
    return copy


@pytest.fixture(scope="session")
def lab(course_copy, tmp_path_factory):
    state = tmp_path_factory.mktemp("jupyter")
    server = LabServer(root_dir=course_copy, state_dir=state / "dirs", log_path=state / "jupyterlab.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        print(f"\nJupyterLab log: {server.log_path}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for all notebooks, so JupyterLab's scripts are cached after the first page."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context
    finally:
        context.close()


LAB_PAGE_BROKEN = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.session.stash[LAB_PAGE_BROKEN] = True
    return report


@pytest.fixture(scope="session")
def lab_pages(browser_context, lab):
    """JupyterLab loaded once and reused from notebook to notebook (loading it takes seconds)."""
    pages = []

    def current():
        if not pages or pages[-1].is_closed():
            pages.append(browser_context.new_page())
            load_jupyterlab(pages[-1], lab.base_url, lab.token, workspace=f"ui-test-{len(pages)}")
        return pages[-1]

    yield current
    for page in pages:
        page.close()


@pytest.fixture
def page(lab_pages, request):
    """The shared JupyterLab page; after a failed test it is thrown away, so that whatever state
    the failure left (a dialog, a half-run notebook) cannot spill into the next notebook."""
    request.session.stash[LAB_PAGE_BROKEN] = False
    page = lab_pages()
    yield page
    if request.session.stash[LAB_PAGE_BROKEN]:
        page.close()


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    directory = Path(pytestconfig.getoption("--screenshots"))
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory
