# The leadbridge server: built in a full Rust image, shipped in a slim one with nothing but
# the binary (the web app is embedded in it) and CA certificates for Razorpay.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin leadbridge

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data leadbridge \
    && install -d -m 0700 -o leadbridge /data
COPY --from=build /src/target/release/leadbridge /usr/local/bin/leadbridge
USER leadbridge
ENV LEADBRIDGE_ADDR=0.0.0.0:8001 \
    LEADBRIDGE_DATA_DIR=/data
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:8001/healthz || exit 1
ENTRYPOINT ["leadbridge"]
CMD ["serve"]
