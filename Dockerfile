# syntax=docker/dockerfile:1
#
# One Dockerfile, one target per deployable:
#   docker build --target gateway   -t evalbot-gateway .
#   docker build --target worker    -t evalbot-worker .
#   docker build --target dashboard -t evalbot-dashboard .
# (docker-compose.yml builds all three.) They share one pnpm workspace and lockfile, so they
# share the stages that fetch and install it; the apps run their TypeScript through tsx, a
# runtime dependency of each, so there is no compile step.

ARG NODE_IMAGE=node:20-bookworm-slim

# pnpm, at the version package.json pins.
FROM ${NODE_IMAGE} AS pnpm
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    CI=true
WORKDIR /src
COPY package.json ./
RUN corepack enable && corepack install

# Every production package the lockfile names, into the store. Cached until the lockfile changes.
FROM pnpm AS fetch
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch --prod

# Each app with its production dependencies only (workspace packages included) in /out/<app>.
FROM fetch AS deploy
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    for app in gateway worker dashboard; do \
      pnpm --filter "@evalbot/$app" --prod --prefer-offline deploy --legacy "/out/$app" || exit 1; \
    done

# What every app image starts from. The apps' tsconfig.json extends ../../tsconfig.base.json,
# which tsx reads for its compiler options; the apps live in /app/apps/<app> to match.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY tsconfig.base.json /app/tsconfig.base.json

FROM runtime AS gateway
# Code owned by root, run as `node`: the process cannot rewrite itself.
COPY --from=deploy /out/gateway /app/apps/gateway
WORKDIR /app/apps/gateway
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000
USER node
CMD ["node", "--import", "tsx", "src/main.ts"]

FROM runtime AS dashboard
COPY --from=deploy /out/dashboard /app/apps/dashboard
WORKDIR /app/apps/dashboard
# Inside its container the dashboard must listen beyond loopback, so it insists on
# DASHBOARD_USER/DASHBOARD_PASSWORD or DASHBOARD_TOKEN; compose publishes it on 127.0.0.1 only.
ENV DASHBOARD_HOST=0.0.0.0 \
    DASHBOARD_PORT=3001
EXPOSE 3001
USER node
CMD ["node", "--import", "tsx", "src/main.ts"]

FROM runtime AS worker
# git clones the PR; python3 + venv + pip build each side's environment; tini reaps the
# processes PR code leaves behind and forwards SIGTERM to the worker.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git python3 python3-venv python3-pip tini \
 && rm -rf /var/lib/apt/lists/*
# PR code is untrusted: the worker runs it as this unprivileged user, never as itself.
RUN groupadd --gid 10001 evalbot-run \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/evalbot-run --shell /usr/sbin/nologin evalbot-run \
 && mkdir -p /var/cache/evalbot /var/lib/evalbot/work
COPY --from=deploy /out/worker /app/apps/worker
WORKDIR /app/apps/worker
ENV EVALBOT_CACHE_DIR=/var/cache/evalbot \
    EVALBOT_WORK_DIR=/var/lib/evalbot/work \
    EVALBOT_RUN_AS_USER=10001:10001 \
    WORKER_METRICS_PORT=9464
EXPOSE 9464
# The worker itself stays root, and only so that it can start PR code as evalbot-run (uid
# 10001): a worker running as an ordinary user would run PR code as that same user, which can
# read the worker's environment (the App's private key) through /proc. docker-compose.yml
# drops every capability but the few this needs.
USER root
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/main.ts"]
