# sleap-signal container image: `serve` as PID 1, non-root, production dependencies only.
#   podman build --format docker -t sleap-signal:0.1.0 .      (docker build -t sleap-signal:0.1.0 .)
#   podman run --rm -p 8080:8080 sleap-signal:0.1.0           (arguments after the image replace `serve`)
# --format docker keeps the HEALTHCHECK (the OCI image format has no field for it).
# Checked by test/deploy/container.test.ts, which builds it on a stand-in for NODE_IMAGE.

ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build is the next step.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# Keep VERSION equal to package.json's version (the container test checks the label).
ARG VERSION=0.1.0
# SOURCE: the repository's address, for the org.opencontainers.image.source label (--build-arg SOURCE=...).
ARG SOURCE=
LABEL org.opencontainers.image.title="sleap-signal" \
      org.opencontainers.image.description="WebRTC signaling server for SLEAP-RTC" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="BSD-3-Clause"
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# Everything stays owned by root: the server user can read the app but not change it.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY scenarios ./scenarios
COPY deploy/container/healthcheck.mjs ./deploy/container/
# A numeric user, so that Kubernetes' runAsNonRoot can check it without an /etc/passwd entry.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "deploy/container/healthcheck.mjs"]
# Exec form: node is PID 1 and gets SIGTERM itself (serve drains, closing clients with 1012, then exits 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/sleap-signal.js"]
CMD ["serve"]
