# syntax=docker/dockerfile:1
#
# One file builds the image of any of the four services, and the development image:
#
#   docker build --build-arg SERVICE=booking --build-arg PORT=50610 -t ticket/booking .
#   docker build --target dev -t ticket/dev .
#
# docker-compose.prod.yml and docker-compose.dev.yml pass these for you. One file rather than one per service because
# the services are built the same way (a workspace of the same npm project, bundled by esbuild into one script in the
# build stage; the dev image runs the .ts sources by Node's type stripping), so four copies would only drift apart.
#
# The Node version must equal .nvmrc (the compose consistency test checks it). Pin the digest too where images are
# released from this file: `docker buildx imagetools inspect node:24.21.0-bookworm-slim` prints it; write
# `FROM node:24.21.0-bookworm-slim@sha256:<digest>` and refresh it the same way whenever .nvmrc moves (or for the
# base image's security updates, which Docker Hub publishes under the same tag).
FROM node:24.21.0-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# The lockfile and every workspace's manifest: all npm needs to resolve the tree. Copied on their own so that the
# install layers below stay cached until a dependency changes, not on every source edit.
FROM base AS manifests
COPY package.json package-lock.json ./
COPY packages/bench/package.json packages/bench/
COPY packages/contracts/package.json packages/contracts/
COPY packages/payment-sandbox/package.json packages/payment-sandbox/
COPY packages/platform/package.json packages/platform/
COPY packages/stack/package.json packages/stack/
COPY packages/ticketctl/package.json packages/ticketctl/
COPY services/booking/package.json services/booking/
COPY services/checkout/package.json services/checkout/
COPY services/event/package.json services/event/
COPY services/notification/package.json services/notification/

# Production dependencies of one service and of the workspaces it imports (platform, contracts), nothing else.
# `npm install` from the lockfile rather than `npm ci`: see the Makefile's note on the per-platform optional packages.
# --ignore-scripts: no production dependency needs its install script (protobufjs's only prints a version notice).
FROM manifests AS prod-deps
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=<event|booking|checkout|notification>' >&2; exit 1; }
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev --ignore-scripts --no-save --workspace "services/$SERVICE"

# The service bundled (packages/platform/src/cli/bundle.ts, as `make build` does): one script, not ~1,000 modules to
# resolve and strip of their types at every start, so it serves sooner and holds less memory (`make bench-startup`).
# Its own install, with the dev dependencies of the service and the platform (esbuild), which stay in this stage.
FROM manifests AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=<event|booking|checkout|notification>' >&2; exit 1; }
RUN --mount=type=cache,target=/root/.npm \
    npm install --ignore-scripts --no-save --workspace "services/$SERVICE" --workspace packages/platform
COPY packages/contracts/src packages/contracts/src
COPY packages/platform/src packages/platform/src
COPY packages/payment-sandbox/src packages/payment-sandbox/src
COPY services/${SERVICE}/src services/${SERVICE}/src
RUN node packages/platform/src/cli/bundle.ts "$SERVICE"

# Development: the production dependencies of all four services; docker-compose.dev.yml mounts packages/ and services/
# over /app and runs each service under `node --watch`. No sources are copied in.
FROM manifests AS dev
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev --ignore-scripts --no-save \
      --workspace services/event --workspace services/booking \
      --workspace services/checkout --workspace services/notification
ENV NODE_ENV=development
USER node
EXPOSE 9229

# The image a service runs in production: its bundle; beside it its sources (the migrations, which the bundle applies
# with MIGRATE_ON_START and the migration job with ticket-migrate), the workspaces it imports (the descriptor set the
# bundle reads for reflection; the migration and health-check CLIs, which run from their sources) and its production
# dependencies (those CLIs'). Tests, benches and the platform's testing helpers stay out (.dockerignore), as do the
# other services.
FROM base AS runtime
ARG SERVICE
ARG PORT
RUN test -n "$SERVICE" -a -n "$PORT" \
    || { echo 'build with --build-arg SERVICE=<name> --build-arg PORT=<its GRPC_PORT>' >&2; exit 1; }
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json ./
COPY packages/bench/package.json packages/bench/
COPY packages/contracts/package.json packages/contracts/
COPY packages/contracts/src packages/contracts/src
COPY packages/platform/package.json packages/platform/
COPY packages/platform/src packages/platform/src
# The sandbox payment provider's SDK (checkout's, for PAYMENT_PROVIDER=sandbox); a few KB, so every image has it.
COPY packages/payment-sandbox/package.json packages/payment-sandbox/
COPY packages/payment-sandbox/src packages/payment-sandbox/src
COPY services/${SERVICE}/package.json services/${SERVICE}/
COPY services/${SERVICE}/src services/${SERVICE}/src
COPY --from=build /app/services/${SERVICE}/dist services/${SERVICE}/dist
# GRPC_PORT is the service's own default (its config.ts); set here so the health check below knows where to ask.
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    GRPC_PORT=${PORT}
# Migrations run from here too, as in a checkout: node /app/packages/platform/src/cli/migrate.ts <schema> src/db/migrations
WORKDIR /app/services/${SERVICE}
# The image's unprivileged user; the files above stay root's, so the service cannot change its own code.
USER node
EXPOSE ${PORT}
# The services drain on SIGTERM (health NOT_SERVING, running calls finish, consumers and relays close). Node runs as
# PID 1 here, which is fine: it installs its own SIGTERM/SIGINT handlers, and it starts no child processes to reap.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD node /app/packages/platform/src/cli/healthcheck.ts "127.0.0.1:${GRPC_PORT}"
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
