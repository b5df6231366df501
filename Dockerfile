# syntax=docker/dockerfile:1
# Warden's image: every binary (warden, auth-svc, task-svc, gateway, migrations) on Debian slim, run as a non-root
# user. Which one runs is the container's command; docker-compose.yml starts each service from this one image.
#
#   docker build -t warden .
#   docker run --rm -p 8080:8080 -e BASE_URL=http://localhost:8080 -v warden-data:/var/lib/warden warden
#     (the all-in-one on SQLite; see docs/operations.md)

FROM rust:1-bookworm AS build
# rust:1-bookworm carries libssl-dev and pkg-config, which the passkey verifier (webauthn-rs-core) builds against.
WORKDIR /src
COPY . .
# The registry and target directories are cache mounts: a rebuild recompiles only what changed. They are not part
# of the layer, so the binaries are copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace \
    && mkdir -p /out \
    && cp target/release/warden target/release/auth-svc target/release/task-svc \
          target/release/gateway target/release/migrations /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 warden \
    && useradd --system --uid 10001 --gid warden --home-dir /var/lib/warden --create-home \
               --shell /usr/sbin/nologin warden
COPY --from=build /out/ /usr/local/bin/
USER warden:warden
WORKDIR /var/lib/warden
# Inside a container the servers listen on every interface; the all-in-one keeps its SQLite file and generated
# secret in the data volume.
ENV GATEWAY_ADDR=0.0.0.0:8080 \
    AUTH_ADDR=0.0.0.0:50051 \
    TASK_ADDR=0.0.0.0:50052 \
    WARDEN_DATA_DIR=/var/lib/warden \
    LOG_FORMAT=json
EXPOSE 8080 50051 50052
CMD ["warden"]
