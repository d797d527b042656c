# voicebot in a container (see packaging/README.md).
#   docker build -t voicebot .
#   docker run --env-file voicebot.env -v $PWD/voicebot.toml:/etc/voicebot/voicebot.toml:ro \
#     -v voicebot-data:/var/lib/voicebot -p 9090:9090 voicebot
# The configuration must serve /metrics and /health on 0.0.0.0:9090 (`metrics =
# "0.0.0.0:9090"`) for the health check.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpocketsphinx-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --features pocketsphinx --bin voicebot \
 && install -D target/release/voicebot /out/voicebot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl espeak-ng \
      libpocketsphinx3 pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/voicebot --create-home voicebot \
 && mkdir -p /etc/voicebot
COPY --from=build /out/voicebot /usr/local/bin/voicebot
USER voicebot
WORKDIR /var/lib/voicebot
ENV NO_COLOR=1
EXPOSE 9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:9090/health || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["voicebot"]
CMD ["run", "-c", "/etc/voicebot/voicebot.toml", "--log-format", "json"]
