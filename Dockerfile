# A small, non-root image: the bot with its library and translations (installed, not only checked out).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY knowledge_base knowledge_base
COPY locales locales
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 scorebot
COPY --from=build /install /usr/local
USER scorebot
WORKDIR /home/scorebot
ENV PYTHONUNBUFFERED=1
RUN scorebot kb check
CMD ["scorebot", "run"]
