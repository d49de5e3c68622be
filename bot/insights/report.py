"""The editor's report over the recorded questions (bot/insights/record.py): how many questions,
the share answered, the busiest hours, what readers wanted and did not find — the refused
questions grouped by meaning — and the sections and passages quoted most. As text, as JSON, and
as a chart (PNG).

The groups: the distinct refused questions (the most frequent GROUP_AT_MOST of them) are
clustered by their vectors — average linkage over cosine distance (SciPy's hierarchy), cut where
scikit-learn's silhouette score is best — so neither the number of groups nor a distance is fixed
in advance: three topics asked about in a few wordings each come out as three groups, and 1,500
unrelated Wikipedia questions as a few hundred small coherent ones. Questions put to one article
all share its subject ("岚山…"), which makes every pair look alike; the vectors are first centred
on their mean to remove what they all share.
"""
from __future__ import annotations

import functools
import re
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from bot.insights.record import QUESTION_KINDS
from bot.storage import read_only_database

CUTS = np.arange(0.05, 1.5, 0.05)   # cosine distances (of the centred vectors) tried as the cut
GROUP_AT_MOST = 3000    # distinct refused questions clustered (the most frequent); bounds time and memory
TOP = 10
_PERIOD = re.compile(r"^(\d+(?:\.\d+)?)([hdw])$")
_UNIT = {"h": 3600, "d": 86400, "w": 7 * 86400}


class ReportError(ValueError):
    """A bad option (period, article) or an unreadable database."""


@dataclass
class Group:
    size: int                  # questions asked (repeats counted)
    examples: list[str]        # up to 3, the most asked first, in the readers' own words
    articles: list[str] = field(default_factory=list)   # the articles they were asked of (titles)


@dataclass
class ArticleLine:
    """One article's row of the report's table."""
    article: str               # its title (its id when it was never quoted)
    questions: int
    answered: int              # answered (marked wrong or not)
    unsure: int                # the closest sentence quoted, said to be only that (not answered)
    wrong: int                 # answers readers marked 👎 (没答对)


@dataclass
class Report:
    since: float               # unix time
    until: float
    article: str | None
    questions: int = 0
    answered: int = 0
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)            # questions per hour of day
    refused_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    unanswered: list[Group] = field(default_factory=list)                     # largest first
    sections: list[tuple[str, str, int]] = field(default_factory=list)       # article, section, times quoted
    passages: list[tuple[str, str, int]] = field(default_factory=list)       # article, passage, times quoted
    median_latency_ms: float = 0.0
    timezone: str = "Asia/Shanghai"   # the hours and dates above are this zone's
    liked: int = 0                     # answers readers marked 👍
    # 👎: the question in the reader's words, the first quote, times, the article's title and id
    marked_wrong: list[tuple[str, str, int, str, str]] = field(default_factory=list)
    unsure: int = 0                    # the closest sentence quoted, said to be only that (not answered)
    wrong: int = 0                     # answers readers marked 👎
    articles: list[ArticleLine] = field(default_factory=list)   # most asked first
    corrected: int = 0                 # answers the editor corrected in the period (bot/insights/pins.py)

    @property
    def share_answered(self) -> float:
        return self.answered / self.questions if self.questions else 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["share_answered"] = round(self.share_answered, 4)
        data["sections"] = [{"article": a, "section": s, "quoted": n} for a, s, n in self.sections]
        data["passages"] = [{"article": a, "passage": p, "quoted": n} for a, p, n in self.passages]
        data["marked_wrong"] = [{"question": q, "quote": p, "times": n, "article": a, "article_id": i}
                                for q, p, n, a, i in self.marked_wrong]
        return data


MAX_PERIOD_SECONDS = 100 * 365 * 86400


def parse_period(text: str) -> float:
    """'7d', '12h', '2w' → seconds."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise ReportError(f"period {text!r}: give a number and h, d or w, e.g. 7d")
    seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if seconds > MAX_PERIOD_SECONDS:   # datetime cannot go back further than year 1
        raise ReportError(f"period {text!r}: at most {MAX_PERIOD_SECONDS // (365 * 86400)} years")
    return seconds


def build(path: Path, since_seconds: float = 7 * 86400, article: str | None = None,
          now: float | None = None, timezone: str = "Asia/Shanghai", pins: Path | None = None) -> Report:
    """The report over the questions recorded in the last `since_seconds` (of one article), its
    hours of day in `timezone`; with `pins`, the editor's corrections of the period counted."""
    if not Path(path).is_file():
        return Report(0, 0, article, timezone=timezone)   # nothing recorded yet: an empty report, said as such
    until = time.time() if now is None else now
    report = Report(until - since_seconds, until, article, timezone=timezone)
    try:
        db = read_only_database(Path(path))   # beside a bot writing it: never checkpoints its log away
        try:
            where, args = _where(report)
            _counts(db, report, where, args)
            if report.questions:
                titles = _titles(db)
                _quoted(db, report, where, args)
                report.unanswered = _groups(db, where, args, titles)
                _verdicts(db, report, where, args, titles)
                report.articles = _by_article(db, where, args, titles)
        finally:
            db.close()
        if pins is not None and Path(pins).is_file():
            _corrections(Path(pins), report)
    except sqlite3.Error as exc:
        raise ReportError(f"cannot read the insights database {path}: {exc}") from None
    return report


def _corrections(path: Path, report: Report) -> None:
    db = read_only_database(path)
    try:
        where, args = "at >= ? AND at <= ?", [report.since, report.until]
        if report.article:
            where, args = where + " AND article = ?", [*args, report.article]
        report.corrected = db.execute(f"SELECT COUNT(*) FROM pins WHERE {where}", args).fetchone()[0]
    finally:
        db.close()


def _where(report: Report) -> tuple[str, list]:
    kinds = ",".join("?" * len(QUESTION_KINDS))
    where = f"q.at >= ? AND q.at <= ? AND q.kind IN ({kinds})"
    args = [report.since, report.until, *QUESTION_KINDS]
    if report.article:
        where += " AND q.article = ?"
        args.append(report.article)
    return where, args


def _counts(db, report: Report, where: str, args: list) -> None:
    # Counted per hour since the epoch, then placed at that hour's local hour of day (the server's
    # clock may be UTC while the newsroom reads Beijing time).
    rows = db.execute(f"SELECT CAST(q.at / 3600 AS INTEGER), q.answered, COUNT(*) FROM questions q "
                      f"WHERE {where} GROUP BY 1, 2", args).fetchall()
    zone = ZoneInfo(report.timezone)
    for epoch_hour, answered, count in rows:
        hour = datetime.fromtimestamp(epoch_hour * 3600 + 1800, zone).hour
        report.questions += count
        report.by_hour[hour] += count
        if answered:
            report.answered += count
        else:
            report.refused_by_hour[hour] += count
    latencies = [r[0] for r in db.execute(f"SELECT q.latency_ms FROM questions q WHERE {where}", args)]
    report.median_latency_ms = float(np.median(latencies)) if latencies else 0.0


def _titles(db) -> dict[str, str]:
    """Each article's title by id, as the quotes recorded it (an article never quoted has none)."""
    return dict(db.execute("SELECT q.article, MAX(p.article) FROM questions q JOIN quoted p ON p.question = q.id "
                           "WHERE q.article != '' GROUP BY q.article").fetchall())


def _verdicts(db, report: Report, where: str, args: list, titles: dict[str, str]) -> None:
    """The readers' 👍 count, the unsure answers, and the answers marked 👎 (没答对), most marked
    first, in the readers' own words and with their article."""
    report.liked = db.execute(f"SELECT COUNT(*) FROM questions q WHERE {where} AND q.verdict = 1", args).fetchone()[0]
    report.wrong = db.execute(f"SELECT COUNT(*) FROM questions q WHERE {where} AND q.verdict = 0", args).fetchone()[0]
    report.unsure = db.execute(f"SELECT COUNT(*) FROM questions q WHERE {where} AND q.sure = 0", args).fetchone()[0]
    report.marked_wrong = [(question, quote, n, titles.get(article, article), article) for question, quote, n, article in db.execute(
        f"SELECT COALESCE(q.typed, q.question), COALESCE((SELECT p.passage FROM quoted p WHERE p.question = q.id LIMIT 1), ''), "
        f"COUNT(*) AS n, q.article FROM questions q WHERE {where} AND q.verdict = 0 GROUP BY 1, 2, 4 "
        f"ORDER BY n DESC, 1 LIMIT ?", [*args, TOP])]


def _by_article(db, where: str, args: list, titles: dict[str, str]) -> list[ArticleLine]:
    rows = db.execute(f"SELECT q.article, COUNT(*), SUM(q.answered), SUM(q.sure = 0), "
                      f"SUM(q.verdict = 0) FROM questions q WHERE {where} GROUP BY q.article ORDER BY 2 DESC", args)
    return [ArticleLine(titles.get(article, article) or "（没有定到某一篇）", n, answered or 0, unsure or 0, wrong or 0)
            for article, n, answered, unsure, wrong in rows]


def _quoted(db, report: Report, where: str, args: list) -> None:
    report.sections = db.execute(
        f"SELECT p.article, p.section, COUNT(DISTINCT p.question) AS n FROM quoted p JOIN questions q ON q.id = p.question "
        f"WHERE {where} GROUP BY p.article, p.section ORDER BY n DESC LIMIT {TOP}", args).fetchall()
    report.passages = db.execute(
        f"SELECT p.article, p.passage, COUNT(*) AS n FROM quoted p JOIN questions q ON q.id = p.question "
        f"WHERE {where} GROUP BY p.article, p.passage ORDER BY n DESC LIMIT {TOP}", args).fetchall()


def _groups(db, where: str, args: list, titles: dict[str, str]) -> list[Group]:
    rows = db.execute(f"SELECT MAX(COALESCE(q.typed, q.question)), COUNT(*) AS n, MAX(q.vector), "
                      f"GROUP_CONCAT(DISTINCT q.article) FROM questions q "
                      f"WHERE {where} AND q.answered = 0 AND q.vector IS NOT NULL "
                      f"GROUP BY q.question ORDER BY n DESC LIMIT {GROUP_AT_MOST}", args).fetchall()
    if not rows:
        return []
    questions = [r[0] for r in rows]
    asked_of = [[a for a in (r[3] or "").split(",") if a] for r in rows]
    counts = np.array([r[1] for r in rows])
    vectors = np.stack([np.frombuffer(r[2], dtype=np.float16).astype(np.float32) for r in rows])
    # Questions that read alike once their place is dropped share a vector: clustered once, so that
    # the groups are drawn between topics, not between a question and its twin.
    distinct, twin_of = np.unique(vectors, axis=0, return_inverse=True)
    labels = cluster(distinct)[twin_of.ravel()]
    groups = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)   # already in order of frequency
        articles = sorted({titles.get(a, a) for i in members for a in asked_of[i]})
        groups.append(Group(int(counts[members].sum()), [questions[i] for i in members[:3]], articles))
    return sorted(groups, key=lambda g: -g.size)


def cluster(vectors: np.ndarray) -> np.ndarray:
    """A group label per vector (see the module's docstring). Fewer than three questions are
    each a group of their own."""
    if len(vectors) < 3:
        return np.arange(len(vectors))
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist, squareform
    from sklearn.metrics import silhouette_score
    distances = pdist(vectors - vectors.mean(axis=0), "cosine")
    tree, square = linkage(distances, "average"), squareform(distances)
    best, labels = -1.0, np.arange(len(vectors))
    for cut in CUTS:
        candidate = fcluster(tree, cut, "distance")
        groups = len(np.unique(candidate))
        if 1 < groups < len(vectors):
            score = silhouette_score(square, candidate, metric="precomputed")
            if score > best:
                best, labels = score, candidate
    return labels


# ---- rendering ---------------------------------------------------------------------------------------

def text(report: Report) -> str:
    """The report for a terminal or a Telegram message (plain text)."""
    period = _period(report)
    if not report.questions:
        return f"{period}：没有记录到读者的提问。"
    lines = [f"{period}：读者提问 {report.questions} 次，回答了 {report.answered} 次（{report.share_answered:.0%}），"
             f"其中读者点了“没答对”的 {report.wrong} 次；没有把握、只引了最接近一句的 {report.unsure} 次。"
             f"中位用时 {report.median_latency_ms:.0f} 毫秒。",
             f"最忙的时段（{_zone_name(report.timezone)}）：" + "、".join(f"{h}点（{n}次）" for h, n in _busiest(report.by_hour)) + "。"]
    if report.marked_wrong:
        lines += ["", "读者点了“没答对”的回答（先看这些）："]
        lines += [f"· {n} 次：“{q}”" + (f" → “{_short(p)}”" if p else "") + _of(a) for q, p, n, a, _ in report.marked_wrong]
    if report.liked:
        lines.append(f"读者点了 👍 的回答：{report.liked} 个。")
    if report.corrected:
        lines.append(f"编辑更正了 {report.corrected} 个问题的回答（/pins 查看）。")
    if report.unanswered:
        lines += ["", "读者想知道、文章里没有的（按意思归组，大组在前）："]
        for n, group in enumerate(report.unanswered[:TOP], 1):
            lines.append(f"G{n}. {group.size} 次{_of(*group.articles)}：" + " / ".join(f"“{q}”" for q in group.examples))
        if len(report.unanswered) > TOP:
            lines.append(f"……另有 {len(report.unanswered) - TOP} 组。")
    else:
        lines += ["", "没有答不上来的问题。"]
    if len(report.articles) > 1:
        lines += ["", "各篇文章（提问次数 / 回答了 / 没把握 / 没答对）："]
        lines += [f"· 《{a.article}》：{a.questions} / {a.answered} / {a.unsure} / {a.wrong}" for a in report.articles[:TOP]]
    if report.sections:
        lines += ["", "引用最多的部分："] + [f"· 《{a}》{s or '开头'}：{n} 次" for a, s, n in report.sections]
    if report.passages:
        lines += ["", "引用最多的句子："] + [f"· {n} 次：“{_short(p)}”" for _, p, n in report.passages[:5]]
    return "\n".join(lines)


def chart(report: Report, path: Path) -> Path:
    """The report as a PNG: questions per hour of day (answered and refused) and the sizes of the
    largest unanswered groups, each labelled by its most asked question. In Chinese, with the Noto
    Sans CJK font the `cvttf-notosanscjk-regular` package ships; without it, in ASCII (G1, G2… as
    in the text), so that no label is drawn as empty boxes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    font = _cjk_font()
    words = _CHART_WORDS["zh" if font else "en"]
    with plt.rc_context({"font.family": font} if font else {}):
        per_article = len(report.articles) > 1
        figure, axes = plt.subplots(1, 3 if per_article else 2, figsize=(16 if per_article else 11, 4),
                                    gridspec_kw={"width_ratios": [3, 2, 2] if per_article else [3, 2]})
        hours, groups = axes[0], axes[1]
        answered = [t - r for t, r in zip(report.by_hour, report.refused_by_hour)]
        hours.bar(range(24), answered, color="#4c72b0", label=words["answered"])
        hours.bar(range(24), report.refused_by_hour, bottom=answered, color="#dd8452", label=words["refused"])
        hours.set(title=words["hours"].format(n=report.questions, share=report.share_answered),
                  xlabel=words["hour"].format(zone=_zone_name(report.timezone)), ylabel=words["questions"],
                  xticks=range(0, 24, 3))
        hours.yaxis.set_major_locator(MaxNLocator(integer=True))   # questions come whole
        hours.legend()
        top = report.unanswered[:TOP]
        labels = [_short(g.examples[0], 14) if font else f"G{n}" for n, g in enumerate(top, 1)]
        groups.barh(labels[::-1], [g.size for g in top][::-1], color="#dd8452")
        groups.set(title=words["groups"], xlabel=words["questions"])
        groups.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not top:
            groups.text(0.5, 0.5, words["none"], ha="center", va="center", transform=groups.transAxes)
        if per_article:   # which reports readers asked about, and how many of their questions were answered
            shown = report.articles[:TOP][::-1]
            names = [_short(a.article, 12) if font else f"A{n}" for n, a in enumerate(report.articles[:TOP], 1)][::-1]
            axes[2].barh(names, [a.answered for a in shown], color="#4c72b0", label=words["answered"])
            axes[2].barh(names, [a.questions - a.answered for a in shown], left=[a.answered for a in shown],
                         color="#dd8452", label=words["refused"])
            axes[2].set(title=words["articles"], xlabel=words["questions"])
            axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.suptitle(_period(report))   # which days, and which article when the report is of one
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
    return Path(path)


_CHART_WORDS = {
    "zh": {"answered": "已回答", "refused": "没找到", "hours": "各时段的提问（共 {n} 次，回答了 {share:.0%}）",
           "hour": "几点（{zone}）", "questions": "提问次数", "groups": "读者想知道、文章里没有的（按意思归组）",
           "none": "没有", "articles": "各篇文章的提问"},
    "en": {"answered": "answered", "refused": "not found", "hours": "Questions by hour ({n}, {share:.0%} answered)",
           "hour": "hour of day ({zone})", "questions": "questions", "groups": "Unanswered, by group of meaning",
           "none": "none", "articles": "Questions by article"},
}


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """The name of the CJK font matplotlib is given (registered once per process), or None when
    the font package is not installed."""
    import importlib.metadata

    from matplotlib import font_manager
    try:
        path = importlib.metadata.distribution("cvttf-notosanscjk-regular").locate_file(
            "cvttf_NotoSansCJK_Regular/NotoSansCJKtc-Regular.otf")
    except importlib.metadata.PackageNotFoundError:
        return None
    if not Path(path).is_file():
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _period(report: Report) -> str:
    if not report.until:
        return "还没有记录"
    zone = ZoneInfo(report.timezone)
    start, end = (datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %H:%M") for t in (report.since, report.until))
    return f"{start} 至 {end}" + (f"（文章 {report.article}）" if report.article else "")


def _zone_name(timezone: str) -> str:
    return "北京时间" if timezone in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else timezone


def _busiest(by_hour: list[int], n: int = 3) -> list[tuple[int, int]]:
    return [(h, c) for h, c in Counter(dict(enumerate(by_hour))).most_common(n) if c]


def _of(*articles: str) -> str:
    """"（《标题》）" after a line: the article(s) it is about; several named when they are few."""
    named = [a for a in articles if a]
    if not named:
        return ""
    return "（" + "、".join(f"《{_short(a, 20)}》" for a in named[:3]) + (f"等 {len(named)} 篇" if len(named) > 3 else "") + "）"


def _short(passage: str, length: int = 40) -> str:
    return passage if len(passage) <= length else passage[:length] + "…"
