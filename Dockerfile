# sip-drouter container image.
#
#   docker build -t sip-drouter .
#   docker run -d --name drouter sip-drouter
#   docker exec drouter node dist/cli.js gateways
#
# The admin API stays on 127.0.0.1 inside the container (config/default.yaml):
# the HEALTHCHECK, `docker exec … node dist/cli.js` and anything else inside
# reach it, nothing outside does, and it needs no token. To publish it, give
# it an address, a token and the reads that probes and Prometheus make
# without one (admin.openReads):
#
#   docker run -d -p 127.0.0.1:8080:8080 \
#     -e DROUTER_ADMIN__ADDRESS=0.0.0.0 \
#     -e DROUTER_ADMIN__TOKEN="$(openssl rand -hex 24)" \
#     -e DROUTER_ADMIN__OPEN_READS=/health,/metrics sip-drouter
#
# SIP: the native engine puts sip.address in its Via and Record-Route
# headers, so it must be an address the phones and gateways reach: with
# `--network host` the host's (DROUTER_SIP__ADDRESS), or let a
# drachtio-server own SIP (docker-compose.production.example.yml). Other
# settings: DROUTER_* variables, or a mounted YAML file named by DROUTER_CONFIG.
#
# No Docker engine runs on the developers' machines or in CI. What is checked
# there instead (README, "Docker"): test/integration/container-files.test.ts lints this
# file with dockerfile-utils and validates the compose files with
# docker-compose config; test/integration/image-steps.test.ts carries out this
# file's steps in a scratch directory and runs the HEALTHCHECK against the CMD.

# ---------------------------------------------------------------- build stage
FROM node:20-bookworm-slim AS build

# better-sqlite3 is a native addon compiled here by node-gyp, which needs
# python3, make and a C++ compiler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Compile better-sqlite3 from source: prebuild-install skips its download when
# npm_config_build_from_source names the package, and node-gyp then builds
# against the headers that ship with this image's Node in /usr/local/include/node
# instead of fetching them from nodejs.org.
ENV npm_config_build_from_source=better-sqlite3 \
    npm_config_nodedir=/usr/local

# Dependencies first, so source edits do not re-run the native build.
COPY package.json package-lock.json .npmrc ./
RUN npm ci

COPY tsconfig.json ./
COPY src ./src

# Compile TypeScript, drop the dev dependencies (typescript, vitest, types),
# then keep only the finished addon from better-sqlite3's build tree: its
# object files and the SQLite sources (build/, deps/, src/) are not needed at
# run time. `bindings` loads build/Release/better_sqlite3.node. The last line
# fails the build if the addon does not load.
RUN npm run build \
    && npm prune --omit=dev \
    && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node /tmp/better_sqlite3.node \
    && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
    && mkdir -p node_modules/better-sqlite3/build/Release \
    && mv /tmp/better_sqlite3.node node_modules/better-sqlite3/build/Release/better_sqlite3.node \
    && node -e "const D = require('better-sqlite3'); new D(':memory:').prepare('select 1').get()"

# -------------------------------------------------------------- runtime stage
FROM node:20-bookworm-slim AS runtime

ENV NODE_ENV=production
WORKDIR /app

# Code and configuration stay owned by root (read-only for the service user).
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
COPY sql ./sql
COPY package.json ./

# The default store is sqlite:data/drouter.db, relative to the working
# directory: /app/data must be writable by the `node` user (uid 1000). Mount a
# volume here to keep the database across container restarts.
RUN mkdir -p /app/data && chown node:node /app/data

USER node

# 5060: SIP with the native engine (with the drachtio engine the
# drachtio-server owns SIP and this process only dials out to it).
# 8080: admin HTTP API (/health, /metrics, the CLI's commands).
EXPOSE 5060/udp 5060/tcp 8080

# `drouter ha check` asks /health where `drouter start` serves it, with the
# same configuration (DROUTER_* variables, DROUTER_CONFIG's file: address,
# port and token included) and exits 0 when SIP, store and cache are healthy,
# 1 when not, 3 when the server does not answer; `|| exit 1` because Docker
# reserves 2, which the CLI uses for a refused request. The slim image has
# no curl, and a check that reads the token where the server reads it works
# with or without admin.token and admin.openReads.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD node /app/dist/cli.js ha check || exit 1

CMD ["node", "dist/cli.js", "start"]
