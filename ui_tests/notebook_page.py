"""What a learner does with a notebook in JupyterLab, done with Playwright, and what they would see.

Every action goes through JupyterLab's own user interface (menus, keyboard); the server's REST API
is used only to learn whether the kernel is idle.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from playwright.sync_api import Page

# What a Python error looks like once JupyterLab has rendered it (tracebacks and syntax errors).
ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+|^(\w+\.)*\w*(Error|Exception|Interrupt)\b",
    re.MULTILINE,
)
WIDGET_FAILURE_TEXT = ("Error displaying widget", "Loading widget...")

CELL_STATES_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')]
  .filter(cell => cell.classList.contains('jp-CodeCell'))
  .map(cell => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt')?.innerText ?? '').trim(),
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(output => output.innerText),
  }))"""

# One entry per rendered output (including those inside Output widgets); a slider's own readout is
# not an output, so moving a slider changes this only if the code it drives produces new output.
OUTPUT_SIGNATURE_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type]')]
  .map(output => output.getAttribute('data-mime-type') + ':' +
       ([...output.querySelectorAll('img')].map(img => img.src).join() || output.innerText))"""

# Scroll the notebook to its top; return how many more pixels of height would show all of its cells
# (JupyterLab pads the end of a notebook so its last cell can scroll up: that padding is left out).
SCROLL_TO_TOP_JS = """() => {
  const scroller = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  const cells = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  if (!scroller || !cells.length) return 0;
  scroller.scrollTop = 0;
  const contentBottom = cells[cells.length - 1].getBoundingClientRect().bottom;
  return Math.max(0, Math.ceil(contentBottom - scroller.getBoundingClientRect().bottom) + 40);
}"""


@dataclass
class CodeCell:
    """A code cell as JupyterLab shows it: its prompt ("[3]:", "[*]:", "[ ]:") and stderr outputs."""

    prompt: str
    stderr: list[str]

    @property
    def execution_count(self) -> int | None:
        match = re.fullmatch(r"\[(\d+)\]:", self.prompt)
        return int(match.group(1)) if match else None

    @property
    def is_running(self) -> bool:
        return self.prompt == "[*]:"

    @property
    def errors(self) -> list[str]:
        return [text for text in self.stderr if ERROR_TEXT.search(text)]


def code_cells(page: Page) -> list[CodeCell]:
    return [CodeCell(c["prompt"], c["stderr"]) for c in page.evaluate(CELL_STATES_JS)]


def output_signature(page: Page) -> list[str]:
    return page.evaluate(OUTPUT_SIGNATURE_JS)


def run_menu_command(page: Page, menu: str, command: str) -> None:
    """Click ``menu`` in the menu bar, then the item that runs JupyterLab command ``command``."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def load_jupyterlab(page: Page, base_url: str, token: str, workspace: str) -> None:
    """Load JupyterLab in a fresh, empty workspace."""
    page.goto(f"{base_url}/lab/workspaces/{workspace}?reset&token={token}")
    page.wait_for_selector(".jp-LabShell .lm-MenuBar-item", timeout=60_000)


def open_notebook(page: Page, path: str) -> None:
    """File > Open from Path..., then wait for the notebook's cells."""
    run_menu_command(page, "File", "filebrowser:open-path")
    page.locator(".jp-Dialog input").fill(path)
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=60_000)
    # Opening from a path shows the file browser; fold it away, the screenshots are about the notebook.
    open_sidebar_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if open_sidebar_tab.count():
        open_sidebar_tab.click()


def close_notebook(page: Page) -> None:
    """File > Close and Shut Down Notebook, and confirm (unsaved outputs are dropped without asking)."""
    run_menu_command(page, "File", "filemenu:close-and-cleanup")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(".jp-NotebookPanel", state="detached", timeout=20_000)


def wait_until(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def fail_on_dialog(page: Page) -> None:
    """A dialog (kernel died, pick a kernel, ...) blocks the learner; report it instead of waiting."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        text = " ".join(dialog.first.inner_text().split())
        raise AssertionError(f"JupyterLab shows a dialog: {text!r}")


def wait_for_idle_run(page: Page, kernel_is_idle, timeout: float) -> list[CodeCell]:
    """Wait until some cell has run, none is queued or running, and the kernel has stayed idle
    for two polls in a row (a cell's output can still arrive right after its prompt updates)."""
    quiet_polls = 0

    def settled():
        nonlocal quiet_polls
        fail_on_dialog(page)
        cells = code_cells(page)
        started = any(cell.prompt not in ("", "[ ]:") for cell in cells)
        busy = any(cell.is_running for cell in cells) or not kernel_is_idle()
        quiet_polls = quiet_polls + 1 if started and not busy else 0
        return cells if quiet_polls >= 2 else None

    try:
        return wait_until(settled, timeout, "the notebook to finish running")
    except TimeoutError as error:
        prompts = [cell.prompt or "<no prompt>" for cell in code_cells(page)]
        raise TimeoutError(f"{error}; kernel idle: {kernel_is_idle()}; prompts: {prompts}") from None


def widget_failures(page: Page) -> list[str]:
    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
    return [failure for failure in WIDGET_FAILURE_TEXT if failure in text]


def slider_readout(handle) -> str:
    """The value the slider shows next to it (aria-valuenow is rounded to one decimal)."""
    return handle.evaluate("h => h.closest('.widget-slider').querySelector('.widget-readout').innerText")


def move_slider_changes_output(page: Page, handle, kernel_is_idle, timeout: float = 30.0) -> bool:
    """Press an arrow key on a slider's handle (towards whichever end it is not at) and report
    whether any rendered output changed once the kernel is idle again."""
    before = output_signature(page)
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    shown_before = slider_readout(handle)
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    wait_until(lambda: slider_readout(handle) != shown_before, 10, "the slider to move")
    try:
        wait_until(lambda: kernel_is_idle() and output_signature(page) != before, timeout, "new output")
    except TimeoutError:
        return False
    return True


def screenshot_whole_notebook(page: Page, path, max_height: int = 14_000) -> None:
    """Make the window tall enough to show the whole notebook (JupyterLab scrolls inside its own
    panel, so a full-page screenshot would show one screenful), take the picture, restore it."""
    viewport = page.viewport_size
    hidden = page.evaluate(SCROLL_TO_TOP_JS)
    page.set_viewport_size({"width": viewport["width"], "height": min(viewport["height"] + hidden, max_height)})
    page.wait_for_timeout(500)
    page.evaluate(SCROLL_TO_TOP_JS)
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
