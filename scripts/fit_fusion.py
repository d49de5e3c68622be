"""Learn the fusion weights and the abstention threshold (writes index/fusion.json).

Data: a SQuAD-style Chinese QA file (CMRC 2018 trial). Each passage becomes an article.
- Ranking: a linear model over the candidate features of index/search.py, learned listwise (softmax
  over each question's candidates, label = the candidate holds an accepted answer), then
  Platt-scaled into a probability. Reported as 2-fold cross-validated hit@1 (folds split by article, so
  no article is both trained on and tested on).
- Abstention: a second logistic model over signals of the best passage (its ranking score, how much
  of the question's topic its article never mentions), trained to tell right answers from
  questions that cannot be answered: the same questions asked against an index from which the
  sentences holding their answers were deleted (near misses), against an index of the other fold's
  articles only (off topic), with one informative word swapped for a word the article never uses,
  and answerable questions whose best passage is wrong. The threshold keeps false abstentions on
  rightly answered questions at or below 5%.

Usage: python scripts/fit_fusion.py ../shared/eval/cmrc2018_trial.json [--work /tmp/fusion]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from index.article import parse_article, split_passages  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.search import ABSTAIN_FEATURES, FEATURES, FUSION_FILE, Searcher  # noqa: E402
from index.store import build_index, load_index  # noqa: E402

MAX_FALSE_ABSTAIN = 0.05


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("squad")
    ap.add_argument("--work", default="/tmp/article-qa-fusion")
    args = ap.parse_args()
    items = _load(args.squad)
    rng = random.Random(0)
    ids = sorted({it["article"] for it in items})
    rng.shuffle(ids)
    fold = {a: i % 2 for i, a in enumerate(ids)}
    embedder = Embedder("sentence-transformers", "m3e-small")

    full = _searcher(embedder, items, Path(args.work) / "full", keep=lambda a: True)
    X, y, groups, qfold = _dataset(full, items, fold)
    train = [qfold[groups] != f for f in (0, 1)]
    cv = [_hit1(_fit(X[t], y[t], groups[t]), X, y, groups, qfold == f) for f, t in zip((0, 1), train)]
    w, b = _fit(X, y, groups)
    print(f"2-fold CV hit@1 {np.mean(cv):.3f} ({cv[0]:.3f}, {cv[1]:.3f}); fitted on all: "
          f"{_hit1((w, b), X, y, groups, np.ones(len(qfold), bool)):.3f}")

    near = _searcher(embedder, items, Path(args.work) / "near", keep=lambda a: True, delete_answers=True)
    off = _searcher(embedder, items, Path(args.work) / "off", keep=lambda a: fold[a] == 0)
    # Positives: questions whose best passage really holds the answer. Answerable questions whose
    # best passage is wrong count with the unanswerable ones: quoting it would mislead just the same.
    answered, correct = _top_signals(full, items, w, b)
    answerable = answered[correct]
    unanswerable = np.vstack([answered[~correct],
                              _top_signals(near, items, w, b)[0],
                              _top_signals(off, [it for it in items if fold[it["article"]] == 1], w, b)[0],
                              _top_signals(full, _swapped_topic(full, items, rng), w, b)[0]])
    signals = np.vstack([answerable, unanswerable])
    labels = np.concatenate([np.ones(len(answerable)), np.zeros(len(unanswerable))])
    aw, ab = _logistic(signals, labels)
    confidence = lambda s: 1 / (1 + np.exp(-(s @ aw + ab)))  # noqa: E731
    threshold = float(np.quantile(confidence(answerable), MAX_FALSE_ABSTAIN))
    refused = float(np.mean(confidence(unanswerable) < threshold))
    print(f"abstention threshold {threshold:.3f}: false abstention "
          f"{np.mean(confidence(answerable) < threshold):.3f}, unanswerable refused {refused:.3f}")
    FUSION_FILE.write_text(json.dumps({
        "weights": dict(zip(FEATURES, map(float, w))), "bias": float(b),
        "abstain": {"weights": dict(zip(ABSTAIN_FEATURES, map(float, aw))), "bias": float(ab),
                    "threshold": threshold},
        "fitted_on": Path(args.squad).name, "cv_hit1": round(float(np.mean(cv)), 3),
        "unanswerable_refused": round(refused, 3)}, indent=2), encoding="utf-8")


def _load(path: str) -> list[dict]:
    items = []
    for a in json.load(open(path, encoding="utf-8"))["data"]:
        for n, p in enumerate(a["paragraphs"]):
            article = f"{a.get('id', a.get('title'))}-{n}"
            for qa in p["qas"]:
                answers = [x["text"] for x in qa["answers"] if x["text"] in p["context"]]
                if answers:
                    items.append({"article": article, "title": a.get("title", ""), "context": p["context"],
                                  "question": qa["question"], "answers": answers})
    return items


def _searcher(embedder, items, folder: Path, keep, delete_answers=False) -> Searcher:
    if (folder / "manifest.json").is_file():   # built by an earlier run over the same data
        return Searcher(load_index(folder), embedder)
    contexts: dict[str, tuple[str, str, list[str]]] = {}
    for it in items:
        title, context, answers = contexts.setdefault(it["article"], (it["title"], it["context"], []))
        answers.extend(it["answers"])
    articles = []
    for article_id, (title, context, answers) in contexts.items():
        if not keep(article_id):
            continue
        if delete_answers:
            context = "".join(s for s in split_passages(context) if not any(a in s for a in answers))
        if context:
            articles.append(parse_article(f"{title}\n\n{context}\n", article_id))
    return Searcher(build_index(articles, embedder, folder), embedder)


def _dataset(searcher: Searcher, items, fold):
    X, y, groups, qfold = [], [], [], []
    for q, it in enumerate(items):
        candidates, features = searcher.features(searcher.analyse(it["question"]))
        for i, f in zip(candidates, features):
            X.append(f)
            y.append(any(a in searcher.index.passages[i].text for a in it["answers"]))
            groups.append(q)
        qfold.append(fold[it["article"]])
    return np.array(X), np.array(y, dtype=np.float32), np.array(groups), np.array(qfold)


def _fit(X, y, groups, l2=1e-3, steps=400):
    """Listwise ranking (softmax over each question's candidates, which optimises the top quote
    directly), then Platt scaling so the score is a probability usable for abstention."""
    import torch
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    _, gt = np.unique(groups, return_inverse=True)
    gt = torch.tensor(gt)
    n = int(gt.max()) + 1
    w = torch.zeros(X.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(steps):
        s = Xt @ w
        peak = torch.zeros(n).index_reduce_(0, gt, s.detach(), "amax", include_self=False)
        e = torch.exp(s - peak[gt])
        total = torch.zeros(n).index_add_(0, gt, e)
        right = torch.zeros(n).index_add_(0, gt, e * yt)
        has = right > 0
        loss = -(torch.log(right[has] + 1e-9) - torch.log(total[has])).mean() + l2 * (w * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = w.detach().numpy().astype(np.float64)
    a, b = _platt(X @ w, y)
    return a * w, b


def _platt(scores, y, steps=2000, lr=0.1):
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        a -= lr * float(np.mean((p - y) * scores))
        b -= lr * float(np.mean(p - y))
    return a, b


def _hit1(model, X, y, groups, question_mask) -> float:
    w, b = model
    scores = X @ w + b
    hits = [y[groups == q][np.argmax(scores[groups == q])] for q in np.flatnonzero(question_mask)
            if np.any(groups == q)]
    return float(np.sum(hits) / max(question_mask.sum(), 1))


def _top_signals(searcher: Searcher, items, w, b) -> tuple[np.ndarray, np.ndarray]:
    """The abstention signals of each question's best passage under the ranking weights (w, b),
    and whether that passage holds an accepted answer."""
    out, correct = [], []
    for it in items:
        query = searcher.analyse(it["question"])
        candidates, features = searcher.features(query)
        logits = features @ w + b
        top = int(np.argmax(logits))
        article = searcher.index.passages[candidates[top]].article
        out.append(searcher.abstain_signals(query, article, logits[top], features[top]))
        correct.append(any(a in searcher.index.passages[candidates[top]].text for a in it["answers"]))
    return np.array(out), np.array(correct)


def _swapped_topic(searcher: Searcher, items, rng: random.Random) -> list[dict]:
    """Near-miss questions of a third kind: one informative word of a real question swapped for an
    informative word from another article's question that this article never uses ("岚山区的常住人口
    有多少" asked of an article that never mentions 常住人口)."""
    from index import text
    pool = [(it["article"], w) for it in items for w, weight in searcher.analyse(it["question"]).topic
            if weight >= 9]
    out = []
    for it in items:
        context = text.normalise(it["context"])
        own = [w for w, weight in searcher.analyse(it["question"]).topic if weight >= 6 and w in it["question"]]
        if not own:
            continue
        for _ in range(20):
            article, foreign = rng.choice(pool)
            if article != it["article"] and foreign not in context:
                out.append({**it, "question": it["question"].replace(rng.choice(own), foreign, 1)})
                break
    return out


def _logistic(X, y, l2=1e-3, steps=5000, lr=0.5):
    """Class-balanced logistic regression by gradient descent."""
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = weight * (p - y)
        w -= lr * (X.T @ g / len(y) + l2 * w)
        b -= lr * float(np.mean(g))
    return w, b


if __name__ == "__main__":
    main()
