"""Small hand-made chunks for the index tests (no ingestion needed)."""

from __future__ import annotations

import pytest

from assistant.records import Chunk, DocumentMeta
from assistant.text import normalize


def make_chunk(
    doc: DocumentMeta, n: int, text: str, path: tuple[str, ...] = (), label: str = ""
) -> Chunk:
    return Chunk(
        chunk_id=f"{doc.doc_id}:{n}",
        doc=doc,
        path=path,
        label=label,
        text=text,
        start=n * 100,
        end=n * 100 + len(text),
        search_text=normalize(text),
    )


@pytest.fixture(scope="session")
def docs() -> dict[str, DocumentMeta]:
    return {
        "zl": DocumentMeta(
            doc_id="zl",
            file="zl.txt",
            source_path="plans/zl.txt",
            title="2023年全县教育工作要点",
            year=2023,
            region="庄浪县",
            level="县",
            issuer="庄浪县教育局",
        ),
        "fs": DocumentMeta(
            doc_id="fs",
            file="fs.txt",
            source_path="plans/fs.txt",
            title="佛山市教育局2022年工作總結",
            year=2022,
            region="佛山市",
            level="市",
            script="traditional",
        ),
        "law": DocumentMeta(
            doc_id="law",
            file="教育法.md",
            source_path="laws/教育法.md",
            title="中华人民共和国教育法",
            year=2021,
        ),
    }


@pytest.fixture(scope="session")
def chunks(docs) -> list[Chunk]:
    zl, fs, law = docs["zl"], docs["fs"], docs["law"]
    head = "六、推动全面育人有效落实"
    return [
        make_chunk(
            zl,
            0,
            "22.严格落实“双减”政策。科学规范开展课后服务，减轻学生过重作业负担。",
            (head,),
            "22.",
        ),
        make_chunk(
            zl, 1, "23.加强学校体育工作，保证学生每天校内体育活动时间不少于1小时。", (head,), "23."
        ),
        make_chunk(zl, 2, "24.推进教师队伍建设，开展教师全员培训。", (head,), "24."),
        make_chunk(
            fs, 0, "2、持續鞏固提升“雙減”成效，深入開展“五大行動”。", ("一、主要工作",), "2、"
        ),
        make_chunk(
            fs, 1, "3、推進學前教育普及普惠，新增公辦幼兒園學位。", ("一、主要工作",), "3、"
        ),
        make_chunk(
            law,
            0,
            "第五条　教育必须为社会主义现代化建设服务、为人民服务。",
            ("第一章　总则",),
            "第五条",
        ),
        make_chunk(
            law,
            1,
            "第二十九条　学校应当履行下列义务：遵守法律、法规；贯彻国家的教育方针。",
            ("第四章　学校及其他教育机构",),
            "第二十九条",
        ),
    ]


@pytest.fixture(scope="session")
def open_items(tmp_path_factory, embedder):
    """Index hand-written ``(document, item text)`` pairs with ``settings`` and open them."""
    from assistant.search.retriever import Retriever
    from assistant.search.writer import index_chunks

    def open_(items: list[tuple[DocumentMeta, str]], settings) -> Retriever:
        path = tmp_path_factory.mktemp("index")
        chunks = [make_chunk(doc, n, text) for n, (doc, text) in enumerate(items)]
        index_chunks(chunks, path, settings, embedder=embedder, progress=False)
        return Retriever.open(path, settings, embedder=embedder)

    return open_
