"""OCR speed and character accuracy on full generated pages of the seed documents.

Seed paragraphs (from the first numbered heading on) are rendered into full A4 pages at 150 dpi
with a CJK font (``tests/documents/scans.py``, the generator the tests use), saved as one
image-only PDF per script, and read through the loader (``assistant.documents.loaders.load``:
PDF page rendering, OCR, reading order). Reported per script: pages, wall-clock and CPU seconds,
pages per minute, and character accuracy (1 − edit distance / source length, blanks ignored,
punctuation width folded) against the rendered text.

Usage:  .venv/bin/python eval/bench_ocr.py [--simplified 4] [--traditional 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "documents"))

from scans import (  # noqa: E402
    cjk_font,
    edit_distance,
    paginate,
    render,
    save_pdf,
    seed_paragraphs,
)

from assistant.documents.loaders import load  # noqa: E402
from assistant.text import to_halfwidth  # noqa: E402

SEEDS = {"simplified": "001", "traditional": "003"}


def body(prefix: str) -> list[str]:
    paras = [p for p in seed_paragraphs(prefix) if p]
    start = next(i for i, p in enumerate(paras) if p[:2] in ("一、", "1."))
    return paras[start:]


def measure(script: str, pages: int, font: Path, work: Path) -> dict:
    layout = paginate(body(SEEDS[script]), font, pages)
    pdf = save_pdf([render(p, font) for p in layout], work / f"{script}.pdf")
    source = "".join("".join(to_halfwidth(line).split()) for p in layout for line in p.lines)
    wall, cpu = time.perf_counter(), time.process_time()
    loaded = load(pdf)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    got = "".join(to_halfwidth(loaded.text).split())
    return {
        "script": script,
        "pages": len(layout),
        "chars": len(source),
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "pages_per_minute": round(60 * len(layout) / wall, 2),
        "pages_per_cpu_minute": round(60 * len(layout) / cpu, 2),
        "accuracy": round(1 - edit_distance(got, source) / len(source), 4),
        "page_confidence": [round(s.confidence, 3) for s in loaded.ocr],
        "notes": list(loaded.notes),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--simplified", type=int, default=4, help="pages of simplified text")
    ap.add_argument("--traditional", type=int, default=2, help="pages of traditional text")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()
    font = cjk_font()
    if font is None:
        print("error: no CJK font (fc-list :lang=zh); apt-get install fonts-wqy-microhei")
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for script, n in (("simplified", args.simplified), ("traditional", args.traditional)):
            if n:
                rows.append(measure(script, n, font, Path(tmp)))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    result = {"load_average": os.getloadavg(), "cores": os.cpu_count(), "runs": rows}
    print("| script | pages | s | CPU s | pages/min | pages/CPU-min | accuracy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['script']} | {r['pages']} | {r['seconds']} | {r['cpu_seconds']} | "
            f"{r['pages_per_minute']} | {r['pages_per_cpu_minute']} | {r['accuracy']:.2%} |"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
