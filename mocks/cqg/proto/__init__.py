"""The CQG mock's own WebAPI subset schema (webapi.proto) and its generated classes (webapi_pb2).

`python -m mocks.cqg.proto` regenerates webapi_pb2.py / .pyi from webapi.proto with grpcio-tools; a test
checks that the checked-in modules match what the .proto generates. Nothing is imported here, so the
regenerator runs even when the generated module is missing or stale.
"""
