# Outwire runtime image: runs one flow file with `outwire run`.
#
#   docker build -t outwire .
#   docker run -v "$PWD/deploy:/data" -p 1880:1880 outwire /data/flows.json
#
# /data holds the flow file, the embedded SQLite store and file context.
# Set OUTWIRE_STORE_URL=mongodb://... to keep contacts in MongoDB instead.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY runtime ./runtime
COPY nodes ./nodes
COPY editor_bridge ./editor_bridge
COPY contrib ./contrib
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 outwire \
    && mkdir -p /data && chown outwire:outwire /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

USER outwire
WORKDIR /data
VOLUME ["/data"]

ENV OUTWIRE_DATA_DIR=/data \
    OUTWIRE_HTTP_HOST=0.0.0.0 \
    OUTWIRE_HTTP_PORT=1880 \
    PYTHONUNBUFFERED=1
EXPOSE 1880

# /health answers 200 while the flows run; the runtime stops gracefully on SIGTERM.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('OUTWIRE_HTTP_PORT', '1880'), timeout=4)"

STOPSIGNAL SIGTERM
ENTRYPOINT ["outwire", "run"]
CMD ["/data/flows.json"]
