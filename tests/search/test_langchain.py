"""The LangChain retriever over a real seed index."""

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant.config import Settings
from assistant.search.langchain import PolicyRetriever
from assistant.search.retriever import Retriever, SearchFilters

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(seed_index_dir, embedder):
    return Retriever.open(seed_index_dir, Settings(), embedder=embedder)


def test_invoke_returns_documents_with_original_text_and_metadata(retriever):
    lc = PolicyRetriever(retriever=retriever, k=5)
    docs = lc.invoke("各地如何落实双减")
    assert len(docs) == 5 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert "双减" in top.page_content or "雙減" in top.page_content
    for key in (
        "file",
        "doc_id",
        "title",
        "region",
        "year",
        "path",
        "label",
        "score",
        "ranks",
        "chunk_id",
    ):
        assert key in top.metadata
    assert top.id == top.metadata["chunk_id"]
    trad = [d for d in docs if d.metadata["file"] == "004_48a2cbb17aecac52.txt"]
    assert trad and "雙減" in trad[0].page_content  # original wording, not the normalized form


def test_options_pass_through(retriever):
    lc = PolicyRetriever(
        retriever=retriever, k=4, mode="bm25", per_doc=1, filters=SearchFilters(year=2024)
    )
    docs = lc.invoke("双减")
    assert docs and all(d.metadata["year"] == 2024 for d in docs)
    assert len({d.metadata["doc_id"] for d in docs}) == len(docs)
    assert all(set(d.metadata["ranks"]) == {"bm25"} for d in docs)


def test_it_composes_in_a_chain(seed_index_dir, embedder):
    lc = PolicyRetriever.from_index(seed_index_dir, Settings(), k=2)
    chain = lc | RunnableLambda(lambda docs: [d.metadata["label"] for d in docs])
    labels = chain.invoke("严格落实双减政策")
    assert len(labels) == 2 and "22." in labels
