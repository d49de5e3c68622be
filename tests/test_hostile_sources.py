"""Fast tier: links and files built to hurt — private addresses, redirects, trickling servers,
bombs — are refused within their limits, with one line that says which limit."""
import http.server
import io
import socket
import threading
import time
import zipfile

import pytest

from index.sources import fetch as fetch_module
from index.sources.article import ArticleError
from index.sources.fetch import FetchError, FetchLimits, fetch, is_public
from index.sources.isolated import load_source_isolated
from index.sources.load import SourceLimits, load_source

PAGE = ("<html><head><title>清水镇图书馆夜间开放</title></head><body><p>新华社济南3月18日电（记者王小明）"
        "清水镇图书馆改造完成后，开放时间延长到晚上九点，首周夜间到馆读者超过1500人次。</p>"
        "<p>馆长陈建国介绍，新增的自习区最受学生欢迎，周末常常座无虚席。</p></body></html>").encode()

PRIVATE_SPELLINGS = [
    "http://127.0.0.1/", "http://localhost/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/",
    "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://0.0.0.0/", "http://[fe80::1]/", "http://224.0.0.1/", "http://100.64.0.1/", "https://127.0.0.1:8443/",
]


@pytest.mark.parametrize("url", PRIVATE_SPELLINGS)
def test_links_to_private_addresses_are_refused_in_every_spelling(url, monkeypatch):
    monkeypatch.setattr(fetch_module.socket, "create_connection", _no_connection)
    with pytest.raises(FetchError, match="private or local address"):
        fetch(url)


def _no_connection(*args, **kwargs):
    raise AssertionError("a connection was made")


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "114.114.114.114"])
def test_public_addresses_are_public(address):
    assert is_public(address)


@pytest.mark.parametrize("url", ["ftp://example.com/a.html", "file:///etc/passwd", "gopher://example.com/"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchError, match="only http and https"):
        fetch(url)


class _Site(http.server.BaseHTTPRequestHandler):
    """/page, /redirect?to=URL, /chain (six redirects), /trickle (a byte a second), /huge."""

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/page":
            self._send(200, PAGE)
        elif path == "/redirect":
            self._redirect(query.removeprefix("to="))
        elif path.startswith("/chain"):
            n = int(path.removeprefix("/chain") or 0)
            self._redirect(f"/chain{n + 1}" if n < 6 else "/page")
        elif path == "/trickle":
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 2**20))
            self.end_headers()
        else:
            self._send(404, b"")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


LOCAL = FetchLimits(allow_private=True)


def test_a_local_page_is_fetched_only_when_private_urls_are_allowed(site):
    assert fetch(f"{site}/page", LOCAL) == (PAGE, None)
    with pytest.raises(FetchError, match="private or local"):
        fetch(f"{site}/page")


def test_every_redirect_hop_is_checked(site, monkeypatch):
    """A public-looking site that redirects to this machine: the second hop is refused."""
    port = site.rsplit(":", 1)[1]
    public_name = "public.example"
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def resolve(host, *args, **kwargs):   # public.example resolves to a "public" address served locally
        if host == public_name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", int(port)))]
        return real_getaddrinfo(host, *args, **kwargs)
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", resolve)
    monkeypatch.setattr(fetch_module.socket, "create_connection",
                        lambda address, *a: real_connect(("127.0.0.1", address[1]), *a))
    assert fetch(f"http://{public_name}:{port}/page") == (PAGE, None)
    for target in (f"http://127.0.0.1:{port}/page", f"http://2130706433:{port}/page", "ftp://127.0.0.1/x"):
        with pytest.raises(FetchError, match="private or local|only http"):
            fetch(f"http://{public_name}:{port}/redirect?to={target}")


def test_redirects_are_followed_at_most_five_times(site):
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(f"{site}/chain", LOCAL)
    assert fetch(f"{site}/chain2", LOCAL) == (PAGE, None)


def test_one_deadline_bounds_the_whole_fetch(site):
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long|longer than"):
        fetch(f"{site}/trickle", FetchLimits(seconds=1, allow_private=True))
    assert time.monotonic() - started < 3


def test_a_page_over_the_size_cap_is_refused_before_it_is_read(site):
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch(f"{site}/huge", FetchLimits(max_bytes=2**20, allow_private=True))


def _docx_bomb(path, inflated_mb):
    """A .docx whose one part inflates to `inflated_mb` MB of zeros (compresses to a few KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as part:
            chunk = b"\0" * 2**20
            for _ in range(inflated_mb):
                part.write(chunk)
    return path


def test_a_docx_bomb_is_refused_from_its_zip_directory(tmp_path):
    bomb = _docx_bomb(tmp_path / "bomb.docx", 60)
    assert bomb.stat().st_size < 200_000
    started = time.monotonic()
    with pytest.raises(ArticleError, match="inflates to 60 MB.*docx_inflated_mb"):
        load_source(bomb)
    assert time.monotonic() - started < 2


def _pdf_declaring(pages: int) -> bytes:
    """A tiny PDF whose page tree declares `pages` pages, all the same page object."""
    kids = " ".join(["3 0 R"] * pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_a_pdf_over_the_page_limit_is_refused(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_pdf_declaring(3000))
    with pytest.raises(ArticleError, match="3000 pages.*pdf_pages"):
        load_source(bomb)


def test_an_article_over_the_sentence_limit_is_refused(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text("很长的文章\n\n" + "".join(f"这是第{i}句话。" for i in range(300)), encoding="utf-8")
    with pytest.raises(ArticleError, match="300 sentences.*sources.limits.sentences"):
        load_source(long, SourceLimits(sentences=100))


def test_the_child_process_is_killed_at_the_wall_time_limit(site):
    limits = SourceLimits(fetch=FetchLimits(seconds=30, allow_private=True), seconds=1)
    started = time.monotonic()
    with pytest.raises(ArticleError, match="longer than 1 s.*sources.limits.seconds"):
        load_source_isolated(f"{site}/trickle", limits)
    assert time.monotonic() - started < 3


def test_the_child_process_is_held_to_its_memory_limit(tmp_path):
    """A parse that needs more memory than the child may have is refused, and this process is untouched."""
    big = tmp_path / "big.txt"
    big.write_text("标题\n\n" + "很长的一句话，" * 1_500_000 + "。", encoding="utf-8")   # 21 MB of text
    with pytest.raises(ArticleError, match="more than 128 MB|could not be parsed"):
        load_source_isolated(str(big), SourceLimits(memory_mb=128))


def test_a_good_source_parses_the_same_in_the_child(tmp_path):
    from conftest import LANSHAN
    here, _ = load_source(LANSHAN)
    there, _ = load_source_isolated(str(LANSHAN), SourceLimits())
    assert there == here


REPORT = ("臺北市圖書館夜間開放受歡迎\n\n中央社臺北3月18日電（記者王小明）臺北市立圖書館改造完成後，開放時間延長到晚上九點，"
          "首週夜間到館讀者超過1500人次。館長陳建國介紹，新增的自習區最受學生歡迎。\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "big5"])
def test_text_files_in_every_common_chinese_encoding(tmp_path, encoding):
    path = tmp_path / "report.txt"
    path.write_bytes(REPORT.encode(encoding))
    article, text = load_source(path)
    assert article.title == "臺北市圖書館夜間開放受歡迎" and "陳建國" in text


@pytest.mark.parametrize("encoding, declared", [("big5", "big5"), ("big5", None), ("gb18030", "gb2312"),
                                                ("gbk", None), ("utf-16", "utf-16")])
def test_web_pages_in_every_common_chinese_encoding(tmp_path, encoding, declared):
    title, body = REPORT.split("\n\n")
    meta = f'<meta charset="{declared}">' if declared else ""
    page = tmp_path / "report.html"
    page.write_bytes(f"<html><head>{meta}<title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>"
                     f"</body></html>".encode(encoding))
    article, _ = load_source(page)
    assert article.title == title
