"""Where the passages, their vectors and their keyword weights are kept: the Archive interface
(base.py), the embedded index in a folder — FAISS, NumPy, JSON (store.py) —, the keyword index
(keyword.py, BM25 over jieba words and character pairs) and Milvus (milvus.py), which several bot
processes can share."""
