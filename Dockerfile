# syntax=docker/dockerfile:1
# One image for every Leadflow service: `docker run IMAGE service <name>` (orchestrator, scout,
# analyst, enrichment, writer, notifier, monitor), `IMAGE migrate`, `IMAGE run …`. TypeScript
# runs through tsx (a runtime dependency of the CLI), so there is no compile step.

FROM node:20-slim AS deps
WORKDIR /app
# the manifests first, so the dependency layer is rebuilt only when they change; npm ci needs
# every workspace's package.json (test/DeployFiles.test.ts checks this list is complete)
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/db/package.json libs/db/
COPY libs/runtime/package.json libs/runtime/
COPY libs/testkit/package.json libs/testkit/
COPY services/analyst/package.json services/analyst/
COPY services/enrichment/package.json services/enrichment/
COPY services/monitor/package.json services/monitor/
COPY services/notifier/package.json services/notifier/
COPY services/orchestrator/package.json services/orchestrator/
COPY services/scout/package.json services/scout/
COPY services/writer/package.json services/writer/
COPY cli/package.json cli/
# postinstall patches postgres.js (scripts/patch-postgres.mjs)
COPY scripts/ scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .

FROM node:20-slim
ENV NODE_ENV=production \
    # the file outbox and anything else written at run time go under /tmp, the one writable
    # place when the root filesystem is read-only (tsx keeps its compile cache there too)
    LEADFLOW_DATA_DIR=/tmp/leadflow
WORKDIR /app
# owned by root and not writable by the service user
COPY --from=deps /app /app
USER node
EXPOSE 8001 8002 8010 8011 8012 8013 8014
ENTRYPOINT ["node", "/app/cli/bin/leadflow.js"]
CMD ["--help"]
