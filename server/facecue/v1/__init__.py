"""Generated gRPC code for facecue.v1 (built from proto/facecue/v1/facecue.proto)."""
