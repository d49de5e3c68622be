"""Article parsing: a UTF-8 plain-text or Markdown file → title, metadata, sections, paragraphs, passages.

A *passage* is the unit the bot quotes: one sentence, or one clause of a long sentence. Every
passage's text is a verbatim slice of the original file, so a quote can always be found in it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from index.sources.decode import DecodeError, decode


class ArticleError(ValueError):
    """The file cannot be read as an article (missing, empty, binary, not UTF-8)."""


@dataclass(frozen=True, slots=True)   # one per sentence of the archive: no __dict__ each
class Passage:
    article: str      # article id (file stem), unique within an index
    title: str
    section: str      # section heading, "" for text before the first heading
    section_no: int   # 0-based position of the section in the article
    paragraph: int    # 1-based, counted within the section
    text: str         # verbatim slice of the original
    context: str      # the whole paragraph the passage stands in


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    id: str
    path: str
    sha256: str
    title: str
    metadata: tuple[tuple[str, str], ...]   # (kind, verbatim text), kind in source/author/date/place/editor
    sections: tuple[Section, ...]
    dropped: tuple[str, ...]                # lines judged not part of the article (site debris)
    # The title was made from the first sentence (the file had no title line): it names no subject.
    title_from_text: bool = False

    def as_json(self) -> dict:
        """The article as JSON data (what dataclasses.asdict gives, five times faster: an index
        change writes every article of the archive again)."""
        return {"id": self.id, "path": self.path, "sha256": self.sha256, "title": self.title,
                "metadata": [list(m) for m in self.metadata],
                "sections": [{"heading": s.heading, "paragraphs": list(s.paragraphs)} for s in self.sections],
                "dropped": list(self.dropped), "title_from_text": self.title_from_text}

    @classmethod
    def from_json(cls, data: dict) -> "Article":
        return cls(data["id"], data["path"], data["sha256"], data["title"],
                   tuple(tuple(m) for m in data["metadata"]),
                   tuple(Section(s["heading"], tuple(s["paragraphs"])) for s in data["sections"]),
                   tuple(data["dropped"]), data.get("title_from_text", False))

    def passages(self, max_chars: int = 120) -> list[Passage]:
        """Return every sentence (or clause of a long sentence) of the article, in reading order."""
        out = []
        for section_no, section in enumerate(self.sections):
            for number, paragraph in enumerate(section.paragraphs, start=1):
                for piece in split_passages(paragraph, max_chars):
                    out.append(Passage(self.id, self.title, section.heading, section_no, number, piece, paragraph))
        return out


# Sentence-final punctuation; a heading never ends with it, a body paragraph almost always does.
_FINAL = "。！？!?…；;：:，,、"
_SENTENCE = re.compile(r"[^。！？!?…]*(?:[。！？!?]+|…+|$)[”’」』\"'）)]*")
_CLAUSE = re.compile(r"[^；;]*(?:[；;]|$)")
_COMMA = re.compile(r"[^，,]*(?:[，,]|$)")

_META = re.compile(r"^\s*(来源|出处|作者|记者|文|撰稿|通讯员|编辑|责任编辑|责编|发布时间|发布日期|发稿时间|时间|日期)\s*[:：]")
_META_KIND = {"来源": "source", "出处": "source", "作者": "author", "记者": "author", "文": "author",
              "撰稿": "author", "通讯员": "author", "编辑": "editor", "责任编辑": "editor",
              "责编": "editor", "发布时间": "date", "发布日期": "date", "发稿时间": "date", "时间": "date",
              "日期": "date"}
# A date as news pages print it: 2023年08月10日 05:53:50, 2023-08-10 05:53, 2023/8/10, 2023.08.10.
_DATE = r"\d{4}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}\s*日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
_DATE_LINE = re.compile(r"^\s*(?:" + _DATE + r")\s*(?:星期[一二三四五六日天]|周[一二三四五六日])?\s*$")
# The parts of a metadata line: "来源：北京青年报 | 2023年08月10日 05:53:50" is a source and a date.
_META_PARTS = re.compile(r"\s*[|｜]\s*|\s{2,}")
# A byline closes a news article: "(王祝君)", "（记者 张三 李四）", "（通讯员 王五）".
_BYLINE = re.compile(r"[（(]\s*((?:记者|通讯员|作者|文|图)?\s*[\u4e00-\u9fff]{2,4}(?:[\s、，,][\u4e00-\u9fff]{2,4}){0,3})\s*[)）]\s*$")
# A news report's dateline and reporter open its first paragraph: "中新社巴黎10月16日电 (记者 李洋)",
# "新华社北京3月18日电（记者丁小溪、王爱华）", "中新网北京8月9日电", "人民网北京8月9日电",
# "央视网消息", "本报讯（通讯员 王五）", "本报北京8月9日电". They stay in the body text and are
# recorded as metadata too: the agency or paper, where the report was filed, and when.
_DATELINE = re.compile(r"^[【\[]?(?P<agency>[\u4e00-\u9fff]{1,10}?(?:社|网|报|台|客户端|频道|新闻|时报|日报|晚报))"
                       r"(?:记者)?(?P<place>[\u4e00-\u9fff]{0,8}?)(?P<date>(?:\d{4}年)?\d{1,2}月\d{1,2}日)?"
                       r"(?:专电|电|讯|消息)[】\]]?")
_REPORTER = re.compile(r"^\s*[（(]\s*(?P<line>(?:(?:本报|本台|本网)?(?:记者|通讯员|作者|文/?|特约撰稿人|实习生)\s*)+"
                       r"(?P<names>[^）)]{2,40}?))\s*[)）]")
# A dateline's reporter without a role: "中新网长春8月13日电 (高龙安)" — names alone, 2–4 characters each.
_BARE_REPORTER = re.compile(r"^\s*[（(]\s*(?P<line>(?P<names>[\u4e00-\u9fff]{2,4}(?:[\s、，,]+[\u4e00-\u9fff]{2,4}){0,3}))"
                            r"\s*[)）]")
# "本报记者 张三 报道" / "记者 张三 李四 报道" on a line (or at the start of a paragraph) of its own.
_REPORTED_BY = re.compile(r"^\s*(?P<line>(?:本报|本台|本网)?(?:记者|通讯员)\s*[\u4e00-\u9fff、 ]{2,30}?\s*报道)")
_SOURCE_INLINE = re.compile(r"[（(]?\s*(?P<line>来源[:：]\s*[^\s（）()。，,]{2,30})")
# A photo's credit, closing its caption or a paragraph: "赵六 摄", "（记者 赵六 摄）", "（宣传部供图）",
# "图片来源：大阪大学", "摄影：赵六", "图/赵六". The credit is metadata; the caption is no sentence of the report.
_CREDIT_LABEL = r"(?:图片来源|图源|摄影|图)\s*[:：/]"
_CREDIT = (_CREDIT_LABEL + r"\s*[^\s（）()。，,]{2,20}|[\u4e00-\u9fff]{2,20}?\s*供图|"
           r"(?:(?:本报|新华社|中新社)?(?:记者|通讯员)\s*)?[\u4e00-\u9fff]{2,4}(?:[\s、][\u4e00-\u9fff]{2,4})?SPACE摄")
# In brackets, or after a caption's full stop (then "X 摄" with its space: "纪录片拍摄" is a heading).
_PHOTO_BY = re.compile(r"\s*[（(]\s*(?P<bracketed>" + _CREDIT.replace("SPACE", r"\s*") + r")\s*[)）]\s*$|"
                       r"(?:^|(?<=[。！？!?]))\s*(?P<bare>" + _CREDIT.replace("SPACE", r"\s+") + r")\s*$")
# A caption as newsrooms write it: "图为开幕式现场。", "活动现场。" — short, or opening as one.
_CAPTION_CHARS = 20
_CAPTION_OPENS = re.compile(r"^(?:图为|图中|上图|下图|左图|右图|图片为|图：)")
# "责任编辑：孙七" in what follows the report: the editor, though the line itself is not kept.
_EDITOR_AFTER = re.compile(r"责任编辑\s*[:：]\s*(?P<name>[\u4e00-\u9fff]{2,4})")
# A wire report's closing mark: "（完）", "(完)", "【完】". Not part of any sentence.
_END_MARK = re.compile(r"\s*[（(【\[]完[）)】\]]\s*$")
# The formula that opens many reports before the news itself: "记者9日从中国科学院紫金山天文台获悉，".
_FORMULA = re.compile(r"^(?:记者|本报记者)?[^，,。]{0,30}?(?:获悉|了解到|得知|获知|悉)[，,：:]")
# Who passed the news on, before the news itself: "@中国天气 7月29日消息，", "央视网消息：",
# "据农业农村部网站消息，", "综合台湾媒体报道，". Not a title's words.
_PASSED_ON = re.compile(r"^(?:@\S+\s*|[^，,。：:“”]{0,12}?(?:消息|讯)\s*[：:，,]\s*|"
                        r"(?:据|综合)[^，,。：:“”]{1,20}?(?:消息|报道|通报)\s*[，,：:]\s*)")
# A clause that only sets the scene of the news: its cause ("受台风影响") or its time ("昨天08时-今天08时").
_CIRCUMSTANCE = re.compile(r"受.{1,20}影响|(?:由于|随着).{1,20}|[^，,]{0,14}?(?:\d{1,2}时|以来|期间)")
# A reprint's first line: "原标题：TikTok将在美国推出电子商务中新网北京7月26日电 …".
_ORIGINAL_TITLE = re.compile(r"^原标题\s*[:：]\s*")
# A photo credit ending a caption that runs into the report: "…示意图。图片来源：大阪大学".
_PHOTO_CREDIT = re.compile(_CREDIT_LABEL)
# Outlets whose datelines open most reprinted reports (general knowledge of Chinese news, not of
# one text): where a run-together title ends and the report begins.
_OUTLET = re.compile(r"新华社|新华网|中新社|中新网|中国新闻网|人民网|人民日报|央视网|央视新闻|央广网|国际在线|光明网|"
                     r"光明日报|经济日报|科技日报|中国日报|中国青年报|法治日报|工人日报|澎湃新闻|环球网|大公网|本报|本网|本台")
# A print edition's jump marks, anywhere: "（下转第四版）", "(上接第一版)".
_JUMP_MARK = re.compile(r"[（(]\s*(?:下转|上接|转|接)第?[一二三四五六七八九十\d]+版\s*[）)]|"
                        r"\s*(?:下转|上接)第[一二三四五六七八九十\d]+版\s*")
# What portals add after a reprinted report, in the same paragraph.
_PORTAL_TAIL = re.compile(r"(?:返回搜狐[，,]?\s*查看更多\s*(?:责任编辑[:：]\s*[\u4e00-\u9fff]{0,4})?|分享让更多人看到|"
                          r"责任编辑[:：]\s*[\u4e00-\u9fff]{0,4}|本文链接[:：]\s*\S*)\s*$")
# A column tag before a title: "（经济）2015年春节黄金周…", "【聚焦】…".
_COLUMN_TAG = re.compile(r"^[（(【\[][\u4e00-\u9fff]{1,4}[）)】\]]\s*(?=\S)")

# Boilerplate of the web pages articles are scraped from. Matched only after the article's last
# paragraph, never inside it.
_DEBRIS = re.compile(r"发表回复|发表评论|立即查看|了解详情|版权所有|版权声明|免责声明|责任编辑|分享到|扫一扫|"
                     r"上一篇|下一篇|相关阅读|相关推荐|相关文章|热门推荐|点击查看|点击进入|登录|注册|客服|"
                     r"关注我们|联系我们|copyright|©|»|订购|返回顶部|网站地图|举报")


def read_text_file(path: Path) -> str:
    """A text article's file, decoded. Raises ArticleError when it cannot be read or is no text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return decode(raw)
    except DecodeError as exc:
        raise ArticleError(f"{path} is not a text article ({exc})") from None


def load_article(path: str | Path) -> Article:
    """Read and parse one article file. Raises ArticleError when it cannot be used."""
    path = Path(path)
    article = parse_article(read_text_file(path), article_id=path.stem, path=str(path.resolve()))
    if not article.sections:
        raise ArticleError(f"{path} holds no article text")
    return article


def parse_article(text: str, article_id: str = "article", path: str = "") -> Article:
    """Parse article text into an Article. Metadata lines (来源/作者/日期…) are taken out first,
    wherever they stand, so they are never the title. The first remaining line is the title when it
    reads as one; otherwise (a pasted report of one paragraph) the title is the file's name when it
    is Chinese, else the report's first news clause (after its dateline and "记者…获悉")."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines, reprint_debris = _reprint_head([line for line in lines if line])
    metadata, lines = _take_metadata(lines)
    if not lines:
        return Article(article_id, path, text_sha256(text), "", tuple(metadata), (), ())
    title_from_text = not _is_title(lines)
    if title_from_text:
        title = _fallback_title(article_id, lines[0])
    else:
        title, lines = _clean_title(lines[0]), lines[1:]
    body, dropped = _cut_debris(_without_page_marks(lines))
    dropped = reprint_debris + dropped
    captions = [line for line in body if _is_caption(line)]
    body = _without_end_mark([line for line in body if not _is_caption(line)])
    dropped = captions + dropped
    body, photo_credits, photo_captions = _take_photo_credits(body)
    dropped = photo_captions + dropped
    body, author = _take_byline(body)
    if author:
        metadata.append(("author", author))
    metadata += [("photo", credit) for credit in photo_credits]
    metadata += [("editor", m.group("name")) for line in dropped for m in [_EDITOR_AFTER.search(line)] if m]
    metadata += [m for m in _report_metadata(body) if m not in metadata]
    return Article(article_id, path, text_sha256(text), title, tuple(metadata), _sections(body), tuple(dropped),
                   title_from_text)


def _reprint_head(lines: list[str]) -> tuple[list[str], list[str]]:
    """A reprinted report's first line as portals run it together: "原标题：X" straight into the
    dateline (X is the title), or a photo's caption and "图片来源：…" before it (dropped). Returns
    the lines with the title on a line of its own, and what was dropped."""
    if not lines:
        return lines, []
    first, dropped = lines[0], []
    original = _ORIGINAL_TITLE.match(first)
    if original:
        first = first[original.end():].strip()
        dateline = _dateline_in(first)
        if dateline is None:   # "原标题：X" on a line of its own
            return [first] + lines[1:], []
        title = first[:dateline].strip(" ，,。")
        return [title, first[dateline:]] + lines[1:], []
    credit = _PHOTO_CREDIT.search(first[:200])
    if credit:
        dateline = _dateline_in(first[credit.end():])
        if dateline is not None and dateline <= 20:
            at = credit.end() + dateline
            return [first[at:]] + lines[1:], [first[:at].strip()]
    return lines, dropped


def _dateline_in(text: str) -> int | None:
    """Where a news dateline ("中新网北京7月26日电") starts in the text, if one does. A known outlet
    decides where the run-together title ends; otherwise the shortest name before 社/网/报… that
    makes a dateline with a date."""
    for match in _OUTLET.finditer(text[:200]):
        found = _DATELINE.match(text[match.start():])
        if found and found.group("date"):
            return match.start()
    for match in re.finditer(r"(?:社|网|报|台)", text[:200]):
        for at in range(match.start() - 2, max(0, match.start() - 10) - 1, -1):
            found = _DATELINE.match(text[at:])
            if found and found.group("date"):
                return at
    return None


def _without_page_marks(lines: list[str]) -> list[str]:
    """Lines without a print edition's jump marks ("（下转第四版）") and a portal's closing tail
    ("返回搜狐，查看更多责任编辑：", "分享让更多人看到") run into the last paragraph."""
    out = []
    for line in lines:
        line = _JUMP_MARK.sub("", line)
        while _PORTAL_TAIL.search(line):
            line = _PORTAL_TAIL.sub("", line).rstrip()
        if line:
            out.append(line)
    return out


# Characters that change how text is shown without being seen: bidi overrides and isolates,
# zero-width spaces and joiners. A title shows in citations and in the bot's description.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _clean_title(line: str) -> str:
    """The title without Markdown's #, a column tag ("（经济）"), a dash left open ("…送进监狱——") or
    invisible characters."""
    title = _COLUMN_TAG.sub("", re.sub(r"^#+\s*", "", _INVISIBLE.sub("", line)))
    return title.rstrip("—-－ ：:") or title


def _is_caption(line: str) -> bool:
    """A picture's caption as scraped pages give it: the same words twice, alt text then caption
    ("陈水扁在美国购买的房产陈水扁在美国购买的房产"), with no sentence end."""
    half = len(line) // 2
    return len(line) % 2 == 0 and half >= 4 and line[:half] == line[half:] and not re.search(r"[。！？!?]$", line)


def _take_photo_credits(body: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Photo credits out of the body ("活动现场。赵六 摄", "…。（宣传部供图）"): each credit as
    metadata; a short caption with it is dropped, a paragraph of the report keeps its text.
    Returns the body, the credits and the captions dropped."""
    kept, credits, captions = [], [], []
    for line in body:
        match = _PHOTO_BY.search(line)
        if not match or (match.start() == 0 and len(body) == 1):
            kept.append(line)
            continue
        credits.append(match.group("bracketed") or match.group("bare"))
        rest = line[:match.start()].rstrip()
        if len(rest) <= _CAPTION_CHARS or _CAPTION_OPENS.match(rest):
            captions.append(line)   # the picture's words, not the report's
        else:
            kept.append(rest)
    return kept, credits, captions


def _without_end_mark(body: list[str]) -> list[str]:
    """The last paragraph without a wire report's "（完）"."""
    if body and _END_MARK.search(body[-1]):
        last = _END_MARK.sub("", body[-1])
        return body[:-1] + [last] if last else body[:-1]
    return body


# A topic tag as Weibo and reposts write it: "#夏季行动·平安守护#", at a line's start or inside it.
_TOPIC_TAG = re.compile(r"#[^#\s]{1,40}#")


def _is_markdown_heading(line: str) -> bool:
    """"## 小标题" (hashes and a space), or hashes before a short line of its own; not a topic tag
    ("#话题# …"), which is text."""
    hashes = re.match(r"#{1,6}", line)
    if not hashes or _TOPIC_TAG.match(line):
        return False
    rest = line[hashes.end():]
    return rest[:1] in (" ", "\t") or (0 < len(rest) <= 40 and rest[-1] not in _FINAL)


def _is_title(lines: list[str]) -> bool:
    """A title is short, stands above other text, and is not a sentence (a question title may end with ？)."""
    if len(lines) < 2:
        return False
    if _is_markdown_heading(lines[0]):
        return True
    first = lines[0]
    if len(first) > 40 or re.search(r"[。；;]", first) or first[-1] in "，,、：:":
        return False
    return not re.search(r"[！？!?…]", first[:-1])


def _fallback_title(article_id: str, first_line: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", article_id):
        return article_id
    sentences = _pieces(_SENTENCE, first_line)
    sentences[0] = _after_dateline(sentences[0])
    while (passed_on := _PASSED_ON.match(sentences[0])) and passed_on.end():
        sentences[0] = sentences[0][passed_on.end():]
    # A lead that asks a question ("当国画艺术与陶瓷艺术进行碰撞，将会展现出怎样…？") is a hook, not news.
    news = [t for t in sentences[:3] if not re.search(r"[？?]$", t)] or sentences
    sentence = _FORMULA.sub("", news[0], count=1)
    sentence = re.sub(r"^[^，,]{0,12}?\d{1,2}(?:月\d{1,2}日|日)(?:[上下晚]午|晚间?|凌晨)?[，,]", "", sentence)
    sentence = sentence.strip(" ：:。")
    clauses = re.split(r"[，,；;]", sentence)
    while len(clauses) > 1 and _CIRCUMSTANCE.fullmatch(clauses[0]):
        clauses.pop(0)   # "受台风“杜苏芮”影响，昨天08时-今天08时，福建…出现了大到暴雨": the news comes after
    clause = clauses[0]
    if len(sentence) > 30 and len(clause) >= 8:
        sentence = clause   # the report's first clause names its subject: "法国总统马克龙16日在巴黎宣布"
    return sentence if len(sentence) <= 30 else sentence[:30] + "…"


def _after_dateline(sentence: str) -> str:
    """The sentence without its dateline and reporter ("中新社南京8月9日电(记者 杨颜慈)")."""
    dateline = _DATELINE.match(sentence)
    if dateline:
        sentence = sentence[dateline.end():]
        reporter = _REPORTER.match(sentence) or _BARE_REPORTER.match(sentence)
        sentence = sentence[reporter.end():] if reporter else sentence
    return sentence.lstrip(" ：:")


def _report_metadata(body: list[str]) -> list[tuple[str, str]]:
    """Source, place, date and reporter from a news report's dateline, a "记者 X 报道" line and a
    "来源：" inside the first or last sentence. Each value is a verbatim slice of the text, which
    itself stays in the body."""
    if not body:
        return []
    found = []
    dateline = _DATELINE.match(body[0])
    if dateline:
        found.append(("source", dateline.group().strip("【】[]")))
        if dateline.group("place"):
            found.append(("place", dateline.group("place")))
        if dateline.group("date"):
            found.append(("date", dateline.group("date")))
        after = body[0][dateline.end():]
        reporter = _REPORTER.match(after) or _BARE_REPORTER.match(after)
        if reporter:
            found.append(("author", reporter.group("line")))
    else:
        reporter = _REPORTER.match(body[0]) or _REPORTED_BY.match(body[0])
        if reporter:
            found.append(("author", reporter.group("line")))
    for sentence in (_pieces(_SENTENCE, body[0])[:1] + _pieces(_SENTENCE, body[-1])[-1:]):
        source = _SOURCE_INLINE.search(sentence)
        if source:
            found.append(("source", source.group("line")))
    return list(dict.fromkeys(found))


def split_passages(paragraph: str, max_chars: int = 120) -> list[str]:
    """Split a paragraph into sentences; a sentence longer than max_chars into clauses at ；, then ，."""
    out = []
    for sentence in _pieces(_SENTENCE, paragraph):
        if len(sentence) <= max_chars:
            out.append(sentence)
            continue
        for clause in _pieces(_CLAUSE, sentence):
            out.extend([clause] if len(clause) <= max_chars else _pack(_pieces(_COMMA, clause), max_chars))
    return out


def _pieces(pattern: re.Pattern, text: str) -> list[str]:
    return [m.group().strip() for m in pattern.finditer(text) if m.group().strip()]


def _pack(parts: list[str], max_chars: int) -> list[str]:
    """Join consecutive comma-parts back into chunks of at most max_chars (a part is never cut)."""
    chunks, current = [], ""
    for part in parts:
        if current and len(current) + len(part) > max_chars:
            chunks.append(current)
            current = ""
        current += part
    return chunks + ([current] if current else [])


def text_sha256(text: str) -> str:
    """What an article records of the text it was parsed from (Article.sha256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cut_debris(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split off what follows the article: everything after a closing byline, else trailing boilerplate."""
    for i, line in enumerate(lines):
        # A byline in the second half of the text closes the article; earlier it is a quoted aside.
        if _BYLINE.search(line) and line[: _BYLINE.search(line).start()].rstrip()[-1:] in "。！？!?”\"" \
                and i >= len(lines) // 2:
            return lines[: i + 1], lines[i + 1:]
    end = len(lines)
    # The first body line always stays: a one-paragraph article is never all debris.
    while end > 1 and _is_debris(lines[end - 1]):
        end -= 1
    return lines[:end], lines[end:]


def _is_debris(line: str) -> bool:
    """Boilerplate is short; a long paragraph that happens to say "登录" or "订购" is content."""
    return (len(line) <= 80 and bool(_DEBRIS.search(line))) or _is_stub(line)


def _is_stub(line: str) -> bool:
    """A short trailing line without punctuation (a menu entry, a slogan) after the last paragraph."""
    return len(line) <= 20 and not re.search(r"[。！？!?]", line)


def _take_metadata(lines: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Metadata lines (来源/作者/编辑/日期…, a date alone) out of the text, each split into its parts."""
    metadata, body = [], []
    for line in lines:
        match = _META.match(line)
        if match and len(line) <= 80:
            metadata += _metadata_parts(line, _META_KIND[match.group(1)])
        elif _DATE_LINE.match(line):
            metadata.append(("date", line))
        else:
            body.append(line)
    return metadata, body


def _metadata_parts(line: str, kind: str) -> list[tuple[str, str]]:
    """(kind, verbatim part) of each part of a metadata line: "来源：北京青年报 | 2023年08月10日 05:53:50"
    → a source and a date; "作者：张三  编辑：李四" → an author and an editor."""
    parts = [p for p in _META_PARTS.split(line) if p]
    if len(parts) == 1:
        return [(kind, line)]
    out = []
    for part in parts:
        label = _META.match(part)
        if label:
            kind = _META_KIND[label.group(1)]
            out.append((kind, part))
        elif re.fullmatch(_DATE + r"\s*", part):
            out.append(("date", part))
        elif out:   # a part without a label continues the one before: "来源：新华社  新华网"
            out[-1] = (out[-1][0], f"{out[-1][1]} {part}")
        else:
            out.append((kind, part))
    return out


def _take_byline(lines: list[str]) -> tuple[list[str], str]:
    """Strip a closing byline such as "(王祝君)" from the last paragraph; return it as the author."""
    if not lines:
        return lines, ""
    match = _BYLINE.search(lines[-1])
    if not match or not lines[-1][: match.start()].strip():
        return lines, ""
    return lines[:-1] + [lines[-1][: match.start()].rstrip()], match.group(1).strip()


def _is_heading(line: str, next_line: str | None) -> bool:
    if _is_markdown_heading(line):
        return True
    if next_line is None or line[-1] in _FINAL or line.count("。") > 0:
        return False
    # A feature's subheading may run to 50 characters ("法律用美国的：被用来修理黑帮的美国联邦法律
    # 也能“顺便”对付中国贪官"); a body paragraph that long ends with punctuation.
    if len(line) > 50:
        return False
    # A heading introduces a paragraph: the next line must read as body text.
    return len(next_line) > len(line) or next_line[-1] in _FINAL


def _sections(lines: list[str]) -> tuple[Section, ...]:
    sections, heading, paragraphs = [], "", []
    for i, line in enumerate(lines):
        if _is_heading(line, lines[i + 1] if i + 1 < len(lines) else None):
            if paragraphs:
                sections.append(Section(heading, tuple(paragraphs)))
                heading = ""
            # A heading straight after another is its subtitle: a long feature's part heading
            # ("如何在美国打官司，向贪官要回钱——") over its first subheading.
            heading = _join_headings(heading, re.sub(r"^#+\s*", "", line))
            paragraphs = []
        else:
            paragraphs.append(line)
    if paragraphs:
        sections.append(Section(heading, tuple(paragraphs)))
    return tuple(sections)


def _join_headings(first: str, second: str) -> str:
    if not first:
        return second
    return first + second if first.endswith(("——", "—", "：", ":")) else f"{first}——{second}"
