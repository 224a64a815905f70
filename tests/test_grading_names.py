"""A question names its outputs once, in ``Question.outputs``: ``judge_case`` hands ``diagnose`` the
reference's and the learner's outputs keyed by those names, each mistake refers to outputs by name,
and a name the question does not have is an error when the question is defined (or, for an output
that a mistake's test looks at without naming it, at its first use), naming the question, the
mistake and the name."""
import copy
import dataclasses
from functools import partial

import numpy as np
import pytest

from nutshell_lib.grading import diagnoses
from nutshell_lib.grading import reference as ref
from nutshell_lib.grading.child import flatten_outputs
from nutshell_lib.grading.feedback import judge_case
from nutshell_lib.grading.questions import PUBLIC_SEED, PUBLIC_STREAM, QUESTIONS, Question, draw_cases

DIAGNOSED = [q.name for q in QUESTIONS.values() if getattr(q, "diagnose", None) is not None]


def toy_question(*mistakes, outputs=("da", "db")) -> Question:
    """matmul_backward's reference under another name, with the given mistakes."""
    return Question("toy_backward", 1, lambda rng: (), ref.matmul_backward, "the hint", gradient=True,
                    outputs=outputs, diagnose=diagnoses.recognise(*mistakes))


def toy_case():
    """A case of (dout, a, b) with three different sizes, its right (da, db), and da transposed."""
    rng = np.random.default_rng(5)
    args = (rng.normal(size=(2, 5)), rng.normal(size=(2, 3)), rng.normal(size=(3, 5)))
    da, db = ref.matmul_backward(*args)
    return args, [da, db], [da.T.copy(), db]


MISNAMED = [  # each refers to "dA", which toy_question does not have
    diagnoses.transposed("dA"),
    diagnoses.same_as("dA", lambda dout, a, b: dout @ b, "dA is dout @ b: transpose b."),
    diagnoses.when(("db", "dA"), lambda args, e, a: False, "never said."),
    diagnoses.off_by_batch("dA", lambda args: len(args[0])),
    diagnoses.sign_flipped("dA"),
    diagnoses.padding_not_cropped("dA", lambda args: 1),
    diagnoses.assigned_not_added("dA", partial(np.zeros_like)),
    diagnoses.non_finite("dA", "never said"),
]


@pytest.mark.parametrize("mistake", MISNAMED, ids=lambda mistake: mistake.label.split("(")[0])
def test_a_mistake_that_names_an_output_the_question_lacks_is_refused_when_the_question_is_defined(mistake):
    with pytest.raises(ValueError) as error:
        toy_question(diagnoses.transposed("db"), mistake)
    message = str(error.value)
    assert message.startswith("question 'toy_backward': the mistake ")
    assert mistake.label in message and "refers to output 'dA'" in message and "(its outputs: da, db)" in message
    toy_question(diagnoses.transposed("db"), dataclasses.replace(mistake, reads=("da",)))  # rightly named: accepted


@pytest.mark.parametrize("name", DIAGNOSED)
def test_renaming_the_outputs_of_a_question_but_not_its_mistakes_is_refused(name):
    question = QUESTIONS[name]
    assert question.diagnose.question == name  # bound when defined
    assert {n for mistake in question.diagnose.mistakes for n in mistake.reads} <= set(question.outputs)
    renamed = tuple(f"{output}_renamed" for output in question.outputs)
    with pytest.raises(ValueError, match=rf"^question '{name}': the mistake .* refers to output '\w+', which the "
                                         r"question does not have \(its outputs: .*_renamed"):
        dataclasses.replace(question, outputs=renamed)


def test_judge_case_hands_each_mistake_the_outputs_it_names_by_the_questions_names():
    seen = []

    def records(args, expected, actual):
        seen.append((dict(expected), dict(actual)))
        return False

    question = toy_question(diagnoses.when("db", records, "never said."), diagnoses.transposed("da"))
    args, expected, actual = toy_case()
    verdict = judge_case(question, 1, args, expected, actual)
    assert not verdict.passed and verdict.diagnosis.startswith("da is the transpose of the right answer")
    [(expected_seen, actual_seen)] = seen
    assert set(expected_seen) == set(actual_seen) == {"db"}  # only the output it names
    assert expected_seen["db"].dtype == np.float64 and np.array_equal(expected_seen["db"], expected[1])
    assert np.array_equal(actual_seen["db"], actual[1])


def test_the_names_decide_which_output_a_mistake_looks_at_not_the_order():
    args, (da, db), _ = toy_case()
    # The same arrays under swapped names: "db" is now the first output, and its transpose is recognised there.
    question = toy_question(diagnoses.transposed("db"), outputs=("db", "da"))
    assert judge_case(question, 1, args, [da, db], [da.T.copy(), db]).diagnosis.startswith("db is the transpose")
    assert judge_case(question, 1, args, [da, db], [da, db.T.copy()]).diagnosis is None


def test_a_different_number_of_outputs_gets_no_diagnosis():
    def fails(args, expected, actual):
        raise AssertionError("a mistake was asked about outputs that cannot be named")

    question = toy_question(diagnoses.when(("da", "db"), fails, "never said."))
    args, expected, actual = toy_case()
    for returned in (actual[:1], actual + [actual[0]]):
        verdict = judge_case(question, 1, args, expected, returned)
        assert not verdict.passed and verdict.diagnosis is None and "returned" in verdict.line


def test_a_condition_that_looks_at_an_output_it_does_not_name_fails_at_its_first_use():
    question = toy_question(diagnoses.when("da", lambda args, e, a: a["db"].ndim == 2, "db is a matrix."))
    args, expected, actual = toy_case()
    with pytest.raises(diagnoses.UndeclaredOutput) as error:
        judge_case(question, 1, args, expected, actual)
    message = str(error.value)
    assert message.startswith("question 'toy_backward': the mistake when('da', <lambda>: 'db is a matrix.')")
    assert "looks at output 'db', which the mistake does not name (it names da)" in message


def test_a_diagnose_not_built_from_named_mistakes_is_refused():
    with pytest.raises(TypeError, match="question 'toy_backward': diagnose must be built with diagnoses.recognise"):
        Question("toy_backward", 1, lambda rng: (), ref.matmul_backward, "the hint", outputs=("da", "db"),
                 diagnose=lambda args, expected, actual: None)
    with pytest.raises(TypeError, match="got function"):
        diagnoses.recognise(lambda args, expected, actual: None)
    for names in ((), ["da"], ("da", 1), 0):
        with pytest.raises(TypeError, match="a mistake names its outputs with a string or a tuple of strings"):
            diagnoses.when(names, lambda args, e, a: True, "never said.")


@pytest.mark.parametrize("name", [q.name for q in QUESTIONS.values() if isinstance(q, Question) and q.outputs])
def test_every_reference_returns_as_many_outputs_as_its_question_names(name):
    """The names are how feedback and diagnoses tell the outputs apart: a reference that returned
    another number of arrays would leave them unnamed and every mistake unrecognised."""
    question = QUESTIONS[name]
    args = draw_cases(question, PUBLIC_SEED, PUBLIC_STREAM)[0]
    assert len(flatten_outputs(question.reference(*copy.deepcopy(args)))) == len(question.outputs)
