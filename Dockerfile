# CPU image of the contradiction service: `docker build -t contradict .` then
# `docker run -p 8000:8000 contradict`. Every CONTRADICT_* setting can be passed with -e.
FROM python:3.11-slim

# Models are local folders: never reach for a model hub at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# CPU-only torch from the PyTorch index: PyPI's default Linux x86 wheel pulls the CUDA stack (GBs).
# The project's torch range accepts this build, so the steps below keep it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# Dependencies in a layer of their own, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY contradict/ contradict/
COPY service/ service/
COPY training/ training/
RUN pip install --no-deps . && rm -rf build

# The shipped model. The settings' default model path is resolved next to the installed package
# (site-packages here), so the image names the folder explicitly.
COPY models/ models/
ENV CONTRADICT_MODEL=/app/models/contradict-minilm-l6-nli \
    CONTRADICT_HOST=0.0.0.0 \
    CONTRADICT_PORT=8000

RUN useradd --create-home --uid 10001 contradict
USER contradict

EXPOSE 8000
# slim has no curl; urlopen raises (exit 1) on a refused connection or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CONTRADICT_PORT', '8000'), timeout=4)"]

CMD ["contradict", "serve"]
