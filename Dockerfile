# superconv dashboard, GPU-capable.
#   docker build -t superconv .
#   docker run --gpus all -p 8501:8501 -v superconv-data:/data superconv
# tensorflow[and-cuda] brings CUDA and cuDNN as wheels: the host needs only the NVIDIA driver and the
# NVIDIA container toolkit. Without a GPU (or without --gpus) the same image trains on the CPU.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SUPERCONV_HOME=/data

WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt "tensorflow[and-cuda]==2.21.0"

COPY pyproject.toml README.md app.py ./
COPY superconv ./superconv
COPY views ./views
COPY assets ./assets
COPY .streamlit ./.streamlit
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 superconv \
    && mkdir -p /data \
    && chown superconv /data

USER 10001
# The run store (runs.sqlite) and dataset caches live here: mount a volume to keep them.
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
