"""Every course notebook, run the way a learner runs it: JupyterLab in a browser, Run > Run All Cells.

Run with ``make test-ui``. The notebook files (read with nbformat) are the oracle for what should
appear on screen: which cells must get an execution count, which may raise, whether widgets show.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from lab_server import KERNEL_NAME
from notebook_page import (
    close_notebook,
    code_cells,
    fail_on_dialog,
    move_slider_changes_output,
    open_notebook,
    run_menu_command,
    screenshot_whole_notebook,
    wait_for_idle_run,
    wait_until,
    widget_failures,
)

WIDGET_CODE = re.compile(r"\bipywidgets\b|\binteract(ive|_manual)?\b|\btqdm\.(auto|notebook)\b")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SLIDER_HANDLES = ".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider .noUi-handle[role=slider]"
SLIDERS_TO_TRY = 3
SETTINGS_THAT_MATTER = [
    ("@jupyterlab/docmanager-extension:plugin", "autosave", False),
    ("@jupyterlab/notebook-extension:tracker", "windowingMode", "none"),
]


def kernelspec_name(notebook_file: Path) -> str | None:
    return nbformat.read(notebook_file, as_version=4).metadata.get("kernelspec", {}).get("name")


def expected_cells(notebook_file: Path) -> list[dict]:
    """For each code cell: whether JupyterLab executes it (it skips blank ones) and may raise."""
    notebook = nbformat.read(notebook_file, as_version=4)
    return [
        {
            "source": cell.source,
            "runs": bool(cell.source.strip()),
            "may_raise": "raises-exception" in cell.metadata.get("tags", []),
        }
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def uses_widgets(notebook_file: Path) -> bool:
    notebook = nbformat.read(notebook_file, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    stored_widget_output = any(WIDGET_MIME in output.get("data", {}) for cell in code for output in cell.outputs)
    return stored_widget_output or any(WIDGET_CODE.search(cell.source) for cell in code)


def first_line(source: str) -> str:
    return source.strip().splitlines()[0][:80] if source.strip() else "<blank>"


def test_course_has_notebooks(all_notebooks):
    assert all_notebooks, "no notebooks found: check --course and --notebook-dirs"


def test_lab_offers_only_the_kit_kernel_and_has_the_widget_extension(lab, page):
    specs = lab.kernelspecs()["kernelspecs"]
    assert list(specs) == [KERNEL_NAME]
    assert specs[KERNEL_NAME]["spec"]["argv"][0] == sys.executable
    extensions = page.evaluate(
        "JSON.parse(document.getElementById('jupyter-config-data').textContent).federated_extensions.map(e => e.name)"
    )
    assert "@jupyter-widgets/jupyterlab-manager" in extensions


def test_lab_runs_with_the_test_settings(lab):
    """Autosave off (nothing is written back, not even to the copy); every cell in the page."""
    for plugin, key, value in SETTINGS_THAT_MATTER:
        schema = lab.api(f"/lab/api/settings/{plugin}")["schema"]
        assert schema["properties"][key]["default"] == value, (plugin, key)


def test_notebook_runs_in_jupyterlab(notebook_path, lab, course_copy, page, screenshot_dir, notebook_timeout):
    notebook_file = course_copy / notebook_path
    assert kernelspec_name(notebook_file) == KERNEL_NAME, (
        f"{notebook_path}: metadata.kernelspec.name is {kernelspec_name(notebook_file)!r}, so JupyterLab "
        f"asks the learner to pick a kernel; make it {KERNEL_NAME!r} (the kit's environment)"
    )
    shot = screenshot_dir / (notebook_path.replace("/", "__").removesuffix(".ipynb") + ".png")
    try:
        run_like_a_learner(page, lab, notebook_path, notebook_file, notebook_timeout, shot)
    except Exception:
        screenshot_whole_notebook(page, shot.with_name(shot.stem + "__FAILED.png"))
        raise
    finally:
        # Whatever happened, this notebook's kernel must not outlive its test.
        session = lab.session_for(notebook_path)
        if session:
            lab.api(f"/api/sessions/{session['id']}", method="DELETE")


def run_like_a_learner(page, lab, notebook_path: str, notebook_file: Path, timeout: float, shot: Path) -> None:
    expected = expected_cells(notebook_file)
    open_notebook(page, notebook_path)

    def kernel_started():
        fail_on_dialog(page)
        session = lab.session_for(notebook_path)
        return session if session and session["kernel"]["execution_state"] == "idle" else None

    session = wait_until(kernel_started, 60, "the notebook's kernel to start")
    assert session["kernel"]["name"] == KERNEL_NAME
    kernel_url = f"/api/kernels/{session['kernel']['id']}"

    def kernel_is_idle() -> bool:
        return lab.api(kernel_url)["execution_state"] == "idle"

    # Stored outputs carry execution counts; clear them so every count seen below is fresh.
    run_menu_command(page, "Edit", "editmenu:clear-all")
    wait_until(lambda: all(cell.execution_count is None for cell in code_cells(page)), 10, "cleared outputs")
    run_menu_command(page, "Run", "runmenu:run-all")
    cells = wait_for_idle_run(page, kernel_is_idle, timeout)
    screenshot_whole_notebook(page, shot)

    assert len(cells) == len(expected), "JupyterLab shows a different number of code cells than the file has"
    problems = [*missed_runs(cells, expected), *unexpected_errors(cells, expected)]
    assert not problems, f"{notebook_path} (screenshot {shot}):\n" + "\n".join(problems)

    if uses_widgets(notebook_file):
        page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea .jupyter-widgets", timeout=30_000)
        wait_until(lambda: not widget_failures(page), 30, "widgets to render")
        check_a_slider_drives_output(page, kernel_is_idle, expected, notebook_path, shot)
    close_notebook(page)


def missed_runs(cells, expected) -> list[str]:
    """A fresh kernel running every non-blank cell in order numbers them 1, 2, 3, ..."""
    problems, run_number = [], 0
    for index, (seen, wanted) in enumerate(zip(cells, expected)):
        if wanted["runs"]:
            run_number += 1
            if seen.execution_count != run_number:
                where = f"code cell {index + 1} ({first_line(wanted['source'])!r})"
                problems.append(f"{where}: prompt {seen.prompt!r}, expected [{run_number}]:")
    return problems


def unexpected_errors(cells, expected) -> list[str]:
    return [
        f"code cell {index + 1} ({first_line(wanted['source'])!r}) shows an error:\n{seen.errors[0][-1500:]}"
        for index, (seen, wanted) in enumerate(zip(cells, expected))
        if seen.errors and not wanted["may_raise"]
    ]


def check_a_slider_drives_output(page, kernel_is_idle, expected, notebook_path: str, shot: Path) -> None:
    """Move sliders one at a time until one changes an output; keep pictures of its cell before
    and after, for a person to check that the change makes sense."""
    handles = page.locator(SLIDER_HANDLES)
    tried = min(handles.count(), SLIDERS_TO_TRY)
    if tried == 0:
        return
    for index in range(tried):
        cell = handles.nth(index).locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')]")
        cell.screenshot(path=shot.with_name(shot.stem + "__slider_before.png"))
        if move_slider_changes_output(page, handles.nth(index), kernel_is_idle):
            cell.screenshot(path=shot.with_name(shot.stem + "__slider_after.png"))
            break
    else:
        raise AssertionError(f"{notebook_path}: moving any of the first {tried} sliders changed no output")
    errors = unexpected_errors(code_cells(page), expected)
    assert not errors, f"{notebook_path}: after moving a slider, " + "\n".join(errors)
