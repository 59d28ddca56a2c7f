FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
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
