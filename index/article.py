"""Article parsing: a UTF-8 plain-text or Markdown file → title, metadata, sections, paragraphs, passages.

A *passage* is the unit the bot quotes: one sentence, or one clause of a long sentence. Every
passage's text is a verbatim slice of the original file, so a quote can always be found in it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path


class ArticleError(ValueError):
    """The file cannot be read as an article (missing, empty, binary, not UTF-8)."""


@dataclass(frozen=True)
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
    metadata: tuple[tuple[str, str], ...]   # (kind, verbatim line), kind in source/author/date/editor
    sections: tuple[Section, ...]
    dropped: tuple[str, ...]                # lines judged not part of the article (site debris)
    # The title was made from the first sentence (the file had no title line): it names no subject.
    title_from_text: bool = False

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

_META = re.compile(r"^\s*(来源|出处|作者|记者|文|撰稿|通讯员|编辑|责任编辑|责编|发布时间|发布日期|时间|日期)\s*[:：]")
_META_KIND = {"来源": "source", "出处": "source", "作者": "author", "记者": "author", "文": "author",
              "撰稿": "author", "通讯员": "author", "编辑": "editor", "责任编辑": "editor",
              "责编": "editor", "发布时间": "date", "发布日期": "date", "时间": "date", "日期": "date"}
_DATE_LINE = re.compile(r"^\s*\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*$")
# A byline closes a news article: "(王祝君)", "（记者 张三 李四）", "（通讯员 王五）".
_BYLINE = re.compile(r"[（(]\s*((?:记者|通讯员|作者|文|图)?\s*[\u4e00-\u9fff]{2,4}(?:[\s、，,][\u4e00-\u9fff]{2,4}){0,3})\s*[)）]\s*$")
# A news report's dateline and reporter open its first paragraph: "中新社巴黎10月16日电 (记者 李洋)",
# "新华社北京3月18日电（记者丁小溪、王爱华）", "本报讯（通讯员 王五）". They stay in the body text and
# are recorded as metadata too.
_DATELINE = re.compile(r"^(?P<agency>[\u4e00-\u9fff]{1,10}?(?:社|网|报|台|客户端|频道|新闻))"
                       r"(?P<place>[\u4e00-\u9fff]{0,8}?)(?P<date>(?:\d{4}年)?\d{1,2}月\d{1,2}日)?(?:电|讯|消息)")
_REPORTER = re.compile(r"^\s*[（(]\s*(?P<line>(?:记者|通讯员|作者|文/?)\s*(?P<names>[^）)]{2,40}?))\s*[)）]")
_SOURCE_INLINE = re.compile(r"[（(]?\s*(?P<line>来源[:：]\s*[^\s（）()。，,]{2,30})")
# Boilerplate of the web pages articles are scraped from. Matched only after the article's last
# paragraph, never inside it.
_DEBRIS = re.compile(r"发表回复|发表评论|立即查看|了解详情|版权所有|版权声明|免责声明|责任编辑|分享到|扫一扫|"
                     r"上一篇|下一篇|相关阅读|相关推荐|相关文章|热门推荐|点击查看|点击进入|登录|注册|客服|"
                     r"关注我们|联系我们|copyright|©|»|订购|返回顶部|网站地图|举报")


def load_article(path: str | Path) -> Article:
    """Read and parse one article file. Raises ArticleError when it cannot be used."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise ArticleError(f"{path} looks binary, not a text article")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArticleError(f"{path} is not UTF-8 text") from None
    article = parse_article(text, article_id=path.stem, path=str(path.resolve()))
    if not article.sections:
        raise ArticleError(f"{path} holds no article text")
    return article


def parse_article(text: str, article_id: str = "article", path: str = "") -> Article:
    """Parse article text into an Article. The first line is the title when it reads as one;
    otherwise (a pasted report of one paragraph) the title is the file's name when it is Chinese,
    else the report's first sentence."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return Article(article_id, path, _sha256(text), "", (), (), ())
    title_from_text = not _is_title(lines)
    if title_from_text:
        title = _fallback_title(article_id, lines[0])
    else:
        title, lines = re.sub(r"^#+\s*", "", lines[0]), lines[1:]
    body, dropped = _cut_debris(lines)
    metadata, body = _take_metadata(body)
    body, author = _take_byline(body)
    if author:
        metadata.append(("author", author))
    metadata += [m for m in _report_metadata(body) if m not in metadata]
    return Article(article_id, path, _sha256(text), title, tuple(metadata), _sections(body), tuple(dropped),
                   title_from_text)


def _is_title(lines: list[str]) -> bool:
    """A title is short, stands above other text, and is not a sentence (a question title may end with ？)."""
    if len(lines) < 2:
        return False
    if lines[0].startswith("#"):
        return True
    first = lines[0]
    if len(first) > 40 or re.search(r"[。；;]", first) or first[-1] in "，,、：:":
        return False
    return not re.search(r"[！？!?…]", first[:-1])


def _fallback_title(article_id: str, first_line: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", article_id):
        return article_id
    sentence = _pieces(_SENTENCE, first_line)[0]
    dateline = _DATELINE.match(sentence)
    if dateline:
        sentence = sentence[dateline.end():]
        sentence = sentence[_REPORTER.match(sentence).end():] if _REPORTER.match(sentence) else sentence
    sentence = sentence.strip(" ：:。")
    clause = re.split(r"[，,；;]", sentence)[0]
    if len(sentence) > 30 and len(clause) >= 8:
        sentence = clause   # the report's first clause names its subject: "法国总统马克龙16日在巴黎宣布"
    return sentence if len(sentence) <= 30 else sentence[:30] + "…"


def _report_metadata(body: list[str]) -> list[tuple[str, str]]:
    """Source, date and reporter from a news report's dateline, and a "来源：" inside the first or
    last sentence. Each value is a verbatim slice of the text, which itself stays in the body."""
    if not body:
        return []
    found = []
    dateline = _DATELINE.match(body[0])
    if dateline:
        found.append(("source", dateline.group()))
        if dateline.group("date"):
            found.append(("date", dateline.group("date")))
        reporter = _REPORTER.match(body[0][dateline.end():])
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


def _sha256(text: str) -> str:
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
    metadata, body = [], []
    for line in lines:
        match = _META.match(line)
        if match and len(line) <= 80:
            metadata.append((_META_KIND[match.group(1)], line))
        elif _DATE_LINE.match(line):
            metadata.append(("date", line))
        else:
            body.append(line)
    return metadata, body


def _take_byline(lines: list[str]) -> tuple[list[str], str]:
    """Strip a closing byline such as "(王祝君)" from the last paragraph; return it as the author."""
    if not lines:
        return lines, ""
    match = _BYLINE.search(lines[-1])
    if not match or not lines[-1][: match.start()].strip():
        return lines, ""
    return lines[:-1] + [lines[-1][: match.start()].rstrip()], match.group(1).strip()


def _is_heading(line: str, next_line: str | None) -> bool:
    if line.startswith("#"):
        return True
    if next_line is None or len(line) > 30 or line[-1] in _FINAL or line.count("。") > 0:
        return False
    # A heading introduces a paragraph: the next line must read as body text.
    return len(next_line) > len(line) or next_line[-1] in _FINAL


def _sections(lines: list[str]) -> tuple[Section, ...]:
    sections, heading, paragraphs = [], "", []
    for i, line in enumerate(lines):
        if _is_heading(line, lines[i + 1] if i + 1 < len(lines) else None):
            if paragraphs:
                sections.append(Section(heading, tuple(paragraphs)))
            heading, paragraphs = re.sub(r"^#+\s*", "", line), []
        else:
            paragraphs.append(line)
    if paragraphs:
        sections.append(Section(heading, tuple(paragraphs)))
    return tuple(sections)
