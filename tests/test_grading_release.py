"""`nutshell release`: exercises/ is generated from solutions/, deterministically, and kept fresh."""
import ast
from pathlib import Path

import nbformat
import pytest

from nutshell_lib.cli import main as nutshell
from nutshell_lib.grading.release import exercise_notebook, released_files, stale_files, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
TOPICS = ["01_sigmoid", "02_perceptron", "03_backprop", "04_conv", "05_pool", "06_cnn", "07_inception", "08_lstm",
          "09_training", "13_transfer"]


def test_one_solution_and_one_exercise_per_topic():
    assert sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")) == TOPICS
    assert sorted(p.stem for p in EXERCISES.glob("*.ipynb")) == TOPICS


def test_exercises_are_not_stale():
    """Regenerated in memory, every exercise must equal the committed file byte for byte."""
    assert stale_files(SOLUTIONS, EXERCISES) == [], "exercises/ is stale: run `nutshell release`"


def test_staleness_is_detected(tmp_path):
    nutshell(["release", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)])
    assert stale_files(SOLUTIONS, tmp_path) == []
    edited = tmp_path / "03_backprop.ipynb"
    edited.write_bytes(edited.read_bytes().replace(b"YOUR CODE HERE", b"my answer", 1))
    (tmp_path / "99_orphan.ipynb").write_bytes((tmp_path / "01_sigmoid.ipynb").read_bytes())
    (tmp_path / "05_pool.ipynb").unlink()
    assert stale_files(SOLUTIONS, tmp_path) == ["03_backprop.ipynb", "05_pool.ipynb", "99_orphan.ipynb"]
    assert nutshell(["release", "--check", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]) == 1
    nutshell(["release", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)])
    assert nutshell(["release", "--check", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]) == 0
    assert not (tmp_path / "99_orphan.ipynb").exists()


def test_release_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        nutshell(["release", "--solutions", str(SOLUTIONS), "--exercises", str(folder)])
    assert released_files(SOLUTIONS) == released_files(SOLUTIONS)
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes()


def functions(notebook) -> dict[str, tuple[str, str | None]]:
    """name -> (signature line, docstring) of every top-level def in the notebook."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    found[node.name] = (ast.unparse(node.args), ast.get_docstring(node))
    return found


@pytest.mark.parametrize("topic", TOPICS)
def test_exercise_keeps_signatures_and_docstrings_but_no_solution(topic):
    solution = nbformat.read(SOLUTIONS / f"{topic}.ipynb", as_version=4)
    exercise = nbformat.read(EXERCISES / f"{topic}.ipynb", as_version=4)
    assert functions(exercise) == functions(solution)
    assert all(doc for _, doc in functions(exercise).values()), "every function states its shapes"
    text = nbformat.writes(exercise)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    regions = nbformat.writes(solution).count("# BEGIN SOLUTION")
    stubs = sum(cell.source.count("raise NotImplementedError") for cell in exercise.cells if cell.cell_type == "code")
    assert regions >= 2 and stubs == regions
    assert exercise.metadata["nutshell"]["exercise"] == topic


@pytest.mark.parametrize("topic", TOPICS)
def test_solutions_are_stored_executed_and_exercises_cleared(topic):
    solution = nbformat.read(SOLUTIONS / f"{topic}.ipynb", as_version=4)
    exercise = nbformat.read(EXERCISES / f"{topic}.ipynb", as_version=4)
    checks = [cell for cell in solution.cells if cell.cell_type == "code" and "check(" in cell.source]
    assert checks and all(cell.outputs for cell in checks)
    printed = "".join(o.get("text", "") for cell in checks for o in cell.outputs)
    assert "FAILED" not in printed and "not implemented" not in printed
    assert not any(o.output_type == "error" for cell in solution.cells if cell.cell_type == "code" for o in cell.outputs)
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None and "execution" not in cell.metadata


def test_strip_solutions_keeps_indentation_and_names_the_function():
    source = 'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\nprint(f)'
    stripped, regions = strip_solutions(source, "cell")
    assert regions == 1
    assert stripped == ('def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n'
                        '    raise NotImplementedError("write `f` here")\n\nprint(f)')


@pytest.mark.parametrize("source, message", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1", "without END"),
    ("def f():\n    return 1\n    # END SOLUTION", "without BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION", "inside another"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "inside a function"),
])
def test_malformed_markers_are_refused(source, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(source, "cell")


def test_a_solution_without_markers_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f():\n    return 1")])
    with pytest.raises(ValueError, match="no '# BEGIN SOLUTION'"):
        exercise_notebook(notebook, "x.ipynb")
