# syntax=docker/dockerfile:1
# mpc-signer node image: build the wheels in one stage, install them into a slim non-root runtime.
#   docker build -t mpc-signer .
#   docker compose up -d server-signer-p2      (see docker-compose.yml and docs/operations.md)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gen ./gen
COPY signer ./signer
# The project's wheel plus a wheel for every dependency of the node (the `node` extra; all publish
# manylinux wheels for 3.11).
RUN pip wheel --wheel-dir /wheels '.[node]'

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 mpc-signer \
 && useradd --system --uid 10001 --gid mpc-signer --home-dir /var/lib/mpc-signer \
      --shell /usr/sbin/nologin mpc-signer \
 && install -d -o mpc-signer -g mpc-signer -m 0700 /var/lib/mpc-signer
# Installed from the build stage's wheels only: no network and no compiler in the runtime image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels 'mpc-signer[node]'

ENV MPC_NODE_TYPE=signer \
    MPC_DATA_DIR=/var/lib/mpc-signer \
    MPC_GRPC_LISTEN=0.0.0.0:9091 \
    MPC_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/mpc-signer
VOLUME ["/var/lib/mpc-signer"]
EXPOSE 9091
# SIGTERM drains: health turns NOT_SERVING, running sessions get session.grace_period_s (20 s).
STOPSIGNAL SIGTERM
# grpc.health.v1.Health/Check against this node, with the node's own TLS settings from its configuration
# (MPC_GRPC_*); against an mTLS node it presents MPC_HEALTHCHECK_CLIENT_CERT/_KEY (see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["signer", "healthcheck"]
ENTRYPOINT ["signer"]
CMD ["serve"]
