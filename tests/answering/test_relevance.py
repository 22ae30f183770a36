from answer_records import SHUANGJIAN_22, ZHUANGLANG, make_chunk, make_hit

from assistant.answering.relevance import THRESHOLD, agreement, assess


def test_question_whose_terms_a_passage_carries_is_found(shuangjian_hits):
    rel = assess("各地如何落实双减", shuangjian_hits)
    assert rel.found
    assert rel.coverage == 1.0
    assert rel.best == 0


def test_question_with_an_uncovered_key_term_is_not_found(shuangjian_hits):
    rel = assess("高校科研经费如何管理", shuangjian_hits)
    assert not rel.found
    assert rel.score < THRESHOLD


def test_no_hits_is_not_found():
    assert not assess("各地如何落实双减", []).found


def test_agreement_counts_hits_both_retrievers_ranked_high():
    chunk = make_chunk(ZHUANGLANG, SHUANGJIAN_22)
    both = make_hit(chunk, 1)
    dense_only = make_hit(chunk, 2, bm25=None)
    far = make_hit(chunk, 3, bm25=45)
    hits = [both, dense_only, far]
    hits[1] = type(dense_only)(chunk=chunk, score=0.1, ranks={"dense": 2, "bm25": None})
    assert agreement(hits) == 1 / 3
    assert agreement([both, both]) == 1.0
    assert agreement([]) == 0.0


def test_agreement_weight_adds_to_the_score_when_set(shuangjian_hits):
    question = "学校作业设计与减负"
    alone = [
        type(h)(chunk=h.chunk, score=h.score, ranks={"dense": 1, "bm25": None})
        for h in shuangjian_hits
    ]
    weighted = assess(question, shuangjian_hits, agreement_weight=0.5)
    assert weighted.score > assess(question, alone, agreement_weight=0.5).score
    assert assess(question, shuangjian_hits, agreement_weight=0.0).score == weighted.coverage
