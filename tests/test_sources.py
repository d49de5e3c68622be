"""Fast tier: articles from web pages, URLs, Word and PDF files (no model needed)."""
import functools
import http.server
import threading

import pytest

from conftest import DATA, LANSHAN
from index.sources import load as sources
from index.sources.article import ArticleError, load_article
from index.sources.fetch import FetchLimits
from index.sources.load import SourceLimits, load_source

LOCAL = SourceLimits(fetch=FetchLimits(allow_private=True))   # the test servers run on this machine

DEBRIS = ("发表回复", "相关阅读", "版权所有", "人民网首页", "责编", "立即查看", "网友评论")

# A Xinhua-style report: dateline and reporter in the first paragraph, bold subheads, then the debris
# of the page around it (navigation, share buttons, related links, comments, footer).
XINHUA_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>清水镇图书馆夜间开放受欢迎-新华网</title>
<meta property="og:site_name" content="新华网"><meta name="publishdate" content="2024-03-18">
</head><body>
<div class="nav"><a href="/">首页</a> <a href="/politics">时政</a> <a href="/local">地方</a> <a href="/login">登录</a></div>
<div class="header"><h1>清水镇图书馆夜间开放受欢迎</h1>
<div class="info">2024-03-18 09:12:33 来源：新华网</div><div class="share">分享到：微信 微博</div></div>
<div id="detail">
<p>新华社济南3月18日电（记者王小明）清水镇图书馆改造完成后，开放时间延长到晚上九点，首周夜间到馆读者超过1500人次。</p>
<p><strong>阅览座位增加一倍</strong></p>
<p>改造后的图书馆面积达到1200平方米，阅览座位由80个增加到160个。</p>
<p>馆长陈建国介绍，新增的自习区最受学生欢迎，周末常常座无虚席。</p>
<p><strong>数字阅读走进乡村</strong></p>
<p>图书馆还开通了电子书借阅服务，读者用手机扫码就能借阅三万册电子图书。</p>
</div>
<div class="related"><h3>相关阅读</h3><ul><li><a href="/1">山东推进城乡书房建设</a></li><li><a href="/2">全民阅读活动启动</a></li></ul></div>
<div class="comment"><h3>发表回复</h3><p>网友评论：太好了，晚上也能去看书。</p></div>
<div class="footer">新华网版权所有 Copyright © 2000-2024 XINHUANET.com All Rights Reserved. 关于我们 | 联系我们 | 网站地图</div>
</body></html>"""


def _passages(article):
    return [p.text for p in article.passages()]


def test_lanshan_saved_as_a_web_page_indexes_to_the_same_passages():
    from_page, text = load_source(DATA / "lanshan_people.html")
    from_file = load_article(LANSHAN)
    assert _passages(from_page) == _passages(from_file)
    assert from_page.title == from_file.title
    assert dict(from_page.metadata) == {"source": "来源：人民网", "date": "日期：2023-04-13", "author": "王祝君"}
    assert [s.heading for s in from_page.sections] == [s.heading for s in from_file.sections]
    assert all(p in text for p in _passages(from_page))            # every quote is a slice of the kept text
    assert not any(d in text for d in DEBRIS)


def test_a_news_agency_page_gives_title_date_reporter_and_sections(tmp_path):
    page = tmp_path / "xinhua.html"
    page.write_text(XINHUA_PAGE, encoding="utf-8")
    article, text = load_source(page)
    assert article.title == "清水镇图书馆夜间开放受欢迎"
    assert ("date", "日期：2024-03-18") in article.metadata and ("source", "来源：新华网") in article.metadata
    assert any(kind == "author" and "王小明" in line for kind, line in article.metadata)
    assert [s.heading for s in article.sections][1:] == ["阅览座位增加一倍", "数字阅读走进乡村"]
    assert not any(d in text for d in DEBRIS + ("山东推进城乡书房建设", "分享到"))


def test_a_word_file_with_headings(tmp_path):
    import docx
    document = docx.Document()
    document.core_properties.author, document.core_properties.title = "李华", "清水镇图书馆改造完成"
    document.add_heading("清水镇图书馆改造完成", level=0)
    document.add_paragraph("清水镇图书馆改造完成，开放时间延长到晚上九点。")
    document.add_heading("阅览座位增加一倍", level=1)
    document.add_paragraph("改造后的图书馆面积达到1200平方米，阅览座位由80个增加到160个。")
    path = tmp_path / "library.docx"
    document.save(path)
    article, _ = load_source(path)
    assert article.title == "清水镇图书馆改造完成" and ("author", "作者：李华") in article.metadata
    assert not any(kind == "date" for kind, _ in article.metadata)   # the template's creation date is no publication date
    assert [s.heading for s in article.sections] == ["", "阅览座位增加一倍"]
    assert "改造后的图书馆面积达到1200平方米，阅览座位由80个增加到160个。" in _passages(article)


def _pdf(path, lines, encrypt=False):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path), encrypt="secret" if encrypt else None)
    page.setTitle("清水镇图书馆改造完成")
    page.setFont("STSong-Light", 12)
    for n, line in enumerate(lines):
        page.drawString(50, 780 - 20 * n, line)
    if not lines:
        page.rect(100, 100, 200, 200, fill=1)   # a "scan": marks, no text
    page.save()
    return path


def test_a_pdf_text_layer(tmp_path):
    path = _pdf(tmp_path / "library.pdf", ["清水镇图书馆改造完成", "改造后的图书馆面积达到1200平方米。",
                                           "馆长陈建国介绍，夜间到馆读者超过1500人次。"])
    article, _ = load_source(path)
    assert article.title == "清水镇图书馆改造完成"
    assert "馆长陈建国介绍，夜间到馆读者超过1500人次。" in _passages(article)


@pytest.mark.parametrize("make, message", [
    (lambda p: _pdf(p / "scan.pdf", []), "no text layer"),
    (lambda p: _pdf(p / "locked.pdf", ["清水镇图书馆改造完成"], encrypt=True), "password-protected"),
    (lambda p: (p / "broken.pdf").write_bytes(b"%PDF-1.4 not really") and p / "broken.pdf", "not a readable PDF"),
    (lambda p: (p / "broken.docx").write_bytes(b"PK\x03\x04 not a zip") and p / "broken.docx", "not a readable .docx"),
    (lambda p: (p / "empty.html").write_text("<html><body><nav>首页</nav></body></html>") and p / "empty.html",
     "no article text"),
    (lambda p: (p / "slides.pptx").write_bytes(b"x") and p / "slides.pptx", "unsupported kind of file"),
])
def test_bad_files_are_one_clear_line(tmp_path, make, message):
    with pytest.raises(ArticleError, match=message):
        load_source(make(tmp_path))


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_BYTES", 1000)
    page = tmp_path / "big.html"
    page.write_text(XINHUA_PAGE, encoding="utf-8")
    with pytest.raises(ArticleError, match="larger than"):
        load_source(page)


@pytest.fixture()
def site(tmp_path):
    """A local web server: /xinhua.html, /empty.html, and 404 for anything else."""
    (tmp_path / "xinhua.html").write_text(XINHUA_PAGE, encoding="utf-8")
    (tmp_path / "empty.html").write_text("<html><body><nav>首页</nav></body></html>", encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_url_is_fetched_and_extracted(site):
    article, _ = load_source(f"{site}/xinhua.html", LOCAL)
    assert article.title == "清水镇图书馆夜间开放受欢迎" and article.id == "xinhua"
    assert article.path == f"{site}/xinhua.html"


@pytest.mark.parametrize("path, message", [("/missing.html", "answered 404"), ("/empty.html", "no article text")])
def test_bad_urls_are_one_clear_line(site, path, message):
    with pytest.raises(ArticleError, match=message):
        load_source(site + path, LOCAL)


def test_an_unreachable_url_is_one_clear_line():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # nothing listens here once the socket closes
    with pytest.raises(ArticleError, match="cannot be fetched"):
        load_source(f"http://127.0.0.1:{port}/page.html", LOCAL)
