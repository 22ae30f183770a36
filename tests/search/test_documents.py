"""Document-level ranking from item evidence."""

import pytest

from assistant.records import Hit
from assistant.search.documents import rank_documents


def test_evidence_spread_over_items_adds_up_but_one_strong_item_still_counts(chunks):
    by_id = {c.chunk_id: c for c in chunks}
    scores = {"law:0": 0.9, "zl:0": 0.7, "zl:1": 0.6, "zl:2": 0.5, "fs:0": 0.2}
    hits = [Hit(by_id[cid], s) for cid, s in scores.items()]
    ranked = rank_documents(hits, decay=0.5)
    assert [d.meta.doc_id for d in ranked] == ["zl", "law", "fs"]
    assert ranked[0].score == pytest.approx(0.7 + 0.3 + 0.125)
    assert [h.chunk.chunk_id for h in ranked[0].hits] == ["zl:0", "zl:1", "zl:2"]
    assert [d.meta.doc_id for d in rank_documents(hits, decay=0.0)][:2] == ["law", "zl"]
    with pytest.raises(ValueError, match="decay"):
        rank_documents(hits, decay=2)
