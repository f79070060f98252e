"""`nomic.serve.v1`: messages (`embedding_service_pb2`) and service stubs (`..._pb2_grpc`)."""
