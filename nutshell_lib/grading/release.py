"""``nutshell release``: write ``exercises/`` from the solution notebooks in ``solutions/``.

In a solution notebook, the lines a learner must write sit between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` (nbgrader's and otter-grader's markers), inside a function whose signature and
docstring stay outside the markers. The exercise gets, in their place, a ``raise
NotImplementedError`` with the same indentation; outputs, execution counts and run metadata are
cleared. The result depends only on the solution files, byte for byte, so a test can tell when
``exercises/`` is stale.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
FUNCTION = re.compile(r"^\s*def (\w+)\(")
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info", "nutshell")
KEPT_CELL_METADATA = ("tags",)


def strip_solutions(source: str, where: str) -> tuple[str, int]:
    """Replace every marked region with a stub; return the new source and the number of regions."""
    lines, inside, regions, function = [], False, 0, None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise ValueError(f"{where} line {number}: BEGIN SOLUTION inside another solution region")
            indent = begin.group(1)
            if not indent:
                raise ValueError(f"{where} line {number}: a solution region must sit inside a function, so "
                                 "that the unsolved exercise still runs from top to bottom")
            inside, regions = True, regions + 1
            what = f"`{function}`" if function else "this part"
            lines += [f"{indent}# YOUR CODE HERE", f'{indent}raise NotImplementedError("write {what} here")']
        elif END.match(line):
            if not inside:
                raise ValueError(f"{where} line {number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            lines.append(line)
            function = FUNCTION.match(line).group(1) if FUNCTION.match(line) else function
    if inside:
        raise ValueError(f"{where}: BEGIN SOLUTION without END SOLUTION")
    return "\n".join(lines), regions


def exercise_notebook(solution: nbformat.NotebookNode, where: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(solution)
    regions = 0
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            cell.source, found = strip_solutions(cell.source, f"{where} cell {number}")
            regions += found
            cell.outputs, cell.execution_count = [], None
        cell.metadata = {key: cell.metadata[key] for key in KEPT_CELL_METADATA if key in cell.metadata}
    if regions == 0:
        raise ValueError(f"{where} has no '# BEGIN SOLUTION' region: nothing to release")
    notebook.metadata = {key: notebook.metadata[key] for key in KEPT_NOTEBOOK_METADATA if key in notebook.metadata}
    return notebook


def render(notebook: nbformat.NotebookNode) -> bytes:
    """Stable JSON: nbformat's own layout (sorted keys, indent 1) and a final newline."""
    return (nbformat.writes(notebook, version=4).rstrip("\n") + "\n").encode()


def released_files(solutions: Path) -> dict[str, bytes]:
    """The exercise notebooks, by file name, that ``solutions`` produces (in memory)."""
    return {path.name: render(exercise_notebook(nbformat.read(str(path), as_version=4), path.name))
            for path in sorted(solutions.glob("*.ipynb"))}


def stale_files(solutions: Path, exercises: Path) -> list[str]:
    """Names in ``exercises`` that differ from what ``release`` would write, are missing, or are
    left over from a solution that no longer exists."""
    wanted = released_files(solutions)
    present = {path.name for path in exercises.glob("*.ipynb")}
    differ = [name for name, data in wanted.items()
              if name not in present or (exercises / name).read_bytes() != data]
    return sorted(differ + sorted(present - set(wanted)))


def release(solutions: Path, exercises: Path) -> list[str]:
    """Write every exercise; delete exercise notebooks whose solution is gone. Returns names written."""
    exercises.mkdir(parents=True, exist_ok=True)
    wanted = released_files(solutions)
    for name, data in wanted.items():
        (exercises / name).write_bytes(data)
    for orphan in sorted(set(p.name for p in exercises.glob("*.ipynb")) - set(wanted)):
        (exercises / orphan).unlink()
    return list(wanted)


def execute_in_place(path: Path, timeout: int = 120) -> None:
    """Run a solution notebook and store it with its outputs (solutions are kept executed)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in notebook.cells:  # execution timestamps would change the file on every run
        cell.metadata.pop("execution", None)
    path.write_bytes(render(notebook))


def main(args) -> int:
    solutions, exercises = Path(args.solutions), Path(args.exercises)
    if args.check:
        stale = stale_files(solutions, exercises)
        for name in stale:
            print(f"stale: {exercises / name} (run `nutshell release`)")
        return 1 if stale else 0
    if args.execute:
        for path in sorted(solutions.glob("*.ipynb")):
            print(f"executing {path}")
            execute_in_place(path)
    for name in release(solutions, exercises):
        print(f"wrote {exercises / name}")
    return 0
