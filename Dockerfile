# sip-drouter container image.
#
# No Docker engine runs on the developers' machines, so this file has never
# been built there: keep it correct by reading it against package.json,
# tsconfig.json and src/.
#
#   docker build -t sip-drouter .
#   docker run --rm -p 8080:8080 -e DROUTER_ADMIN__ADDRESS=0.0.0.0 sip-drouter
#
# Addresses: config/default.yaml binds SIP and the admin API to 127.0.0.1,
# which inside a container is reachable only from the container itself. An
# operator sets DROUTER_SIP__ADDRESS (native engine) and DROUTER_ADMIN__ADDRESS
# (for example 0.0.0.0) to publish them; the defaults stay as they are.
# Other settings: DROUTER_* variables, or a mounted YAML file named by
# --config or DROUTER_CONFIG.

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
# 8080: admin HTTP API (/health).
EXPOSE 5060/udp 5060/tcp 8080

# The slim image has no curl: ask /health with Node's built-in fetch. A 503
# (store unreachable) or no answer marks the container unhealthy. 127.0.0.1
# answers whether admin.address is 127.0.0.1 or 0.0.0.0; if it is set to one
# other address, this check needs changing. The port follows
# DROUTER_ADMIN__PORT, else 8080 (a port set only in a YAML file is not seen).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.DROUTER_ADMIN__PORT || '8080') + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/cli.js", "start"]
