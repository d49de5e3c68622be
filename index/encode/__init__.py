"""Sentences into vectors: the embedding model (embed.py), its export to ONNX (onnx_export.py) and
the ONNX Runtime encoder answering runs on (onnx_encoder.py), sized to the machine's cores (cores.py)."""
