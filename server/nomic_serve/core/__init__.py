"""The data path: validation -> tokenization -> inference -> postprocessing, with no grpc."""
