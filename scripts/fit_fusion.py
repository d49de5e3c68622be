"""Learn the ranking weights and the refusal model from several Chinese QA corpora (writes index/fusion.json).

Data: SQuAD-style files (CMRC 2018 trial, Simplified; DRCD test, Traditional), each read in two
shapes: every paragraph an article, as `eval_qa.py --squad` does; and every entry an article of one
long paragraph, the shape of a one-paragraph wire report where every sentence shares the topic's
words (CMRC trial's entries have one paragraph each: it has the first shape only). Folds are whole entries (a Wikipedia article and all its paragraphs), so no article is both
trained on and tested on. The features come from the code that answers (Searcher.features and
Searcher.rank): nothing here computes them again.

- Ranking: a network with one tanh hidden layer over the candidate features of index/search/retrieve.py,
  learned listwise (softmax over each question's candidates, label = the candidate holds an
  accepted answer), then Platt-scaled into a probability. Reported as 2-fold cross-validated
  hit@1, per corpus.
- Refusal: a network of the same shape over the signals of the best passage (its ranking score,
  how much of the question's topic its article never mentions, whether the thing asked about is
  there at all). Answerable questions are the positives, whatever
  their best passage: refusing one of them is a false refusal. Negatives are real questions the
  index cannot answer:
    unseen   questions of entries left out of the index (the other fold's entries), as
             `eval_qa.py --unseen` makes them;
    swapped  a real question with the thing it asks about (or another informative word) swapped
             for a word its article never uses ("岚山区的常住人口有多少" asked of an article that
             never mentions 常住人口).
  The threshold keeps false refusals at MAX_FALSE_REFUSAL of the answerable questions. Reported
  2-fold cross-validated (by entry) per corpus: false refusals, unseen and swapped refused.

Usage: python scripts/fit_fusion.py ../shared/eval/cmrc2018_trial.json ../shared/eval/drcd_test.json
       [--work /tmp/article-qa-fit]   (indexes and features are cached there between runs)
       [--backend sentence-transformers --model m3e-small]   (a fit for another model: written to
       index/fusion-BACKEND-MODEL.json, which an index built with that model uses)
Needs the model (the default, unless --backend/--model) and PyTorch (installed with the project). From an empty work folder it
takes about 10 minutes on 2 cores and 1.7 GB (building the indexes and the features is most of it);
a rerun with the cache, a few minutes.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from index.language import text  # noqa: E402
from index.sources.article import parse_article  # noqa: E402
from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder  # noqa: E402
from index.search.retrieve import ABSTAIN_FEATURES, FEATURES, Network, Searcher, fitted_networks  # noqa: E402
from index.archive.store import IndexStoreError, build_index, load_index  # noqa: E402

# Refusing an answerable question costs the reader an answer the article holds; 3% of them is the
# price of refusing about nine in ten questions the articles cannot answer (cross-validated).
MAX_FALSE_REFUSAL = 0.03


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("squad", nargs="+")
    ap.add_argument("--work", default="/tmp/article-qa-fit")
    ap.add_argument("--backend", default=DEFAULT_BACKEND)
    ap.add_argument("--model", default=DEFAULT_MODEL_NAME)
    ap.add_argument("--keep-ranker", action="store_true",
                    help="keep the ranker of index/fusion.json and fit the refusal model only (a refit "
                         "of the ranker moves hit@1 by about a point either way from run to run)")
    args = ap.parse_args()
    embedder = Embedder(args.backend, args.model)
    out = fitted_networks(f"{args.backend}:{args.model}")
    work = Path(args.work) / out.stem   # indexes and vectors of one model
    _cache_question_vectors(embedder, work / "questions.npz")
    corpora = [_corpus(embedder, Path(path), work, joined) for path in args.squad
               for joined in (False, True) if not joined or _entries_of_several_paragraphs(Path(path))]
    # The ranker learns from the paragraph shape alone: joined entries are for the refusal model,
    # which must learn what an answer looks like in a long one-paragraph report (ranking on them
    # too cost CMRC hit@1 1.8 points on `eval_qa.py --unseen 30`).
    paragraphs = [c for c in corpora if not c["joined"]]
    X = np.vstack([c["X"] for c in paragraphs])
    y = np.concatenate([c["y"] for c in paragraphs])
    offsets = np.cumsum([0] + [c["n_questions"] for c in paragraphs])
    groups = np.concatenate([c["groups"] + o for c, o in zip(paragraphs, offsets)])
    qfold = np.concatenate([c["qfold"] for c in paragraphs])
    qcorpus = np.concatenate([np.full(c["n_questions"], i) for i, c in enumerate(paragraphs)])
    kept = json.loads(out.read_text(encoding="utf-8"))["ranker"] if args.keep_ranker else None
    cv_models = [kept or _fit(X[qfold[groups] != f], y[qfold[groups] != f], groups[qfold[groups] != f])
                 for f in (0, 1)]
    report = {}
    for i, c in enumerate(paragraphs):
        masks = [(qfold == f) & (qcorpus == i) for f in (0, 1)]
        hits = [_hit1(cv_models[f], X, y, groups, masks[f]) for f in (0, 1)]
        report[c["name"]] = {"hit1" if kept else "cv_hit1": round(float(np.average(hits, weights=[m.sum() for m in masks])), 3)}
    ranker = kept or _fit(X, y, groups)

    signals, labels, kinds, corpus_of, split = [], [], [], [], []
    for i, c in enumerate(corpora):
        for kind, (s, entries) in _refusal_sets(c, Network(ranker, FEATURES)).items():
            signals.append(s)
            labels.append(np.full(len(s), kind == "answerable", dtype=float))
            kinds += [kind] * len(s)
            corpus_of += [i] * len(s)
            split += [zlib.crc32(e.encode()) % 2 for e in entries]
    signals, labels = np.vstack(signals), np.concatenate(labels)
    kinds, corpus_of, split = np.array(kinds), np.array(corpus_of), np.array(split)
    np.savez(work / "refusal_signals.npz", signals=signals, labels=labels, kinds=kinds,
             corpus=corpus_of, split=split, names=np.array(ABSTAIN_FEATURES))   # for inspection
    for i, c in enumerate(corpora):
        report.setdefault(c["name"], {}).update(_refusal_cv(signals, labels, kinds, split, corpus_of == i))
    refusal = _fit_refusal(signals, labels)
    threshold = _threshold(signals[labels == 1], refusal)
    for name, numbers in report.items():
        print(name, json.dumps(numbers))
    embedder.save_cache()
    out.write_text(json.dumps({
        "ranker": ranker, "refusal": {**refusal, "threshold": threshold},
        "model": f"{args.backend}:{args.model}", "fitted_on": [Path(p).name for p in args.squad],
        "cross_validated": report}, indent=2), encoding="utf-8")


def _cache_question_vectors(embedder, path: Path) -> None:
    """Keep every question's vector between runs: embedding is most of the time of a refit, and the
    model gives the same vector for the same text."""
    cache: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            cache = dict(zip(f["questions"].tolist(), f["vectors"]))
    encode = embedder.encode_question

    def cached(question: str) -> np.ndarray:
        if question not in cache:
            cache[question] = encode(question)[0]
        return cache[question][None, :]

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, questions=np.array(list(cache)), vectors=np.array(list(cache.values())))
    embedder.encode_question, embedder.save_cache = cached, save


# ---- data -----------------------------------------------------------------------------------------

def _corpus(embedder, path: Path, work: Path, joined: bool) -> dict:
    """Items, folds, indexes and ranking features of one corpus (features cached in the work folder).
    Joined, each entry's paragraphs become one article of one long paragraph: the shape of a wire
    report, where every sentence shares the topic's words, unlike a Wikipedia paragraph."""
    name = path.stem + ("+joined" if joined else "")
    items = _load(path, joined)
    rng = random.Random(0)
    entries = sorted({it["entry"] for it in items})
    rng.shuffle(entries)
    fold = {e: i % 2 for i, e in enumerate(entries)}
    full = _searcher(embedder, items, work / name / "full", keep=lambda e: True)
    unseen_index = _searcher(embedder, items, work / name / "fold0", keep=lambda e: fold[e] == 0)
    cache = work / name / "features.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as f:
            X, y, groups = f["X"], f["y"], f["groups"]
    else:
        X, y, groups = _dataset(full, items)
        np.savez(cache, X=X, y=y, groups=groups)
    print(f"{name}: {len(items)} questions, {len(entries)} entries", file=sys.stderr)
    return {"name": name, "joined": joined, "items": items, "fold": fold, "full": full, "unseen_index": unseen_index,
            "X": X, "y": y, "groups": groups, "n_questions": len(items),
            "qfold": np.array([fold[it["entry"]] for it in items])}


def _entries_of_several_paragraphs(path: Path) -> bool:
    return any(len(a["paragraphs"]) > 1 for a in json.load(open(path, encoding="utf-8"))["data"])


def _load(path: Path, joined: bool = False) -> list[dict]:
    items = []
    for a in json.load(open(path, encoding="utf-8"))["data"]:
        entry = str(a.get("id", a.get("title")))
        whole = "".join(p["context"].strip() for p in a["paragraphs"])
        for n, p in enumerate(a["paragraphs"]):
            context = whole if joined else p["context"]
            for qa in p["qas"]:
                answers = [x["text"] for x in qa["answers"] if x["text"] in p["context"]]
                if answers:
                    items.append({"entry": entry, "article": entry if joined else f"{entry}-{n}",
                                  "title": a.get("title") or "untitled", "context": context,
                                  "question": qa["question"], "answers": answers})
    return items


def _searcher(embedder, items, folder: Path, keep) -> Searcher:
    try:   # built by an earlier run over the same data
        return Searcher(load_index(folder), embedder, untrained=True)
    except IndexStoreError:
        pass
    contexts = {it["article"]: (it["entry"], it["title"], it["context"]) for it in items}
    articles = [parse_article(f"{title}\n\n{context}\n", article_id)
                for article_id, (entry, title, context) in contexts.items() if keep(entry)]
    return Searcher(build_index(articles, embedder, folder), embedder, untrained=True)


def _dataset(searcher: Searcher, items):
    X, y, groups = [], [], []
    for q, it in enumerate(items):
        candidates, features = searcher.features(searcher.analyse(it["question"]))
        for i, f in zip(candidates, features):
            X.append(f)
            y.append(any(a in searcher.index.passages[i].text for a in it["answers"]))
            groups.append(q)
    return np.array(X, dtype=np.float32), np.array(y, dtype=np.float32), np.array(groups)


def _refusal_sets(c: dict, ranker: Network) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Refusal signals of the best passage for each kind of question, with each question's entry."""
    rng = random.Random(1)
    unseen = [it for it in c["items"] if c["fold"][it["entry"]] == 1]
    swapped = _swapped_topic(c["full"], c["items"], rng)
    return {"answerable": (_top_signals(c["full"], c["items"], ranker), [it["entry"] for it in c["items"]]),
            "unseen": (_top_signals(c["unseen_index"], unseen, ranker), [it["entry"] for it in unseen]),
            "swapped": (_top_signals(c["full"], swapped, ranker), [it["entry"] for it in swapped])}


def _top_signals(searcher: Searcher, items, ranker: Network) -> np.ndarray:
    """The refusal signals of each question's best passage under the ranker, computed by the
    same code that answers (Searcher.rank)."""
    searcher.ranker = ranker
    return np.array([searcher.rank(searcher.analyse(it["question"]))[2] for it in items])


def _swapped_topic(searcher: Searcher, items, rng: random.Random) -> list[dict]:
    """A real question with the thing it asks about swapped for an informative word from another
    entry's question that this article never uses: "杨维凯的工资是多少" is "杨维凯的<年龄>是多少" with
    an attribute the article never mentions. The thing asked about is the question's focus (the
    noun before the question word); a question without one has a random informative word swapped."""
    analysed = [searcher.analyse(it["question"]) for it in items]
    pool = [(it["entry"], w) for it, query in zip(items, analysed) for w, weight in query.topic if weight >= 6]
    out = []
    for it, query in zip(items, analysed):
        context = text.normalise(it["context"])
        own = [w for w, weight in query.topic if weight >= 6 and w in query.text]
        target = query.focus or (rng.choice(own) if own else "")
        if not target:
            continue
        for _ in range(20):
            entry, foreign = rng.choice(pool)
            if entry != it["entry"] and foreign not in context:
                out.append({**it, "question": query.text.replace(target, foreign, 1)})
                break
    return out


# ---- models ---------------------------------------------------------------------------------------

def _fit(X, y, groups, hidden=16, steps=600) -> dict:
    """Listwise ranking (softmax over each question's candidates, which optimises the top quote
    directly) with a one-hidden-layer network, then Platt scaling folded into its output layer so
    the logit is calibrated: a probability the "as likely as" filter and the refusal model can use."""
    import torch
    torch.manual_seed(0)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    _, gt = np.unique(groups, return_inverse=True)
    gt = torch.tensor(gt)
    n = int(gt.max()) + 1
    net = _network(X.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=0.02, weight_decay=1e-4)
    for _ in range(steps):
        s = net(Xt).squeeze(1)
        peak = torch.zeros(n).index_reduce_(0, gt, s.detach(), "amax", include_self=False)
        e = torch.exp(s - peak[gt])
        total = torch.zeros(n).index_add_(0, gt, e)
        right = torch.zeros(n).index_add_(0, gt, e * yt)
        has = right > 0
        loss = -(torch.log(right[has] + 1e-9) - torch.log(total[has])).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    params = _params(net, FEATURES)
    a, b = _platt(Network(params, FEATURES).logits(X).astype(np.float64), y)
    params["output_weights"] = [a * w for w in params["output_weights"]]
    params["output_bias"] = a * params["output_bias"] + b
    return params


def _network(inputs: int, hidden: int):
    import torch
    return torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))


def _params(net, inputs) -> dict:
    """The parameters of a fitted network, as index.search.retrieve.Network reads them."""
    first, last = net[0], net[2]
    return {"inputs": list(inputs), "hidden_weights": first.weight.detach().tolist(),
            "hidden_bias": first.bias.detach().tolist(), "output_weights": last.weight.detach()[0].tolist(),
            "output_bias": float(last.bias.detach()[0])}


def _platt(scores, y, steps=2000, lr=0.1):
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        a -= lr * float(np.mean((p - y) * scores))
        b -= lr * float(np.mean(p - y))
    return a, b


def _hit1(ranker: dict, X, y, groups, question_mask) -> float:
    scores = Network(ranker, FEATURES).logits(X)
    questions = np.flatnonzero(question_mask)
    hits = [y[groups == q][np.argmax(scores[groups == q])] for q in questions if np.any(groups == q)]
    return float(np.sum(hits) / max(len(questions), 1))


def _fit_refusal(X, y, hidden=16, steps=3000, weight_decay=1e-3) -> dict:
    """Class-balanced logistic loss on a network with one tanh hidden layer."""
    import torch
    torch.manual_seed(0)
    balance = torch.tensor(np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean())), dtype=torch.float32)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    net = _network(X.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=weight_decay)
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt).squeeze(1), yt, reduction="none")
        loss = (loss * balance).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return _params(net, ABSTAIN_FEATURES)


def _threshold(answerable, refusal: dict) -> float:
    return float(np.quantile(_confidence(refusal, answerable), MAX_FALSE_REFUSAL))


def _confidence(refusal: dict, signals) -> np.ndarray:
    return 1 / (1 + np.exp(-Network(refusal, ABSTAIN_FEATURES).logits(signals)))


def _refusal_cv(signals, labels, kinds, split, mine) -> dict:
    """2-fold cross-validated refusal rates of one corpus (model and threshold fitted on the other
    half of every corpus)."""
    refused = np.zeros(len(labels), dtype=bool)
    for f in (0, 1):
        train = split != f
        refusal = _fit_refusal(signals[train], labels[train])
        threshold = _threshold(signals[train & (labels == 1)], refusal)
        test = split == f
        refused[test] = _confidence(refusal, signals[test]) < threshold
    return {f"{kind}_refused": round(float(refused[mine & (kinds == kind)].mean()), 3)
            for kind in ("answerable", "unseen", "swapped")}


if __name__ == "__main__":
    main()
