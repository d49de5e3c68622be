"""Where the passages, their vectors and their keyword weights are kept, and how that is changed.

  base.py     the two faces of an archive: Archive (load, add, remove, rebuild — one protocol for
              the command line and the bot) and ArchiveView (what retrieval asks: nearest
              passages, similarities, BM25 scores)
  folder.py   the embedded archive: one index folder, each change built beside it and swapped in
  store.py    that folder's format — FAISS, NumPy, JSON — built and loaded
  keyword.py  the keyword index (BM25 over jieba words and character pairs)
  milvus.py   the archive in Milvus, which several bot processes can share
  shelf.py    what a process holds of the articles: their catalogue, and shelves that read an
              article by key when it is needed
"""
