from assistant.answering.terms import coverage, query_terms


def words(question: str) -> list[str]:
    return [t.text for t in query_terms(question)]


def test_question_and_frame_words_are_dropped():
    assert words("各地如何落实双减") == ["双减"]
    assert words("高校科研经费如何管理") == ["高校", "科研经费", "管理"]


def test_traditional_question_gives_the_simplified_terms():
    assert words("各地如何落實雙減？") == ["双减"]


def test_a_question_of_only_generic_words_keeps_them():
    assert words("如何落实政策") != []


def test_rare_terms_weigh_more_than_common_ones():
    weights = {t.text: t.weight for t in query_terms("高校科研经费如何管理")}
    assert weights["科研经费"] > weights["高校"] > weights["管理"]


def test_coverage_matches_across_scripts_and_weighs_terms():
    terms = query_terms("高校科研经费如何管理")
    assert coverage(terms, "高校科研经费管理辦法") == 1.0
    partial = coverage(terms, "高等学校的经费管理")  # neither 高校 nor 科研经费 occurs
    assert 0 < partial < 0.3
    assert coverage(query_terms("落实双减"), "繼續做好“雙減”工作") == 1.0


def test_cap_lets_a_long_pasted_sentence_be_covered_by_its_specific_words():
    terms = query_terms("学校食堂实行每日跟进、每周检查、每月评估、每学期考核")
    passage = "学校食堂要建立每日检查、每周评估、每学期考核制度"
    uncapped = coverage(terms, passage)
    capped = coverage(terms, passage, cap=35.0)
    assert capped > uncapped
    # a short question is unaffected: its total weight is below the cap
    short = query_terms("高校科研经费如何管理")
    assert coverage(short, "高校经费管理", cap=35.0) == coverage(short, "高校经费管理")
