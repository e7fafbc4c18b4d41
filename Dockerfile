# syntax=docker/dockerfile:1
# The DDQ service image: `docker build -t ddq .` from the repository root.
#
# builder: makes /opt/venv (DDQ with the runtime extras, torch from PyTorch's CPU wheels) and
#          the int8 ONNX export of the shipped embedding model in /data/models, with
#          scripts/build-venv.sh, the same script that tests the image's contents where no
#          Docker engine runs.
# runtime: the same slim Python, /opt/venv and /data only; no compilers, no package manager
#          runs, a non-root user, nothing downloaded at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# PyTorch's CPU-only wheels: without this index a Linux torch brings the CUDA libraries.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY scripts/build-venv.sh ./scripts/build-venv.sh
RUN TORCH_INDEX_URL="${TORCH_INDEX_URL}" bash scripts/build-venv.sh /opt/venv /data

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ddq" \
      org.opencontainers.image.description="Answers due-diligence questionnaires from an approved knowledge base" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DDQ_HOME=/data \
    DDQ_EMBEDDER=openvino:all-MiniLM-L6-v2
# The writable state under DDQ_HOME (the keyword index, uploaded files) lives in these three
# folders: mount volumes on them. /data/models stays the image's, read-only to the service.
RUN groupadd --system --gid 10001 ddq \
    && useradd --system --uid 10001 --gid ddq --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin ddq \
    && mkdir -p /data/keyword /data/uploads /data/questionnaires \
    && chown ddq:ddq /data /data/keyword /data/uploads /data/questionnaires
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /data/models /data/models
USER 10001:10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4)"]
CMD ["ddq", "serve", "--host", "0.0.0.0", "--port", "8000", "--log-format", "json"]
