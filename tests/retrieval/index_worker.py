"""A separate process for the reindex tests, so they can kill it, or search from a fresh one.

    python index_worker.py ingest KNOWLEDGE INDEX
        prints "embedded N/TOTAL" per batch, then the report
    python index_worker.py search KNOWLEDGE INDEX QUERY...
        prints {"results": ..., "vectors": N} as JSON
    python index_worker.py hold-lock KNOWLEDGE INDEX SECONDS
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from copilot.knowledge import KnowledgeBase
from copilot.retrieval.embedders import HashingEmbedder
from copilot.retrieval.files import ingest_lock
from copilot.retrieval.hybrid import MODES
from copilot.retrieval.index import KnowledgeIndex
from copilot.settings import Settings


def main(command: str, knowledge: str, index: str, *rest: str) -> None:
    settings = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index))
    knowledge_index = KnowledgeIndex(settings, embedder=HashingEmbedder())
    if command == "ingest":
        def progress(done: int, total: int) -> None:
            print(f"embedded {done}/{total}", flush=True)

        report = knowledge_index.ingest(KnowledgeBase.load(settings.knowledge_dir), progress=progress)
        print(json.dumps(report.to_dict()), flush=True)
    elif command == "search":
        results = {f"{mode}: {query}": [[hit.chunk.doc_id, hit.chunk.section, hit.score]
                                        for hit in knowledge_index.search(query, k=5, mode=mode)]
                   for query in rest for mode in MODES}
        print(json.dumps({"results": results, "vectors": knowledge_index.store.count()}))
    elif command == "hold-lock":
        with ingest_lock(settings.index_dir):
            print("locked", flush=True)
            time.sleep(float(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
