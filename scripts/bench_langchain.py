"""Per-question latency of article-qa against a plain LangChain EnsembleRetriever, in one run.

The comparison is the stack a user would otherwise pick: BM25 over jieba words plus FAISS over the
same m3e-small vectors (through sentence-transformers), weights 0.5/0.5, over the same passages.
article-qa is timed as a user of the CLI sees it: a long-running `article-qa ask --jsonl`, from
writing the question line to reading the answer line. The two are asked question by question,
alternately, so both see the same machine load.

Needs the bench extra: pip install -e '.[bench]' (make bench-langchain does it).
Usage: python scripts/bench_langchain.py [--questions FILE.jsonl] [--index-dir DIR] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.tools.measure import percentile  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    ap.add_argument("--index-dir", type=Path, default=ROOT / "data" / "index")
    ap.add_argument("--rounds", type=int, default=5, help="times each question is asked")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    retriever = _langchain_retriever(args.index_dir)
    ours = subprocess.Popen([str(Path(sys.executable).parent / "article-qa"), "ask", "--jsonl",
                             "--index-dir", str(args.index_dir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1, cwd=ROOT)
    try:
        for q in questions[:3]:   # warm both up
            _ask(ours, q)
            retriever.invoke(q)
        times = {"article-qa (ask --jsonl)": [], "LangChain EnsembleRetriever": []}
        for _ in range(args.rounds):
            for q in questions:
                times["article-qa (ask --jsonl)"].append(_timed(lambda: _ask(ours, q)))
                times["LangChain EnsembleRetriever"].append(_timed(lambda: retriever.invoke(q)))
    finally:
        ours.stdin.close()
        ours.wait(30)
    ours_p50, theirs_p50 = (statistics.median(t) for t in times.values())
    for name, values in times.items():
        print(f"{name:<30} p50 {statistics.median(values):6.2f} ms   p95 {percentile(values, 95):6.2f} ms")
    print(f"{'LangChain / article-qa (p50)':<30} {theirs_p50 / ours_p50:.2f}×   ({len(questions)} questions × {args.rounds})")


def _langchain_retriever(index_dir: Path):
    import jieba
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    from index.encode.embed import resolve_model_path
    passages = [row[4] for row in json.loads((index_dir / "passages.json").read_text(encoding="utf-8"))]
    embeddings = HuggingFaceEmbeddings(model_name=resolve_model_path("m3e-small"),
                                       model_kwargs={"device": "cpu"}, encode_kwargs={"normalize_embeddings": True})
    bm25 = BM25Retriever.from_texts(passages, preprocess_func=jieba.lcut, k=3)
    dense = FAISS.from_texts(passages, embeddings).as_retriever(search_kwargs={"k": 3})
    return EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])


def _ask(process: subprocess.Popen, question: str) -> dict:
    process.stdin.write(json.dumps({"question": question}, ensure_ascii=False) + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return (time.perf_counter() - started) * 1000



if __name__ == "__main__":
    main()
