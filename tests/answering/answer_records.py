"""Hand-made documents, chunks and hits shared by the answering tests.

A plain module (not conftest.py) so tests can import it by name: several conftest modules in
the test tree share the module name ``conftest``.
"""

from __future__ import annotations

from assistant.records import Chunk, DocumentMeta, Hit
from assistant.text import normalize

ZHUANGLANG = DocumentMeta(
    doc_id="001_a2a3b87c571a2f00",
    file="001_a2a3b87c571a2f00.txt",
    source_path="work_plans/001_a2a3b87c571a2f00.txt",
    title="2023年全县教育工作要点",
    year=2023,
    region="庄浪县",
    level="县",
    issuer="庄浪县教育局",
)
WITHHELD = DocumentMeta(
    doc_id="004_48a2cbb17aecac52",
    file="004_48a2cbb17aecac52.txt",
    source_path="work_plans/004_48a2cbb17aecac52.txt",
    title="2024年教育局工作計劃",
    year=2024,
    region=None,
    region_withheld=True,
    script="traditional",
)
SHUANGJIAN_22 = (
    "22.严格落实“双减”政策。遵循教育规律和学生成长规律，严格落实“五项管理”和“双减”政策，"
    "科学规范开展课后服务，持续加强校外培训治理，确保校内校外同步减负。学校要将作业设计作为"
    "校本教研重点内容，系统化选编、改编、创编符合学习规律的基础性作业和拓展性作业。"
)
SHUANGJIAN_TRAD = (
    "十一、堅持抓好教育領域綜合改革。繼續做好“雙減”和政府履職評價工作。深化跨區域教育集團化辦學，"
    "提升各教育集團辦學融合度。"
)
PARTY = "1.深入学习宣传贯彻党的二十大精神。将深入学习贯彻党的二十大精神作为全县教育系统的主线。"


def make_chunk(
    doc: DocumentMeta, text: str, *, label: str = "", path: tuple[str, ...] = (), ordinal: int = 0
) -> Chunk:
    return Chunk(
        chunk_id=f"{doc.doc_id}:{ordinal}",
        doc=doc,
        path=path,
        label=label,
        text=text,
        start=0,
        end=len(text),
        search_text=normalize(text),
    )


def make_hit(chunk: Chunk, rank: int, *, dense: int | None = None, bm25: int | None = None) -> Hit:
    return Hit(
        chunk=chunk,
        score=1.0 / (60 + rank),
        ranks={"dense": rank if dense is None else dense, "bm25": rank if bm25 is None else bm25},
        scores={"dense": 0.9 - rank / 100, "bm25": 10.0 - rank},
    )
