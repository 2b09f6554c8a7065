"""onnxruntime's dynamic int8 quantisation of a PyTorch-exported reference, with onnxruntime's defaults (one
scale per tensor, int8 weights); "7" asks for reduce_range, 7-bit weights like alembic's --int8-weights 7, so
the two int8 graphs are compared at the same precision. Usage: torch_reference_quantize.py IN.onnx OUT.onnx BITS
"""
import logging, sys, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
from onnxruntime.quantization import QuantType, quantize_dynamic
quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8, reduce_range=sys.argv[3] == "7")
print("ok")
