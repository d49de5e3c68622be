"""How closely an index's int8 encoder agrees with PyTorch on the CPU it runs on (cosine, lowest over
the sample texts the export stored), and whether it would fall back to its fp32 copy.

Usage: python scripts/int8_agreement.py [INDEX_DIR]          (default: data/index)
On a CPU without AVX-512 VNNI, emulated on any x86 machine (Debian's qemu-user):
       qemu-x86_64 -cpu Haswell .venv/bin/python scripts/int8_agreement.py
Measured so: 0.9968 with 7-bit weights on an emulated Haswell (AVX2) and natively with VNNI; the
former full 8-bit weights gave 0.9975 with VNNI and 0.6902 on the emulated Haswell.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from index.encode.onnx_encoder import MIN_INT8_COSINE, OnnxEncoder  # noqa: E402
from index.archive.store import ENCODER_DIR  # noqa: E402

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "data/index") / ENCODER_DIR
encoder = OnnxEncoder(folder)
if encoder.agreement is None:
    print(f"{folder}: no int8 model to check ({encoder.settings['quantization']})")
else:
    used = "int8" if encoder.settings["quantization"] == "int8" else "the fp32 copy"
    print(f"{folder}: int8 agrees with PyTorch at cosine {encoder.agreement:.4f} "
          f"(threshold {MIN_INT8_COSINE}); answering with {used}")
