# syntax=docker/dockerfile:1
# hostaudit-exporter: multi-stage build, small runtime image, non-root.

# --- build: compile TypeScript, then keep production dependencies only. The runtime needs no
# native module (SQLite files are read directly, see README "SQLite read-only"), so install
# scripts are skipped and no compiler toolchain is needed.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's unprivileged `node` user (uid 1000). To count a service's open file
# descriptors the exporter must run as the services' user: `user:` in docker-compose.yml.
USER node
EXPOSE 9863
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9863/-/healthy').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Started as the bin's shebang starts it (src/main.ts says why).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=1", "--heap-growing-percent=30", "dist/main.js"]
CMD ["--config.file=/etc/hostaudit/hostaudit.yml"]
