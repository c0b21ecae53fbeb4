# One image for the server nodes, the bot and the archiver (`investor-chat server|bot|archiver`),
# plus a `web` target: the official nginx image with the built client and nginx/nginx.conf.

FROM node:20-slim AS client
WORKDIR /src/client
COPY client/package.json client/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY client/ ./
RUN npm run build

FROM nginx:1.27 AS web
COPY nginx/nginx.conf /etc/nginx/nginx.conf
COPY --from=client /src/client/dist /usr/share/nginx/html

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock pyproject.toml setup.cfg README.md ./
# runtime dependencies exactly as locked (hash-checked, setuptools to build with included), then the
# project itself without re-resolving or fetching a build backend
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY core/ core/
COPY quotes/ quotes/
COPY investing/ investing/
COPY socketio_edge/ socketio_edge/
COPY server/ server/
COPY bot/ bot/
COPY archiver/ archiver/
COPY probes/ probes/
COPY chatkit/ chatkit/
# var/exports exists owned by chat, so the exports volume mounted there starts writable by it
RUN pip install --no-deps --no-build-isolation . && useradd --system --uid 10001 --home-dir /app chat \
    && mkdir -p /app/var/exports && chown -R chat /app/var
COPY --from=client /src/client/dist /app/client/dist
USER chat
ENV CHAT_HOST=0.0.0.0 CHAT_PORT=8080 CHAT_CLIENT_DIR=/app/client/dist
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"
ENTRYPOINT ["investor-chat"]
CMD ["server"]
