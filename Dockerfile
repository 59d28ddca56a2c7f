FROM python:3.11-slim-bookworm
COPY scripts/system-packages.txt /tmp/
RUN apt-get update && apt-get install -y --no-install-recommends \
      $(awk '!/^#/ && NF && $2 ~ /run/ {print $1}' /tmp/system-packages.txt) \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir -c requirements.lock -e . 2>/dev/null || true
COPY . .
RUN pip install --no-cache-dir -c requirements.lock -e . \
    && DJANGO_DEBUG=false python manage.py collectstatic --noinput
ENV DJANGO_SETTINGS_MODULE=config.settings.base DJANGO_DEBUG=false
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
