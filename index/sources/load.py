"""Articles from where they live: text and Markdown files, saved web pages, URLs, Word and PDF files.

Each source becomes text in the form index/sources/article.py reads — a title line, metadata lines
(来源：/作者：/日期：), headings, paragraphs — and that text is what is indexed. Extraction is left
to libraries made for it: trafilatura (a web page's main text, title, date and site, without its
navigation, comments and related links), python-docx, pypdf. The extracted text is kept in the
index folder, so every quote is a slice of a text that can always be shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from index.sources.article import Article, ArticleError, load_article, parse_article, read_text_file, text_sha256
from index.sources.decode import DecodeError, decode
from index.sources.fetch import FetchError, FetchLimits, fetch

MAX_BYTES = FetchLimits.max_bytes   # a larger file is refused as a larger page is, not read into memory
MIN_ARTICLE_CHARS = 30
TEXT_SUFFIXES = (".txt", ".md")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*")   # bold in the extracted Markdown: the words stay, the marks go
SUFFIXES = TEXT_SUFFIXES + (".html", ".htm", ".docx", ".pdf")


@dataclass(frozen=True)
class SourceLimits:
    """Bounds on the work one source may cost. A hostile file (a PDF declaring 90,000 pages, a
    small .docx that inflates to gigabytes of XML) is refused by these before it costs minutes or
    memory; index/sources/isolated.py adds the wall time and memory limits of the process that parses."""
    fetch: FetchLimits = FetchLimits()
    seconds: float = 60              # wall time to parse one source (index/sources/isolated.py)
    memory_mb: int = 512             # address space of the parsing process (index/sources/isolated.py)
    pdf_pages: int = 2000
    docx_inflated_mb: int = 50       # the .docx's parts, as its zip directory declares them
    sentences: int = 5000            # an article with more is refused: it would take minutes to embed


def is_url(source: str) -> bool:
    return urlsplit(str(source)).scheme in ("http", "https")


def checked_url(url: str) -> str:
    """A link as it may be fetched, stored and shown: percent-encoded where it holds characters a
    URL may not (a Chinese path, as sent), and refused (ArticleError) when it carries a user name
    or password, which would otherwise reach every reader's 阅读原文 button."""
    if urlsplit(url).username is not None or urlsplit(url).password is not None:
        raise ArticleError("the link carries a user name or password: give the page's public link")
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def load_source(source: str | Path, limits: SourceLimits = SourceLimits()) -> tuple[Article, str]:
    """The article and the text it was parsed from. Raises ArticleError with one clear line."""
    article, text = _load(source, limits)
    sentences = len(article.passages())
    if sentences > limits.sentences:
        raise ArticleError(f"{source}: {sentences} sentences, more than the limit of {limits.sentences} "
                           f"(sources.limits.sentences)")
    return article, text


def source_sha256(path: Path) -> str:
    """The sha256 an article made from this file records (Article.sha256). A text file is only
    read and decoded, not parsed: checking a library of thousands for edits reads each one."""
    if path.suffix.lower() in TEXT_SUFFIXES or not path.suffix:
        return text_sha256(read_text_file(path))
    return load_source(path)[0].sha256


def _load(source: str | Path, limits: SourceLimits) -> tuple[Article, str]:
    if is_url(str(source)):
        source = checked_url(str(source))
        try:
            raw, charset = fetch(source, limits.fetch)
        except FetchError as exc:
            raise ArticleError(str(exc)) from None
        return _from_html(raw, str(source), url_id(str(source)), charset)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES or not suffix:
        article = load_article(path)
        return article, decode(path.read_bytes())   # load_article decoded it the same way
    if suffix not in SUFFIXES:
        raise ArticleError(f"{path}: unsupported kind of file — give .txt, .md, .html, .docx, .pdf or an http(s) URL")
    raw = _read(path)
    if suffix in (".html", ".htm"):
        return _from_html(raw, str(path.resolve()), path.stem)
    if suffix == ".docx":
        return _parsed(_docx_text(raw, path, limits.docx_inflated_mb), path.stem, str(path.resolve()))
    return _parsed(_pdf_text(raw, path, limits.pdf_pages), path.stem, str(path.resolve()))


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ArticleError(f"{path} is larger than {MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read {path}: {exc.strerror or exc}") from None


def url_id(url: str) -> str:
    parts = urlsplit(url)
    stem = Path(parts.path).stem or parts.hostname or "page"
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "-", stem).strip("-")[:40] or "page"


def _from_html(raw: bytes, where: str, article_id: str, charset: str | None = None) -> tuple[Article, str]:
    import trafilatura
    try:
        page = decode(raw, charset, html=True)
    except DecodeError as exc:
        raise ArticleError(f"{where} is not a readable web page ({exc})") from None
    html = trafilatura.utils.load_html(page)
    if html is None:
        raise ArticleError(f"{where} is not a readable web page")
    # Markdown keeps the page's headings ("### …"), which become sections. (trafilatura drops some
    # short <h2>/<h3> headings altogether; subheads written as <p><strong>…</strong></p>, as many
    # Chinese news sites do, are kept.)
    body = trafilatura.extract(html, output_format="markdown", include_comments=False, include_tables=True,
                               deduplicate=True)
    # A page that is all navigation leaves a few words: less than a sentence or two is no article.
    if len(re.findall(r"[\w\u4e00-\u9fff]", body or "")) < MIN_ARTICLE_CHARS:
        raise ArticleError(f"{where}: no article text found on the page")
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta else "") or ""
    lines = [_EMPHASIS.sub(r"\1", line.strip()) for line in body.splitlines() if line.strip()]
    if lines and title and lines[0].lstrip("# ") == title:
        lines = lines[1:]
    header = [title or _first_clause(lines)]
    if meta and meta.sitename:
        header.append(f"来源：{meta.sitename}")
    if meta and meta.author:
        header.append(f"作者：{meta.author}")
    if meta and meta.date:
        header.append(f"日期：{meta.date}")
    return _parsed("\n".join(header) + "\n\n" + "\n\n".join(lines) + "\n", article_id, where)


def _docx_text(raw: bytes, path: Path, inflated_mb: int) -> str:
    import io
    import zipfile

    import docx
    from lxml.etree import LxmlError
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:   # sizes from the zip directory, nothing inflated yet
            inflated = sum(info.file_size for info in archive.infolist())
        if inflated > inflated_mb * 2**20:
            raise ArticleError(f"{path} inflates to {inflated // 2**20} MB, more than the limit of {inflated_mb} MB "
                               f"(sources.limits.docx_inflated_mb)")
        document = docx.Document(io.BytesIO(raw))
    except ArticleError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise ArticleError(f"{path} is not a readable .docx file ({type(exc).__name__})") from None
    properties = document.core_properties
    paragraphs = [(p.style.name if p.style is not None else "", p.text.strip()) for p in document.paragraphs]
    paragraphs = [(style, text) for style, text in paragraphs if text]
    title = properties.title or next((t for s, t in paragraphs if s == "Title"), "") or _first_clause([t for _, t in paragraphs])
    # The file's creation date is not the publication date (a document made from a template
    # carries the template's): a date is given only where the text itself says it.
    lines = [title] + ([f"作者：{properties.author}"] if properties.author else [])
    body = []
    for style, text in paragraphs:
        if style == "Title" or text == title:
            continue
        body.append(f"## {text}" if style.startswith("Heading") else text)
    return "\n".join(lines) + "\n\n" + "\n\n".join(body) + "\n"


def _pdf_text(raw: bytes, path: Path, max_pages: int) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise ArticleError(f"{path} is password-protected: give an unprotected copy")
        if len(reader.pages) > max_pages:
            raise ArticleError(f"{path} has {len(reader.pages)} pages, more than the limit of {max_pages} "
                               f"(sources.limits.pdf_pages)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ArticleError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArticleError(f"{path} is not a readable PDF ({type(exc).__name__})") from None
    text = "\n".join(pages)
    if not re.search(r"[\w\u4e00-\u9fff]{4}", text):
        raise ArticleError(f"{path} has no text layer (a scanned PDF?): give a PDF with text, or its text")
    title = (reader.metadata.title if reader.metadata else None) or ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if title and lines and lines[0] == title:
        lines = lines[1:]
    author = reader.metadata.author if reader.metadata and reader.metadata.author else ""
    header = [title or lines[0]] + ([f"作者：{author}"] if author else [])
    return "\n".join(header) + "\n\n" + "\n".join(lines if title else lines[1:]) + "\n"


def _first_clause(lines: list[str]) -> str:
    return re.split(r"[。！？!?，,]", lines[0])[0][:30] if lines else ""


def _parsed(text: str, article_id: str, where: str) -> tuple[Article, str]:
    article = parse_article(text, article_id=article_id, path=where)
    if not article.sections:
        raise ArticleError(f"{where} holds no article text")
    return replace(article, path=where), text
