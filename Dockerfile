# syntax=docker/dockerfile:1
#
# One Dockerfile, one target per deployable:
#   docker build --target gateway   -t evalbot-gateway .
#   docker build --target worker    -t evalbot-worker .
#   docker build --target dashboard -t evalbot-dashboard .
# (docker-compose.yml builds all three.) They share one pnpm workspace and lockfile, so they
# share the stages that fetch and build it. Each app runs as one bundled JavaScript file,
# apps/<app>/dist/main.js (`pnpm build`, tooling/app-bundle): no TypeScript loader in the
# process, and no node_modules in the gateway and worker images.

# The current Node LTS (IMAGE_NODE_MAJOR in tooling/app-bundle; a test keeps them equal). The
# bundles are built for Node 20 syntax (BUNDLE_TARGET), which this runs unchanged.
ARG NODE_IMAGE=node:24-bookworm-slim

# pnpm, at the version package.json pins.
FROM ${NODE_IMAGE} AS pnpm
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    CI=true
WORKDIR /src
COPY package.json ./
RUN corepack enable && corepack install

# Every package the lockfile names, into the store. Cached until the lockfile changes.
FROM pnpm AS fetch
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch

# The workspace installed from the store, and every app bundled into apps/<app>/dist.
FROM fetch AS build
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --offline --frozen-lockfile \
 && pnpm build

# The dashboard's production dependencies in /out/dashboard: its bundle loads Bull Board from
# node_modules, since Bull Board serves its UI from files inside its package.
FROM build AS deploy
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @evalbot/dashboard --prod --offline deploy --legacy /out/dashboard

# What every app image starts from.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app

FROM runtime AS gateway
# Code owned by root, run as `node`: the process cannot rewrite itself. package.json says
# the bundle is an ES module.
COPY apps/gateway/package.json /app/apps/gateway/package.json
COPY --from=build /src/apps/gateway/dist /app/apps/gateway/dist
WORKDIR /app/apps/gateway
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000
USER node
# An 8 MiB young generation: fewer scavenges than 2 MiB for the same peak RSS, ~40 MiB less
# than V8's default under bursts of webhooks (NODE_FLAGS in tooling/app-bundle).
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]

FROM runtime AS dashboard
COPY --from=deploy /out/dashboard /app/apps/dashboard
COPY --from=build /src/apps/dashboard/dist /app/apps/dashboard/dist
WORKDIR /app/apps/dashboard
# Inside its container the dashboard must listen beyond loopback, so it insists on
# DASHBOARD_USER/DASHBOARD_PASSWORD or DASHBOARD_TOKEN; compose publishes it on 127.0.0.1 only.
ENV DASHBOARD_HOST=0.0.0.0 \
    DASHBOARD_PORT=3001
EXPOSE 3001
USER node
CMD ["node", "dist/main.js"]

FROM runtime AS worker
# git clones the PR; python3 + venv + pip build each side's environment; bubblewrap (with
# util-linux's prlimit and setpriv, already in the base image) is the sandbox every command of
# the PR runs in; tini reaps what the worker's children leave behind and forwards SIGTERM to
# the worker.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap ca-certificates git python3 python3-venv python3-pip tini \
 && rm -rf /var/lib/apt/lists/*
# The work and cache directories belong to root; PR code runs as a uid of EVALBOT_SANDBOX_UIDS
# (50000-50999, no account of the image) and must be able to pass through them (o+x) to reach
# its own job's directories and the environments it is given.
RUN mkdir -p /var/cache/evalbot /var/lib/evalbot/work \
 && chmod 0711 /var/cache/evalbot /var/lib/evalbot /var/lib/evalbot/work \
 && mkdir -m 0700 /var/lib/evalbot/job-logs
# Job directories and whole job logs on a volume, not the container's writable layer (Compose
# gives each worker container one of its own). A job directory holds a clone, an environment
# and what training writes; those of a worker that crashed are reaped when it starts again.
VOLUME ["/var/lib/evalbot"]
COPY apps/worker/package.json /app/apps/worker/package.json
COPY --from=build /src/apps/worker/dist /app/apps/worker/dist
WORKDIR /app/apps/worker
ENV EVALBOT_CACHE_DIR=/var/cache/evalbot \
    EVALBOT_WORK_DIR=/var/lib/evalbot/work \
    EVALBOT_JOB_LOG_DIR=/var/lib/evalbot/job-logs \
    WORKER_METRICS_PORT=9464
EXPOSE 9464
# The worker itself stays root, and only so that it can start each job's sandbox as a uid of
# its own (setpriv, then bubblewrap unprivileged in a user namespace): PR code never shares a
# uid with the worker, which holds the App's private key, nor with another job. A worker
# running as an ordinary user could only give PR code its own uid. docker-compose.yml drops
# every capability but the few this needs and sets the seccomp, AppArmor and /proc options
# bubblewrap needs (docs/operations.md, "The sandbox for PR code").
USER root
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
