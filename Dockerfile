# Minimal image: build the release binary, ship it with the documented config.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
RUN cargo build --release --locked && strip target/release/klamm

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home /var/lib/klamm klamm \
    && mkdir -p /var/lib/klamm && chown klamm /var/lib/klamm
COPY --from=build /src/target/release/klamm /usr/local/bin/klamm
COPY config/klamm.toml /etc/klamm/klamm.toml
USER klamm
ENV KLAMM_DATA_DIR=/var/lib/klamm
VOLUME /var/lib/klamm
EXPOSE 9092 9644
ENTRYPOINT ["/usr/local/bin/klamm", "serve", "--config", "/etc/klamm/klamm.toml"]
