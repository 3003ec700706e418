# The zt-hil IoT Core emulator as an image (for users with a Docker engine; zt-hil's own machines and
# CI have none, so this file is built by users, not by `npm test`).
#   docker build -f docker/emulator.Dockerfile -t zt-hil-emulator .
#   docker run -p 8080:8080 -p 8883:8883 -v zt-data:/data zt-hil-emulator
# Clients trust /data/server-ca.pem (docker cp it out, or mount /data).
FROM node:20-bookworm-slim
WORKDIR /opt/zt-hil
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY harness ./harness
EXPOSE 8080 8883
VOLUME /data
CMD ["node", "bin/zt-hil.js", "emulator", "--host", "0.0.0.0", "--api-port", "8080", "--mqtt-port", "8883", "--data-dir", "/data"]
