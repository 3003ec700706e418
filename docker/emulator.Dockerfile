# The zt-hil IoT Core emulator as an image. No registry is reachable from zt-hil's machines, so it is
# built FROM the base image scripts/docker-lab makes from the host's own node and busybox:
#   scripts/docker-lab up        (builds zt-hil/base:node<major>, then this as zt-hil/emulator)
#   docker run -p 8080:8080 -p 8883:8883 zt-hil/emulator
# A lab with `cloud: { kind: container }` has testcontainers start it (harness/cloud/emulator/container.ts).
# Clients trust /data/server-ca.pem (docker cp it out, or mount /data). The runtime modules come from
# the build context's node_modules (npm ci on the host; .dockerignore leaves out the test tooling),
# because the image cannot reach a registry either.
ARG BASE=zt-hil/base:node20
FROM ${BASE}
WORKDIR /opt/zt-hil
COPY package.json ./
COPY node_modules ./node_modules
COPY bin ./bin
COPY harness ./harness
COPY rigs ./rigs
USER node
EXPOSE 8080 8883
ENV AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# More emulator options go after the image name (e.g. --endpoint NAME, --tls-stack openssl).
ENTRYPOINT ["node", "bin/zt-hil.js", "emulator", "--host", "0.0.0.0", "--api-port", "8080", "--mqtt-port", "8883", "--data-dir", "/data"]
