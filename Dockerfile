# syntax=docker/dockerfile:1
# Multi-stage build: compile and bundle with the dev dependencies; the runtime image holds the
# bundles (the server, the worker, the migration command) and only the packages they leave external
# (scripts/runtime-deps.mjs: argon2, Swagger UI's assets, ioredis — ~17 MB, not all of node_modules
# with the 60 MB of embedded PostgreSQL binaries production refuses to use); it runs as a non-root
# user with node as PID 1's child-free process so SIGTERM reaches the app.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# no compiler: argon2 ships prebuilt binaries (linux x64/arm64, glibc)
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
COPY db ./db
# tsc, then esbuild bundles dist/server.mjs, dist/worker.mjs and dist/cli/migrate.mjs (one file
# each: cold start ≤ 1 s)
RUN npm run build

# the bundles' external packages only, at package-lock.json's versions
FROM node:24-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/bundle.mjs scripts/runtime-deps.mjs ./scripts/
RUN node scripts/runtime-deps.mjs package.json && npm install --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 LOG_REQUESTS=true SHUTDOWN_DRAIN_MS=5000
WORKDIR /app
COPY --from=runtime-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=runtime-deps --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/dist/server.mjs /app/dist/server.mjs.map /app/dist/worker.mjs /app/dist/worker.mjs.map ./dist/
# the migration command where the deployment files run it
COPY --from=build --chown=node:node /app/dist/cli/migrate.mjs ./dist/src/cli/migrate.js
COPY --from=build --chown=node:node /app/dist/cli/migrate.mjs.map ./dist/src/cli/migrate.mjs.map
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Production runs against DATABASE_URL (the embedded PostgreSQL is for development and refused
# here) and needs JWT_SECRET and AUDIT_CHAIN_KEY (≥ 32 characters each); DATABASE_URL is a role
# that owns nothing, DATABASE_OWNER_URL the schema owner that migrates and grants (README,
# Operations); give Prometheus METRICS_TOKEN. SIGTERM drains for SHUTDOWN_DRAIN_MS (5 s here; set
# it to the load balancer's deregistration delay) before closing.
# Behind PgBouncer in transaction mode: DATABASE_URL is the pooler, DATABASE_PREPARED_STATEMENTS=false,
# and DATABASE_DIRECT_URL reaches PostgreSQL itself (LISTEN, the job queue, session locks).
# One-shot migrations (over the direct connection): docker run --rm -e DATABASE_URL=<direct> -e DATABASE_OWNER_URL=… IMAGE node dist/src/cli/migrate.js
# The background worker (webhooks, outbox, sweeps, sealer) from the same image: CMD node dist/worker.mjs
# (the API then runs with WORKER_MODE=off). Kubernetes and Compose: deploy/ (README "Running at scale").
# The `node` user is uid 1000 (deploy/kubernetes runs it as such, on a read-only root filesystem).
# Memory settings measured with npm run bench (see README): a 4 MiB young generation (faster hot
# reads, less memory), a 128 MiB old generation (live heap is ~40–60 MiB) and two malloc arenas
# keep a busy process under 200 MB of RSS.
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=128", "dist/server.mjs"]
