//! The echo service of the gRPC ceiling, compiled from `proto/warden/bench/v1/echo.proto`.

tonic::include_proto!("warden.bench.v1");
