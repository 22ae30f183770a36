"""The answerability decision over hand-made hits: three outcomes from a logistic model."""

import json

import pytest
from answer_records import SHUANGJIAN_22, WITHHELD, ZHUANGLANG, make_chunk, make_hit

from assistant.answering.relevance import (
    FEATURES,
    MODEL_FILE,
    AnswerabilityModel,
    agreement,
    assess,
    load_model,
    save_model,
)
from assistant.reader_model import INT8_MAX_DIFF


def lexical_model(answer: float = 0.75, related: float = 0.5) -> AnswerabilityModel:
    """p rises with literal coverage; cut at ``answer`` (answered) and ``related``."""
    return AnswerabilityModel(
        features=("lexical",), mean=(0.0,), scale=(1.0,), weights=(20.0,), bias=-10.0,
        answer_threshold=answer, related_threshold=related, soft_floor=0.85,
    )  # fmt: skip


def test_question_whose_terms_a_passage_carries_is_answered(shuangjian_hits):
    rel = assess("各地如何落实双减", shuangjian_hits, model=lexical_model())
    assert rel.outcome == "answered" and rel.found
    assert rel.features["lexical"] == 1.0
    assert rel.best == 0


def test_partly_covered_question_is_related_and_an_uncovered_one_not_covered(shuangjian_hits):
    half = assess("双减与高校科研经费", shuangjian_hits, model=lexical_model(0.99, 0.01))
    assert 0.01 <= half.probability < 0.99
    assert half.outcome == "related" and not half.found
    none = assess("高校科研经费如何管理", shuangjian_hits, model=lexical_model(0.99, 0.01))
    assert none.outcome == "not_covered"


def test_no_hits_is_not_covered():
    rel = assess("各地如何落实双减", [], model=lexical_model())
    assert rel.outcome == "not_covered" and rel.probability == 0.0


def test_agreement_counts_hits_both_retrievers_ranked_high():
    chunk = make_chunk(ZHUANGLANG, SHUANGJIAN_22)
    both = make_hit(chunk, 1)
    far = make_hit(chunk, 3, bm25=45)
    dense_only = type(both)(chunk=chunk, score=0.1, ranks={"dense": 2, "bm25": None})
    assert agreement([both, dense_only, far]) == 1 / 3
    assert agreement([both, both]) == 1.0
    assert agreement([]) == 0.0


def test_every_feature_is_computed_and_the_gap_measures_how_the_best_stands_out(
    shuangjian_hits,
):
    rel = assess("各地如何落实双减", shuangjian_hits, model=lexical_model())
    assert set(rel.features) == set(FEATURES) - {"reader"}  # no reader given
    assert rel.features["dense"] == pytest.approx(0.89)  # make_hit: 0.9 - rank / 100
    assert rel.features["gap"] == pytest.approx(0.01)


FIGURE_QUESTION = "学生每天体育锻炼时间是多少"


def figure_model() -> AnswerabilityModel:
    """p rises with literal coverage and falls as a figure question loses coverage when only
    sentences stating a number count."""
    return AnswerabilityModel(
        features=("lexical", "figure"), mean=(0.0, 0.0), scale=(1.0, 1.0), weights=(10.0, 10.0),
        bias=-5.0, answer_threshold=0.5, related_threshold=0.3, soft_floor=0.9,
    )  # fmt: skip


def test_a_figure_question_is_answered_only_by_a_passage_that_states_the_figure():
    topic = "学校应当保证学生每天的体育锻炼时间，不得挤占。"
    figure = "学校应当保证学生每天体育锻炼时间不少于一小时。"
    no_figure = assess(
        FIGURE_QUESTION, [make_hit(make_chunk(ZHUANGLANG, topic), 1)], model=figure_model()
    )
    assert no_figure.features["lexical"] == 1.0  # the passage carries every term of the question
    assert no_figure.features["figure"] == -1.0  # … but no sentence of it states a number
    # not an answer, but the provision on the topic is shown as related (not "not covered")
    assert no_figure.probability < 0.01 and no_figure.outcome == "related"
    with_figure = [make_hit(make_chunk(ZHUANGLANG, topic), 1),
                   make_hit(make_chunk(WITHHELD, figure, ordinal=2), 2)]  # fmt: skip
    answered = assess(FIGURE_QUESTION, with_figure, model=figure_model())
    assert answered.features["figure"] == 0.0 and answered.outcome == "answered"
    off_topic = [make_hit(make_chunk(ZHUANGLANG, SHUANGJIAN_22), 1)]
    assert assess(FIGURE_QUESTION, off_topic, model=figure_model()).outcome == "not_covered"


def test_figure_is_zero_for_a_question_that_asks_for_no_figure():
    topic = "学校应当保证学生每天的体育锻炼时间，不得挤占。"
    rel = assess("学校要保证学生体育锻炼时间吗", [make_hit(make_chunk(ZHUANGLANG, topic), 1)])
    assert rel.features["figure"] == 0.0


def test_model_round_trips_through_its_file_and_refuses_unknown_features(tmp_path):
    path = tmp_path / "model.json"
    model = lexical_model()
    save_model(model, path)
    assert load_model(path) == model
    data = json.loads(path.read_text())
    data["features"] = ["lexical", "moon_phase"]
    with pytest.raises(ValueError, match="moon_phase"):
        AnswerabilityModel.from_dict(data)


def test_shipped_model_says_how_it_was_fitted():
    model = load_model(MODEL_FILE)
    assert set(model.features) <= set(FEATURES)
    assert model.related_threshold <= model.answer_threshold
    assert model.fitted.get("method")


def reader_model() -> AnswerabilityModel:
    return AnswerabilityModel(
        features=("dense", "reader"), mean=(0.9, -1.0), scale=(0.02, 1.0), weights=(1.0, 1.0),
        bias=0.0, answer_threshold=0.5, related_threshold=0.3, soft_floor=0.9,
    )  # fmt: skip


def test_without_a_reader_its_feature_counts_as_neutral_and_topic_ignores_it():
    model = reader_model()
    assert model.probability({"dense": 0.9}) == model.probability({"dense": 0.9, "reader": -1.0})
    low, high = {"dense": 0.92, "reader": -3.0}, {"dense": 0.92, "reader": 1.0}
    assert model.probability(low) < model.probability(high)
    assert model.topic_probability(low) == model.topic_probability(high)


@pytest.mark.slow
def test_the_reader_scores_the_top_passages(shuangjian_hits, answer_reader):
    question = "各地如何落实双减"
    rel = assess(question, shuangjian_hits, reader=answer_reader, model=reader_model())
    texts = [h.chunk.text for h in shuangjian_hits[:3]]
    assert rel.features["reader"] == pytest.approx(max(answer_reader.best(question, texts)))
    chunk_id, window = rel.reader_window
    (read,) = [h for h in shuangjian_hits[:3] if h.chunk.chunk_id == chunk_id]
    assert window in read.chunk.text
    # read alone it scores what it scored among the others (int8 activations are scaled per batch)
    (alone,) = answer_reader.best(question, [window])
    assert alone == pytest.approx(rel.features["reader"], abs=INT8_MAX_DIFF)
