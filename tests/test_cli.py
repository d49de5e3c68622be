"""End-to-end tier: the real CLI as a subprocess, with the real model and index."""
import json
import shutil

import numpy as np
import pytest

from conftest import DATA, LANSHAN, QINGSHUI, run_cli

pytestmark = pytest.mark.e2e


def _ask_jsonl(index_dir, questions):
    result = run_cli("ask", "--jsonl", "--index-dir", index_dir, stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_jsonl_interface_has_exact_keys_and_order(index_dir):
    answers = _ask_jsonl(index_dir, ["岚山区委书记是谁？", "", "馆长叫什么名字？"])
    assert [a["question"] for a in answers] == ["岚山区委书记是谁？", "", "馆长叫什么名字？"]
    assert set(answers[0]) == {"question", "answered", "kind", "understood_as", "quotes", "sure", "reply"}
    assert [a["kind"] for a in answers] == ["quote", "invalid", "quote"]
    assert set(answers[0]["quotes"][0]) == {"text", "article", "section", "paragraph", "score"}
    assert "焦春锋" in answers[0]["quotes"][0]["text"]
    assert answers[1]["answered"] is False and answers[1]["reply"]


def _converse(index_dir, turns):
    lines = [json.dumps({"question": q, "conversation": c}, ensure_ascii=False) for c, q in turns]
    return _ask_jsonl(index_dir, lines)


def test_conversation_mode_keeps_each_conversation_apart(index_dir):
    answers = _converse(index_dir, [("a", "你好"), ("a", "岚山区委书记是谁"), ("b", "他表示了什么"),
                                    ("a", "他表示了什么"), ("a", "这篇文章讲了什么"), ("b", "谢谢")])
    hello, who, stranger, follow_up, overview, thanks = answers
    assert hello["kind"] == "smalltalk" and "没有找到" not in hello["reply"] and "日照岚山区" in hello["reply"]
    assert who["kind"] == "quote" and "焦春锋" in who["quotes"][0]["text"]
    assert stranger["understood_as"] is None
    assert "焦春锋" in follow_up["understood_as"] and "焦春锋" in follow_up["quotes"][0]["text"]
    assert follow_up["reply"].startswith("（按“") and follow_up["question"] == "他表示了什么"
    # Two articles are indexed: the overview is of the one the conversation is about.
    assert overview["kind"] == "overview" and "向稳" in overview["reply"] and "清水镇" not in overview["reply"]
    assert thanks["kind"] == "smalltalk"


def test_a_question_in_another_language_is_answered_or_asked_again_in_chinese(index_dir):
    answer = _ask_jsonl(index_dir, ["What is the weather like on Mars tomorrow?"])[0]
    assert answer["kind"] == "refusal" and "中文" in answer["reply"]


def test_zero_width_characters_do_not_spoil_a_question(index_dir):
    answer = _ask_jsonl(index_dir, ["\ufeff岚山区委\u200b书记\u200d是谁\u2060？"])[0]
    assert answer["kind"] == "quote" and "焦春锋" in answer["quotes"][0]["text"]


def test_plain_lines_are_each_their_own_conversation(index_dir):
    answers = _ask_jsonl(index_dir, ["岚山区委书记是谁", "他表示了什么"])
    assert answers[1]["understood_as"] is None


def test_news_reports_metadata_who_and_refusal(tmp_path):
    index = tmp_path / "news"
    assert run_cli("index", DATA / "paris_ai_summit.txt", DATA / "xinhua_heritage_law.txt",
                   "--index-dir", index).returncode == 0
    answers = _converse(index, [("n", "峰会在哪里举办"), ("n", "记者是谁"), ("n", "马克龙是什么人"),
                                ("n", "巴罗是做什么的"), ("m", "文章有哪些部分"), ("m", "日本首相是谁")])
    where, reporter, macron, barrot, parts, unknown = answers
    assert where["kind"] == "quote" and "巴黎大皇宫" in where["quotes"][0]["text"]
    assert reporter["kind"] == "metadata" and "李洋" in reporter["reply"]
    assert macron["kind"] == "quote" and "法国总统" in macron["quotes"][0]["text"]
    assert barrot["kind"] == "quote" and "数字事务部长" in barrot["quotes"][0]["text"]
    assert parts["kind"] == "sections" and "文物保护法" in parts["reply"]
    assert unknown["kind"] == "refusal"


def test_golden_questions_on_a_second_article(index_dir):
    items = [json.loads(line) for line in (DATA / "qingshui_questions.jsonl").read_text().splitlines()]
    answers = _ask_jsonl(index_dir, [it["question"] for it in items])
    answerable = [(it, a) for it, a in zip(items, answers) if it["answers"]]
    hits = sum(bool(a["quotes"]) and any(x in a["quotes"][0]["text"] for x in it["answers"]) for it, a in answerable)
    refused = sum(not a["answered"] for it, a in zip(items, answers) if not it["answers"])
    assert hits >= len(answerable) - 1, answers
    assert refused >= 1


def test_metadata_question_quotes_the_source_line(index_dir):
    answer = _ask_jsonl(index_dir, ["这篇文章的来源是哪里？"])[0]
    assert answer["answered"] and "人民网" in answer["quotes"][0]["text"]


def test_unanswerable_question_is_refused_with_suggestions(index_dir):
    result = run_cli("ask", "--index-dir", index_dir, "日照明天天气怎么样？")
    assert result.returncode == 0
    assert "文章中没有找到" in result.stdout


@pytest.mark.parametrize("question, message", [("   ", "请输入一个问题"), ("问" * 10000, "问题太长了")])
def test_bad_questions_get_one_line_and_exit_2(index_dir, question, message):
    result = run_cli("ask", "--index-dir", index_dir, question)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [None, b"", b"\x00\x00\x00"])
def test_bad_article_files_are_refused(tmp_path, content):
    path = tmp_path / "article.txt"
    if content is not None:
        path.write_bytes(content)
    result = run_cli("index", path, "--index-dir", tmp_path / "idx")
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.strip()


def test_missing_index_says_how_to_fix(tmp_path):
    result = run_cli("ask", "--index-dir", tmp_path / "none", "问题？")
    assert result.returncode == 1 and "run: article-qa index" in result.stderr


def test_corrupt_index_is_a_clear_error(index_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(index_dir, broken)
    (broken / "passages.faiss").write_bytes(b"garbage")
    result = run_cli("ask", "--index-dir", broken, "问题？")
    assert result.returncode == 1 and "corrupt" in result.stderr and "Traceback" not in result.stderr


def test_an_index_file_that_still_parses_but_changed_is_corrupt(index_dir, tmp_path):
    broken = tmp_path / "vocab"
    shutil.copytree(index_dir, broken)
    (broken / "passages_bm25.vocab.json").write_text("[1, 2, 3]", encoding="utf-8")
    result = run_cli("ask", "--index-dir", broken, "问题？")
    assert result.returncode == 1 and "passages_bm25.vocab.json" in result.stderr and "corrupt" in result.stderr


def test_a_stale_index_still_answers_and_says_how_to_rebuild(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(LANSHAN.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_cli("index", article, "--index-dir", tmp_path / "idx").returncode == 0
    article.write_text(LANSHAN.read_text(encoding="utf-8") + "\n新增一段内容。", encoding="utf-8")
    result = run_cli("ask", "--index-dir", tmp_path / "idx", "岚山区委书记是谁？")
    assert result.returncode == 0 and "焦春锋" in result.stdout
    assert "older than a.txt" in result.stderr and "article-qa index" in result.stderr


def test_bad_config_key(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("embeding: {}\n", encoding="utf-8")
    result = run_cli("--config", config, "ask", "问题？")
    assert result.returncode == 2 and "embeding: Extra inputs are not permitted" in result.stderr


def test_index_reports_dropped_debris(tmp_path):
    result = run_cli("index", LANSHAN, "--index-dir", tmp_path / "idx")
    assert result.returncode == 0 and "dropped 5 line(s)" in result.stdout


def test_run_without_token_builds_the_index_then_chats(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"articles: [{LANSHAN}]\nindex_dir: {tmp_path / 'idx'}\n", encoding="utf-8")
    env = {"TELEGRAM_BOT_TOKEN": ""}
    result = run_cli("--config", config, "run", stdin="岚山区委书记是谁？\n", env=env)
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stdout and "焦春锋" in result.stdout
    assert "Building the index" in result.stderr
    again = run_cli("--config", config, "run", stdin="", env=env)
    assert again.returncode == 0 and "Building the index" not in again.stderr


def test_eval_and_bench_commands(index_dir):
    result = run_cli("eval", DATA / "qingshui_questions.jsonl", "--index-dir", index_dir)
    assert result.returncode == 0 and "hit@1" in result.stdout and "unanswerable 2" in result.stdout
    result = run_cli("bench", "--index-dir", index_dir)
    assert result.returncode == 0 and "p50" in result.stdout and "index build" in result.stdout
    assert "ratio PyTorch / ONNX" in result.stdout and "encode (ONNX Runtime)" in result.stdout


def test_corpus_benchmark_compares_flat_and_hnsw(tmp_path):
    lines = LANSHAN.read_text(encoding="utf-8").splitlines()
    context = "".join(line for line in lines if line.endswith("。"))
    squad = {"data": [{"title": "岚山", "paragraphs": [{"context": context, "qas": [
        {"question": q, "answers": []} for q in ["岚山区委书记是谁？", "有多少个项目通过了评审？"] * 4]}]}]}
    source = tmp_path / "squad.json"
    source.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    result = run_cli("bench", "--corpus", 100, "--source", source)
    assert result.returncode == 0, result.stderr
    for line in ("flat: build", "hnsw: build", "flat: per question p50 / p95", "hnsw: serving process peak RSS"):
        assert line in result.stdout


def test_answering_never_imports_torch(index_dir):
    import subprocess
    import sys
    code = ("import sys; from bot.cli import main; main(['ask', '--index-dir', sys.argv[1], '岚山区委书记是谁？']); "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'scipy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(index_dir)], capture_output=True, text=True, timeout=120,
                            cwd=LANSHAN.parents[2])
    assert result.returncode == 0, result.stderr
    assert "焦春锋" in result.stdout and result.stdout.strip().endswith("[]")


def test_the_index_keeps_its_onnx_encoder_with_hashes(index_dir, tmp_path):
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["encoder"]["runtime"] == "onnx" and manifest["encoder"]["quantization"] == "int8"
    assert manifest["encoder"]["cosine_to_source"] >= 0.99 and "encoder/model.onnx" in manifest["files"]
    broken = tmp_path / "encoder"
    shutil.copytree(index_dir, broken)
    with open(broken / "encoder" / "model.onnx", "r+b") as f:   # one flipped byte in the weights
        f.seek(100_000)
        byte = f.read(1)
        f.seek(100_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = run_cli("ask", "--index-dir", broken, "问题？")
    assert result.returncode == 1 and "encoder/model.onnx" in result.stderr and "corrupt" in result.stderr


def _drifting_copy(index_dir, tmp_path):
    """The index's encoder with PyTorch's reference vectors turned around: on any CPU, the int8
    model now disagrees with them, as it would on a CPU whose int8 arithmetic drifted."""
    from index.encode.onnx_encoder import REFERENCE_FILE
    folder = tmp_path / "drifting"
    shutil.copytree(index_dir / "encoder", folder)
    np.save(folder / REFERENCE_FILE, -np.load(folder / REFERENCE_FILE), allow_pickle=False)
    return folder


def test_an_int8_encoder_that_drifts_where_it_runs_falls_back_to_fp32(index_dir, tmp_path, caplog):
    from index.encode.onnx_encoder import FP32_FILE, open_encoder
    trusted = open_encoder(index_dir / "encoder")
    assert trusted.settings["quantization"] == "int8" and trusted.agreement >= 0.99
    drifting = _drifting_copy(index_dir, tmp_path)
    with caplog.at_level("WARNING"):
        encoder = open_encoder(drifting)
    assert encoder.settings["quantization"] == "none" and encoder.agreement < 0
    assert "drifts on this CPU" in caplog.text and "fp32" in caplog.text
    sample = trusted.settings["samples"][:2]
    assert (encoder.encode(sample) * trusted.encode(sample)).sum(axis=1).min() > 0.99   # fp32 answers alike
    (drifting / FP32_FILE).write_bytes(b"not a model")
    with pytest.raises(ValueError, match="fp32 copy"):
        open_encoder(drifting)


def test_changing_the_runtime_asks_for_a_rebuild(index_dir, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("embedding: {runtime: torch}\n", encoding="utf-8")
    result = run_cli("--config", config, "ask", "--index-dir", index_dir, "问题？")
    assert result.returncode == 1 and "embedding.runtime onnx-int8" in result.stderr and "article-qa index" in result.stderr


def test_questions_encoded_from_many_threads_get_their_own_vectors(index_dir):
    from concurrent.futures import ThreadPoolExecutor
    from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder
    embedder = Embedder(DEFAULT_BACKEND, DEFAULT_MODEL_NAME, encoder_dir=index_dir / "encoder")
    questions = [f"第{n}个问题：岚山的{n}号项目是什么？" for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(embedder.encode_question, questions))
    direct = embedder.encode(questions, kind="query")
    similarity = np.vstack(vectors) @ direct.T
    # Each question got its own vector back (batched with others, int8's dynamic scales differ a little).
    assert (similarity.argmax(axis=1) == np.arange(len(questions))).all() and similarity.diagonal().min() > 0.99


def test_added_articles_survive_a_rebuild_of_the_configured_index(tmp_path):
    article = tmp_path / "lanshan.txt"
    shutil.copy(LANSHAN, article)
    config = tmp_path / "config.yaml"
    config.write_text(f"articles: [{article}]\nindex_dir: {tmp_path / 'idx'}\n", encoding="utf-8")
    env = {"TELEGRAM_BOT_TOKEN": ""}
    assert run_cli("--config", config, "index").returncode == 0
    assert run_cli("--config", config, "index", "--add", DATA / "qingshui_library.md").returncode == 0
    assert run_cli("--config", config, "index", "--remove", "nothing").returncode == 2
    article.write_text(LANSHAN.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    result = run_cli("--config", config, "run", stdin="馆长叫什么名字？\n", env=env)
    assert "Building the index" in result.stderr and "2 article(s)" in result.stderr
    assert "陈建国" in result.stdout


def _answers(index_dir, questions):
    return [(a["kind"], [q["text"] for q in a["quotes"]]) for a in _ask_jsonl(index_dir, questions)]


def _counted_words(index_dir, name):
    """A keyword index's term counts as {(row, word): count}, whatever the columns' order."""
    from index.archive.keyword import load_counts
    counts, vocabulary = load_counts(index_dir, name)
    word = {column: w for w, column in vocabulary.items()}
    rows, columns = counts.nonzero()
    return {(int(r), word[int(c)]): float(counts[r, c]) for r, c in zip(rows, columns)}


def test_a_builder_with_the_non_commercial_model_is_told_its_licence(tmp_path):
    from bot import runtime
    from bot.config import load_settings
    config = tmp_path / "config.yaml"
    config.write_text("embedding: {backend: sentence-transformers, model: m3e-small}\n", encoding="utf-8")
    notes = runtime._notes(load_settings(config))
    assert any("non-commercial use only" in note and "multilingual-e5-small" in note for note in notes)
    assert not any("no ranking and refusal networks" in note for note in notes)   # its own fits ship
    assert runtime._notes(load_settings()) == []   # the shipped config: the default model, MIT


def test_adding_and_removing_an_article_reuses_the_others_and_answers_as_a_full_rebuild(tmp_path):
    from index.archive.keyword import load_counts
    paris = DATA / "paris_ai_summit.txt"
    qingshui = DATA / "qingshui_library.md"
    assert run_cli("index", LANSHAN, qingshui, paris, "--index-dir", tmp_path / "full").returncode == 0
    assert run_cli("index", LANSHAN, qingshui, "--index-dir", tmp_path / "grown").returncode == 0
    added = run_cli("index", "--add", paris, "--index-dir", tmp_path / "grown")
    assert added.returncode == 0 and "passages of unchanged articles reused" in added.stdout
    assert "non-commercial" not in added.stdout   # the default model's licence (MIT) asks nothing of a builder
    assert run_cli("index", LANSHAN, paris, "--index-dir", tmp_path / "lanshan_paris").returncode == 0
    assert run_cli("index", "--remove", "qingshui_library", "--index-dir", tmp_path / "grown").returncode == 0
    questions = ["岚山区委书记是谁", "法国政府打算花多少钱", "峰会在哪里举办", "岚山的主导产业是什么", "文章有哪些部分"]
    assert _answers(tmp_path / "grown", questions) == _answers(tmp_path / "lanshan_paris", questions)
    counts, _ = load_counts(tmp_path / "grown", "passages_bm25")
    fresh, _ = load_counts(tmp_path / "lanshan_paris", "passages_bm25")
    assert counts.shape[0] == fresh.shape[0] and np.array_equal(counts.sum(axis=1), fresh.sum(axis=1))
    kept_sources = {f.name: f.read_bytes() for f in (tmp_path / "grown" / "sources").iterdir()}
    assert kept_sources and kept_sources == {f.name: f.read_bytes() for f in (tmp_path / "lanshan_paris" / "sources").iterdir()}
    for name in ("passages_bm25", "sections_bm25"):   # the same counts of the same words, in other columns
        assert _counted_words(tmp_path / "grown", name) == _counted_words(tmp_path / "lanshan_paris", name)
    assert np.array_equal(np.load(tmp_path / "grown" / "passage_types.npy"),
                          np.load(tmp_path / "lanshan_paris" / "passage_types.npy"))
    full = _answers(tmp_path / "full", questions)
    assert all(kind in ("quote", "sections", "overview", "refusal") for kind, _ in full)


def test_an_add_to_an_hnsw_index_extends_its_graph_and_answers_as_a_fresh_build(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("retrieval: {faiss: hnsw}\n", encoding="utf-8")
    paris = DATA / "paris_ai_summit.txt"
    built = [run_cli("--config", config, "index", LANSHAN, paris, "--index-dir", tmp_path / "fresh"),
             run_cli("--config", config, "index", LANSHAN, "--index-dir", tmp_path / "grown"),
             run_cli("--config", config, "index", "--add", paris, "--index-dir", tmp_path / "grown")]
    assert all(b.returncode == 0 for b in built), [b.stderr for b in built]
    manifest = json.loads((tmp_path / "grown" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["faiss"] == "IndexHNSWFlat" and manifest["reused_passages"] > 0
    questions = ["岚山区委书记是谁", "法国政府打算花多少钱", "峰会在哪里举办"]
    assert _answers(tmp_path / "grown", questions) == _answers(tmp_path / "fresh", questions)


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_a_removal_leaves_tombstones_in_the_faiss_index_until_they_are_many(tmp_path, kind):
    import faiss
    config = tmp_path / "config.yaml"
    config.write_text(f"retrieval: {{faiss: {kind}}}\n", encoding="utf-8")
    paris = DATA / "paris_ai_summit.txt"   # 5 passages; Lanshan 43, Qingshui 11
    for name, articles in (("three", [LANSHAN, QINGSHUI, paris]), ("two", [LANSHAN, paris]), ("one", [LANSHAN])):
        assert run_cli("--config", config, "index", *articles, "--index-dir", tmp_path / name).returncode == 0
    questions = ["岚山区委书记是谁", "法国政府打算花多少钱", "馆长叫什么名字", "图书馆几点开门"]

    assert run_cli("--config", config, "index", "--remove", "qingshui_library", "--index-dir", tmp_path / "three").returncode == 0
    graph = faiss.read_index(str(tmp_path / "three" / "passages.faiss"))
    nodes = np.load(tmp_path / "three" / "dense_passages.npy")
    assert graph.ntotal == len(nodes) == 59 and (nodes >= 0).sum() == 48   # 11 tombstones: 19 % of the graph
    assert sorted(nodes[nodes >= 0]) == list(range(48))
    assert _answers(tmp_path / "three", questions) == _answers(tmp_path / "two", questions)

    # 16 of 59 nodes removed is past MAX_REMOVED_SHARE: the graph is built again, without them
    assert run_cli("--config", config, "index", "--remove", "paris_ai_summit", "--index-dir", tmp_path / "three").returncode == 0
    assert faiss.read_index(str(tmp_path / "three" / "passages.faiss")).ntotal == 43
    assert not (tmp_path / "three" / "dense_passages.npy").exists()
    assert _answers(tmp_path / "three", questions) == _answers(tmp_path / "one", questions)


def test_two_index_changes_at_once_from_two_processes_both_land(tmp_path):
    import subprocess
    import time

    from conftest import CLI, ROOT
    assert run_cli("index", LANSHAN, "--index-dir", tmp_path / "idx").returncode == 0
    from bot.runtime import changing
    with changing(tmp_path / "idx"):   # held here first, so that both changes surely meet the lock
        changes = [subprocess.Popen([CLI, "index", "--add", str(DATA / name), "--index-dir", str(tmp_path / "idx")],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for name in ("qingshui_library.md", "paris_ai_summit.txt")]
        time.sleep(3)
    outputs = [change.communicate(timeout=300) for change in changes]
    assert all(change.returncode == 0 for change in changes), outputs
    assert any("waiting for it to finish" in err for _, err in outputs)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert {a["id"] for a in manifest["articles"]} == {"lanshan", "qingshui_library", "paris_ai_summit"}


def test_a_damaged_copy_of_a_source_is_caught_when_it_is_read_not_at_every_start(index_dir, tmp_path):
    from index.archive.store import IndexStoreError, stored_source_text
    broken = tmp_path / "sources"
    shutil.copytree(index_dir, broken)
    copy = sorted((broken / "sources").glob("*.txt"))[0]
    copy.write_text("被改过的文字。", encoding="utf-8")
    result = run_cli("ask", "--index-dir", broken, "岚山区委书记是谁？")
    assert result.returncode == 0 and "焦春锋" in result.stdout   # the index itself is whole
    with pytest.raises(IndexStoreError, match="corrupt"):
        stored_source_text(broken, copy.stem)


def test_an_article_file_as_the_build_saw_it_is_not_read_again_at_start(tmp_path, monkeypatch):
    from bot import runtime
    from bot.config import load_settings
    from index.archive.store import load_index
    article = tmp_path / "a.txt"
    article.write_text(LANSHAN.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_cli("index", article, "--index-dir", tmp_path / "idx").returncode == 0
    index, settings = load_index(tmp_path / "idx"), load_settings()
    monkeypatch.setattr(runtime, "source_sha256", lambda path: pytest.fail(f"{path} was read"))
    assert runtime._changed_files(index, settings, tmp_path / "idx", config_articles=False) == []
    monkeypatch.undo()
    article.write_text(LANSHAN.read_text(encoding="utf-8") + "\n新增一段内容。", encoding="utf-8")
    assert runtime._changed_files(index, settings, tmp_path / "idx", config_articles=False) == ["a.txt"]


def test_a_file_edited_during_the_build_gets_no_stamp_so_the_next_start_reads_it(tmp_path):
    from index.archive.store import _file_stamp
    from index.sources.load import load_source
    article_file = tmp_path / "a.txt"
    article_file.write_text(LANSHAN.read_text(encoding="utf-8"), encoding="utf-8")
    article = load_source(article_file)[0]
    assert "stamp" in _file_stamp(article)
    article_file.write_text(LANSHAN.read_text(encoding="utf-8") + "\n新增一段内容。", encoding="utf-8")   # after parsing
    assert _file_stamp(article) == {}
