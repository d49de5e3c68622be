"""The archive on Milvus (store.backend: milvus): Milvus Lite in process (a file), and a Milvus Lite
server that two bots share. The ranking must not notice which archive answered."""
import json
import time
from pathlib import Path

import pytest

from conftest import LANSHAN, QINGSHUI, ROOT, run_cli
from test_telegram_e2e import Bot, plain

pytestmark = pytest.mark.e2e
QUESTIONS = [json.loads(line)["question"] for line in (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()] or ["岚山区委书记是谁？"]
QUESTIONS += ["清水镇图书馆的馆长叫什么名字？", "图书馆什么时候开放？", "这篇文章是谁写的", "火星上有几颗卫星？"]


def milvus_config(folder: Path, uri: str | None = None, extra: str = "") -> Path:
    config = folder / "milvus.yaml"
    config.write_text("store: {backend: milvus" + (f", uri: '{uri}'" if uri else "") + "}\n"
                      "insights: {enabled: false}\n" + extra, encoding="utf-8")
    return config


def test_milvus_lite_answers_exactly_as_the_embedded_index(index_dir, tmp_path):
    config = milvus_config(tmp_path)
    built = run_cli("--config", config, "index", LANSHAN, QINGSHUI, "--index-dir", tmp_path / "index")
    assert built.returncode == 0, built.stderr
    assert "Milvus archive" in built.stdout and (tmp_path / "index" / "archive.db").exists()
    embedded = answers_from(index_dir)
    milvus = answers_from(tmp_path / "index", config)
    assert [a["kind"] for a in milvus] == [a["kind"] for a in embedded]
    for mine, theirs in zip(milvus, embedded):   # the same quotes, scored the same
        assert [(q["text"], q["paragraph"]) for q in mine["quotes"]] == [(q["text"], q["paragraph"]) for q in theirs["quotes"]]
        assert [q["score"] for q in mine["quotes"]] == pytest.approx([q["score"] for q in theirs["quotes"]], abs=2e-3)
    assert sum(a["answered"] for a in milvus) >= len(QUESTIONS) - 5


def answers_from(index: Path, config: Path | None = None) -> list[dict]:
    options = ["--config", config] if config else []
    result = run_cli(*options, "ask", "--jsonl", "--index-dir", index, stdin="\n".join(QUESTIONS) + "\n")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_add_replace_and_remove_change_the_milvus_archive_in_place(tmp_path):
    config, folder = milvus_config(tmp_path), tmp_path / "index"
    assert run_cli("--config", config, "index", LANSHAN, "--index-dir", folder).returncode == 0
    ask = lambda: json.loads(run_cli("--config", config, "ask", "--json", "清水镇图书馆的馆长叫什么名字？",  # noqa: E731
                                     "--index-dir", folder).stdout)
    assert "陈建国" not in json.dumps(ask(), ensure_ascii=False)
    added = run_cli("--config", config, "index", "--add", QINGSHUI, "--index-dir", folder, "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["articles"] == 2
    assert "陈建国" in ask()["quotes"][0]["text"]
    again = run_cli("--config", config, "index", "--add", QINGSHUI, "--index-dir", folder)
    assert "replaced qingshui_library" in again.stdout and again.returncode == 0
    removed = run_cli("--config", config, "index", "--remove", "qingshui_library", "--index-dir", folder)
    assert removed.returncode == 0 and "1 article(s) left" in removed.stdout, removed.stderr
    assert "陈建国" not in json.dumps(ask(), ensure_ascii=False)
    unknown = run_cli("--config", config, "index", "--remove", "nothing_here", "--index-dir", folder)
    assert unknown.returncode == 2 and "no article nothing_here" in unknown.stderr
    last = run_cli("--config", config, "index", "--remove", "lanshan", "--index-dir", folder)
    assert last.returncode == 2 and "empty index" in last.stderr


def test_a_milvus_lite_file_held_by_another_process_is_one_clear_line(tmp_path):
    from index.archive.milvus import MilvusArchive
    config, folder = milvus_config(tmp_path), tmp_path / "index"
    assert run_cli("--config", config, "index", LANSHAN, "--index-dir", folder).returncode == 0
    holder = MilvusArchive(str(folder / "archive.db"))
    try:
        result = run_cli("--config", config, "ask", "岚山区委书记是谁？", "--index-dir", folder)
    finally:
        holder.client.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "one process at a time" in result.stderr and "store.uri" in result.stderr


def test_two_bots_share_one_milvus_server_and_see_each_others_articles(tmp_path):
    from bot.tools.milvus_server import milvus_lite_server
    with milvus_lite_server(tmp_path / "milvus") as (uri, server):
        telegram = "telegram: {poll_timeout: 1, typing_after: 0, admin_ids: [77]}\n"
        config = milvus_config(tmp_path, uri)
        built = run_cli("--config", config, "index", LANSHAN, "--index-dir", tmp_path / "a" / "index")
        assert built.returncode == 0, built.stderr
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "b").mkdir()
        first = Bot(tmp_path / "a" / "index", tmp_path / "a", config.read_text() + telegram).start()
        second = Bot(tmp_path / "b" / "index", tmp_path / "b", config.read_text() + telegram).start()
        try:
            for bot in (first, second):   # the same archive: both answer from the article
                bot.api.message("岚山区委书记是谁？", user_id=10)
                assert "焦春锋" in plain(bot.replies(10)[0]["params"]["text"])
            uploaded = time.time()
            first.api.document("qingshui_library.md", QINGSHUI.read_bytes(), user_id=77)
            assert "qingshui_library" in plain(first.replies(77, 2, timeout=120)[1]["params"]["text"])
            reported = time.time()
            for n in range(100):   # the other bot: answerable within seconds of the upload's end
                second.api.message("清水镇图书馆的馆长叫什么名字？", user_id=300 + n)
                if "陈建国" in plain(second.replies(300 + n)[0]["params"]["text"]):
                    break
                time.sleep(0.2)
            seconds = time.time() - uploaded
            print(f"article uploaded to one bot answered by the other {seconds:.1f} s after the upload, "
                  f"{time.time() - reported:.1f} s after the first bot reported it added")
            assert "陈建国" in plain(second.replies(300 + n)[0]["params"]["text"]) and seconds < 30
            assert "Now answering from the rebuilt index" in second.log.read_text()
            # The server goes away: a question waits, unanswered and unapologised, until it is back.
            server.terminate()
            server.wait(30)
            second.api.message("岚山区委书记是谁？", user_id=500)
            time.sleep(3)
            assert not [s for s in second.api.sent_to(500) if s["method"] == "sendMessage"]
            assert "stays pending" in second.log.read_text() and "Traceback" not in second.log.read_text()
            asked = run_cli("--config", config, "ask", "岚山区委书记是谁？", "--index-dir", tmp_path / "a" / "index")
            assert asked.returncode == 1 and "Cannot open the Milvus archive" in asked.stderr
            assert len(asked.stderr.strip().splitlines()) == 1, asked.stderr
            port = int(uri.rsplit(":", 1)[1])
            with milvus_lite_server(tmp_path / "milvus", port=port):
                assert "焦春锋" in plain(second.replies(500, timeout=60)[0]["params"]["text"])
        finally:
            first.stop()
            second.stop()


@pytest.mark.parametrize("documents", [[["岚山", "港口", "岚山"], ["港口"], [], ["钢铁", "港口", "项目", "项目", "岚山"]]])
def test_stored_weights_times_the_question_idf_is_the_embedded_bm25(documents):
    """What Milvus's inner product computes is the embedded keyword index's BM25, to float precision."""
    import math
    from collections import Counter
    from index.archive.keyword import KeywordIndex
    from index.archive.milvus import _weights, token_dimension
    embedded = KeywordIndex.build(documents)
    average = sum(map(len, documents)) / len(documents)
    stored = _weights(documents, average)
    for question in (["岚山"], ["港口", "项目"], ["岚山", "岚山", "钢铁", "没有的词"]):
        df = Counter(token for doc in documents for token in set(doc))
        idf = {token_dimension(t): math.log(1 + (len(documents) - df[t] + 0.5) / (df[t] + 0.5)) for t in set(question) if df[t]}
        milvus = [sum(w * doc.get(dim, 0.0) for dim, w in idf.items()) for doc in stored]
        assert milvus == pytest.approx(embedded.scores(question).tolist(), rel=1e-5)


def _terms(archive) -> tuple[dict, dict]:
    rows = archive.client.query(archive.names["terms"], filter="pk >= 0", output_fields=["passages", "sections"])
    return ({r["pk"]: r["passages"] for r in rows if r["passages"]}, {r["pk"]: r["sections"] for r in rows if r["sections"]})


def test_a_write_cut_short_is_repaired_and_never_skews_the_keyword_counts(embedder, tmp_path):
    from index.archive.base import ArchiveCutShort
    from index.archive.milvus import MilvusArchive
    from index.sources.load import load_source
    archive = MilvusArchive(str(tmp_path / "archive.db"))
    archive.create(embedder.dimension, embedder.name)
    (lanshan, lanshan_text), (qingshui, qingshui_text) = load_source(LANSHAN), load_source(QINGSHUI)
    archive.add([lanshan], {lanshan.id: lanshan_text}, embedder)

    real_insert = archive._insert_articles
    archive._insert_articles = lambda *a: (_ for _ in ()).throw(ConnectionError("server went away"))
    with pytest.raises(ArchiveCutShort, match="server went away"):   # counted in, vectors written, the articles' rows never
        archive.add([qingshui], {qingshui.id: qingshui_text}, embedder)
    archive._insert_articles = real_insert
    assert archive.meta()["writing"] == [qingshui.id]

    archive.add([qingshui], {qingshui.id: qingshui_text}, embedder)   # repairs first, then adds
    archive.add([qingshui], {qingshui.id: qingshui_text}, embedder)   # a repeated add changes nothing
    archive.remove([qingshui.id])
    expected, meta = archive.counts_from_articles(), archive.meta()
    passages, sections = _terms(archive)
    assert passages == dict(expected["passage_df"]) and sections == dict(expected["section_df"])
    assert (meta["articles"], meta["passages"], meta["sections"], meta["writing"]) == \
        (1, expected["passages"], expected["sections"], [])
    assert all(0 < df <= meta["passages"] for df in passages.values())


def test_a_query_milvus_refuses_is_that_questions_error_not_an_outage(embedder, tmp_path):
    from index.archive.base import ArchiveQueryError, ArchiveUnavailable
    from index.archive.milvus import MilvusArchive
    from index.sources.load import load_source
    archive = MilvusArchive(str(tmp_path / "archive.db"))
    archive.create(embedder.dimension, embedder.name)
    lanshan, text = load_source(LANSHAN)
    archive.add([lanshan], {lanshan.id: text}, embedder)
    view = archive.load().view
    with pytest.raises(ArchiveQueryError):
        view.call("search", archive.names["passages"], data=[{1: -1.0}], anns_field="keywords", limit=3,
                  search_params={"metric_type": "IP"})
    assert not issubclass(ArchiveQueryError, ArchiveUnavailable)


def test_article_records_are_joined_from_their_parts_one_article_at_a_time():
    from index.archive.milvus import _records, row_key
    record = {"article": {"id": "b"}, "text": "长" * 40}
    body = json.dumps(record, ensure_ascii=False)
    rows = [{"pk": row_key("a", 0), "article": "a", "part": 0, "body": '{"article": {"id": "a"}}'}] + \
        [{"pk": row_key("b", n), "article": "b", "part": n, "body": body[n * 10:(n + 1) * 10]}
         for n in range(len(body) // 10 + 1)]
    rows.sort(key=lambda r: r["pk"])
    streamed = _records(iter(rows))   # as query_iterator gives them: in key order
    first = next(streamed)
    assert first["article"]["id"] in ("a", "b") and len(list(streamed)) == 1
    assert sorted(r["article"]["id"] for r in _records(rows[::-1])) == ["a", "b"]   # a query's list, any order
    assert record in list(_records(rows[::-1]))


def test_a_change_of_more_articles_than_the_meta_row_can_name_is_marked_and_rebuilt_not_repaired(embedder, tmp_path):
    from index.archive.milvus import MANY, MilvusArchive
    from index.archive.store import IndexStoreError
    from index.sources.article import parse_article
    archive = MilvusArchive(str(tmp_path / "archive.db"))
    archive.create(embedder.dimension, embedder.name)
    many = [parse_article(f"第{n}篇\n\n第{n}篇的正文。\n", article_id=f"article-{n:05d}") for n in range(5_000)]
    meta = archive._begin([a.id for a in many])   # 5,000 ids would not fit the row
    assert meta["writing"] == MANY == archive.meta()["writing"]
    with pytest.raises(IndexStoreError, match="run: article-qa index"):
        archive.add(many[:1], {}, embedder)
    archive.rebuild(many[:3], {}, embedder)
    assert archive.meta()["writing"] == [] and archive.article_count() == 3
