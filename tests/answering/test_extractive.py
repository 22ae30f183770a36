from answer_records import SHUANGJIAN_22, ZHUANGLANG, make_chunk, make_hit

from assistant.answering.extractive import (
    WITHHELD,
    answer_sentences,
    extractive_answer,
    select_evidence,
    split_sentences,
)
from assistant.answering.relevance import assess
from assistant.answering.terms import query_terms


def test_split_sentences_keeps_closing_quotes():
    assert split_sentences("一是落实“双减”。二是“五项管理”；三是课后服务！") == [
        "一是落实“双减”。",
        "二是“五项管理”；",
        "三是课后服务！",
    ]


def test_answer_groups_by_locality_and_document_and_cites_each_item(shuangjian_hits):
    question = "各地如何落实双减"
    ans = extractive_answer(question, shuangjian_hits, assess(question, shuangjian_hits))
    assert ans.found
    lines = ans.text.splitlines()
    assert "庄浪县《2023年全县教育工作要点》" in lines
    assert f"{WITHHELD}《2024年教育局工作計劃》" in lines
    assert any(
        line.startswith("- 六、推动全面育人有效落实 22.：严格落实“双减”政策。")
        and line.endswith("[1]")
        for line in lines
    )
    # the unrelated party-building item is not evidence for 双减
    assert "二十大" not in ans.text
    assert [c.n for c in ans.citations] == [1, 2]
    assert {c.hit.chunk.doc.doc_id for c in ans.citations} == {
        "001_a2a3b87c571a2f00",
        "004_48a2cbb17aecac52",
    }
    # citation [n] is citations[n-1], in order of appearance
    assert ans.text.index("[1]") < ans.text.index("[2]")
    assert ans.citations[1].hit.chunk.doc.region_withheld


def test_answer_picks_the_answer_bearing_sentences_not_the_whole_item(shuangjian_hits):
    question = "学校作业设计有什么要求"
    ans = extractive_answer(question, shuangjian_hits, assess(question, shuangjian_hits))
    assert "学校要将作业设计作为校本教研重点内容" in ans.text
    assert "遵循教育规律和学生成长规律" not in ans.text  # a sentence without the question's terms
    assert "22.严格落实“双减”政策：" in ans.text  # the item's topic line names the item


def test_sentences_keep_their_original_order():
    terms = query_terms("课后服务和作业")
    text = "一是加强课后服务。二是开展读书活动。三是减少作业总量。"
    picked = answer_sentences(terms, text)
    assert [s.text for s in picked] == ["一是加强课后服务。", "三是减少作业总量。"]


def test_groups_are_ordered_by_strength_of_evidence(shuangjian_hits):
    reordered = [shuangjian_hits[1], shuangjian_hits[0]]
    question = "各地如何落实双减"
    ans = extractive_answer(question, reordered, assess(question, reordered))
    assert ans.text.index(WITHHELD) < ans.text.index("庄浪县")


def test_evidence_excludes_weak_hits_and_caps_items_per_document(shuangjian_hits):
    terms = query_terms("各地如何落实双减")
    assert select_evidence(terms, shuangjian_hits) == shuangjian_hits[:2]
    many = [
        make_hit(make_chunk(ZHUANGLANG, f"{i}.落实双减第{i}项。", label=f"{i}.", ordinal=i), i)
        for i in range(1, 6)
    ]
    assert len(select_evidence(terms, many, max_per_doc=2)) == 2


def test_not_found_answer_says_so_and_cites_nothing(shuangjian_hits):
    question = "高校科研经费如何管理"
    ans = extractive_answer(question, shuangjian_hits, assess(question, shuangjian_hits))
    assert not ans.found
    assert ans.citations == []
    assert "没有涉及" in ans.text and "“科研经费”" in ans.text


def test_articles_of_one_file_are_told_apart(shuangjian_hits):
    from dataclasses import replace

    from answer_records import SHUANGJIAN_TRAD
    from answer_records import WITHHELD as DOC4

    second = replace(DOC4, doc_id=DOC4.doc_id + "#2")
    hits = [*shuangjian_hits[:2], make_hit(make_chunk(second, SHUANGJIAN_TRAD, label="4、"), 3)]
    question = "各地如何落实双减"
    text = extractive_answer(question, hits, assess(question, hits)).text
    assert f"{WITHHELD}《2024年教育局工作計劃》（第1篇）" in text
    assert f"{WITHHELD}《2024年教育局工作計劃》（第2篇）" in text
    assert "庄浪县《2023年全县教育工作要点》\n" in text  # unique titles stay unmarked


def test_a_sentence_repeated_within_a_document_is_cited_once(shuangjian_hits):
    repeat = make_hit(make_chunk(ZHUANGLANG, SHUANGJIAN_22, label="22.", ordinal=99), 3)
    hits = [*shuangjian_hits[:2], repeat]
    question = "各地如何落实双减"
    ans = extractive_answer(question, hits, assess(question, hits))
    assert len(ans.citations) == 2
    evidence = ans.text.split("\n\n", 1)[1]  # after the opening sentence
    assert evidence.count("严格落实“双减”政策。") == 1
