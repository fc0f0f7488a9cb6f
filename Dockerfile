# CPU image of the contradiction service: `docker build -t contradict .` then
# `docker run -p 8000:8000 contradict`. Every CONTRADICT_* setting can be passed with -e.
#
# Two stages: `build` installs CPU torch and the locked service set (constraints.txt) into a virtual
# environment; `runtime` holds only that environment, the shipped model and a non-root user: no
# compiler cache, no pip cache, no training/ code and no datasets/pyarrow/pandas (training extras).
#
# The base is pinned by digest: the OCI index digest of python:3.11-slim-bookworm (Python 3.11.16)
# as recorded in public Dockerfiles and notes of 2026-09 (not pulled from this project's build
# machine, which has no registry access). Refresh it deliberately with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# CPU-only torch from the PyTorch index: PyPI's default Linux x86 wheel pulls the CUDA stack (GBs).
# The same variables as the Makefile's.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --quiet --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# The locked service set in a layer of its own, so a code change does not reinstall it. The
# constraints file is the whole runtime closure, so it doubles as the requirements list; torch's
# pin (2.13.0) is already met by the CPU build.
COPY constraints.txt ./
RUN pip install --quiet -r constraints.txt

# The project itself, without dependencies (all locked above) and without training/.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY contradict/ contradict/
COPY service/ service/
RUN pip install --quiet --no-deps . \
    && pip uninstall --quiet --yes pip \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE} AS runtime
# Models are local folders: never reach for a model hub at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PATH=/opt/venv/bin:$PATH
COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The shipped model. The settings' default model path is resolved next to the installed package
# (site-packages here), so the image names the folder explicitly.
COPY models/contradict-minilm-l6-nli/ models/contradict-minilm-l6-nli/
ENV CONTRADICT_MODEL=/app/models/contradict-minilm-l6-nli \
    CONTRADICT_HOST=0.0.0.0 \
    CONTRADICT_PORT=8000

RUN useradd --create-home --uid 10001 contradict
USER contradict

EXPOSE 8000
# Healthy = model loaded and warmed up (/readyz), not merely the process alive (/healthz). slim has
# no curl; urlopen raises (exit 1) on a refused connection or a non-2xx answer (503 while loading).
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('CONTRADICT_PORT', '8000'), timeout=4)"]

CMD ["contradict", "serve"]
