"""The form an answer must take, from how the question is asked."""

from assistant.answering.question_form import (
    answer_form,
    asks_quantity,
    is_yes_no,
    states_number,
)
from assistant.answering.terms import query_terms


def test_questions_asking_for_a_number_or_a_permission_are_recognised():
    assert asks_quantity("学生每天在校最多几小时") and asks_quantity("师生比例是多少")
    assert not asks_quantity("校外培训怎么治理")
    assert is_yes_no("学校要不要开设健康教育课") and is_yes_no("老師可以打學生嗎？")


def test_answer_form_checks_the_sentences_that_carry_the_question():
    q = "学生每天体育锻炼时间不少于多长"
    terms = query_terms(q)
    assert answer_form(q, terms, ["保证学生每天体育锻炼时间不少于一小时。"]) == 1.0
    assert answer_form(q, terms, ["学校应当重视学生体育锻炼。"]) == -1.0
    q2 = "学校可以收补课费吗"
    assert answer_form(q2, query_terms(q2), ["学校不得违规收取补课费。"]) == 1.0
    assert answer_form("校外培训怎么治理", [], ["任何句子。"]) == 0.0


def test_a_sentence_states_a_figure_with_a_digit_or_a_counted_unit_not_an_article_number():
    assert states_number("保证学生每天体育锻炼时间不少于一小时。")
    assert states_number("每5000人口设置一所幼儿园") and states_number("比例不低于百分之十")
    assert not states_number("依照本法第三条的规定执行。")
