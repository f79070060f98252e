"""nomic-serve: text and image embeddings over gRPC, with ONNX Runtime."""

__version__ = "0.1.0"
