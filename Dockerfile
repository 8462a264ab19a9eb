# Klamm container image: a static (musl) binary and the documented config, nothing else.
#
#   docker build -t klamm .
#   docker run -p 9092:9092 -p 9644:9644 -v klamm-data:/var/lib/klamm \
#     -e KLAMM_ADVERTISED_LISTENER=localhost:9092 klamm
#
# Every setting can be given as KLAMM_<NAME> (KLAMM_LOG_RETENTION_HOURS=24 sets
# log.retention.hours) or as `serve` flags after the image name.

# --- build: the release binary, built by the same script the tests run -------------------------
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# A static binary needs only the musl target; no C code is compiled.
RUN rustup target add "$(uname -m)-unknown-linux-musl"
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
RUN config/docker-build.sh --target "$(uname -m)-unknown-linux-musl" /out \
    && mkdir -p /out/data

# --- final image: binary + config, non-root -------------------------------------------------------
FROM scratch
COPY --from=build /out/klamm /usr/local/bin/klamm
COPY config/klamm.toml /etc/klamm/klamm.toml
# The data directory belongs to the unprivileged user the broker runs as.
COPY --from=build --chown=10001:10001 /out/data /var/lib/klamm
USER 10001:10001
ENV KLAMM_CONFIG=/etc/klamm/klamm.toml \
    KLAMM_DATA_DIR=/var/lib/klamm \
    KLAMM_LISTEN=0.0.0.0:9092 \
    KLAMM_HTTP_LISTEN=0.0.0.0:9644
VOLUME /var/lib/klamm
# Kafka protocol, then HTTP (/metrics, /health).
EXPOSE 9092 9644
# No curl in the image: the binary probes its own /health (200 once serving, 503 while
# recovering the logs or shutting down).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/klamm", "health", "--http", "127.0.0.1:9644"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/klamm"]
CMD ["serve"]
