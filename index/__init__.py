"""Indexing and retrieval, in the order an article goes through them:

  sources/   a file or a link → text → an Article (title, metadata, sections, sentences)
  encode/    sentences → vectors (the model, its ONNX export, the encoder)
  archive/   passages, vectors and keyword weights kept: in a folder, or in Milvus
  search/    a question → the passages that answer it, and whether to answer at all
  language/  what every stage reads Chinese with (normal form, words, kinds of answer), and the
             program's own files (caches, keys) read as regular files only

Each package imports only those listed below it (tests/test_layout.py checks it).
"""
