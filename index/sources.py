"""Articles from where they live: text and Markdown files, saved web pages, URLs, Word and PDF files.

Each source becomes text in the form index/article.py reads — a title line, metadata lines
(来源：/作者：/日期：), headings, paragraphs — and that text is what is indexed. Extraction is left
to libraries made for it: trafilatura (a web page's main text, title, date and site, without its
navigation, comments and related links), python-docx, pypdf. The extracted text is kept in the
index folder, so every quote is a slice of a text that can always be shown.
"""
from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from index.article import Article, ArticleError, load_article, parse_article

MAX_BYTES = 20 * 2**20        # a larger file or page is refused, not read into memory
FETCH_TIMEOUT = 20            # seconds to wait for a page
MIN_ARTICLE_CHARS = 30
TEXT_SUFFIXES = (".txt", ".md")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*")   # bold in the extracted Markdown: the words stay, the marks go
SUFFIXES = TEXT_SUFFIXES + (".html", ".htm", ".docx", ".pdf")


def is_url(source: str) -> bool:
    return urlsplit(str(source)).scheme in ("http", "https")


def load_source(source: str | Path) -> tuple[Article, str]:
    """The article and the text it was parsed from. Raises ArticleError with one clear line."""
    if is_url(str(source)):
        return _from_html(_fetch(str(source)), str(source), _url_id(str(source)))
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES or not suffix:
        article = load_article(path)
        return article, path.read_text(encoding="utf-8-sig")
    if suffix not in SUFFIXES:
        raise ArticleError(f"{path}: unsupported kind of file — give .txt, .md, .html, .docx, .pdf or an http(s) URL")
    raw = _read(path)
    if suffix in (".html", ".htm"):
        return _from_html(raw, str(path.resolve()), path.stem)
    if suffix == ".docx":
        return _parsed(_docx_text(raw, path), path.stem, str(path.resolve()))
    return _parsed(_pdf_text(raw, path), path.stem, str(path.resolve()))


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ArticleError(f"{path} is larger than {MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read {path}: {exc.strerror or exc}") from None


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "article-qa/0.1"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ArticleError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArticleError(f"{url} cannot be fetched: {reason}") from None
    if len(body) > MAX_BYTES:
        raise ArticleError(f"{url} is larger than {MAX_BYTES // 2**20} MB")
    return body


def _url_id(url: str) -> str:
    parts = urlsplit(url)
    stem = Path(parts.path).stem or parts.hostname or "page"
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "-", stem).strip("-")[:40] or "page"


def _from_html(raw: bytes, where: str, article_id: str) -> tuple[Article, str]:
    import trafilatura
    html = trafilatura.utils.load_html(raw)
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


def _docx_text(raw: bytes, path: Path) -> str:
    import io
    import zipfile

    import docx
    try:
        document = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ArticleError(f"{path} is not a readable .docx file ({type(exc).__name__})") from None
    properties = document.core_properties
    paragraphs = [(p.style.name if p.style is not None else "", p.text.strip()) for p in document.paragraphs]
    paragraphs = [(style, text) for style, text in paragraphs if text]
    title = properties.title or next((t for s, t in paragraphs if s == "Title"), "") or _first_clause([t for _, t in paragraphs])
    lines = [title] + ([f"作者：{properties.author}"] if properties.author else [])
    lines += [f"日期：{properties.created:%Y-%m-%d}"] if properties.created else []
    body = []
    for style, text in paragraphs:
        if style == "Title" or text == title:
            continue
        body.append(f"## {text}" if style.startswith("Heading") else text)
    return "\n".join(lines) + "\n\n" + "\n\n".join(body) + "\n"


def _pdf_text(raw: bytes, path: Path) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise ArticleError(f"{path} is password-protected: give an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ArticleError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
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
