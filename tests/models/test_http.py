"""The FastAPI helper: inference route, 429 + Retry-After on overload, health, metrics."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from agents.models import ModelServer, create_model_router
from tests.models.test_serving import Doubler, until


class Numbers(BaseModel):
    values: list[int]


async def double(server: ModelServer[int, int], body: Numbers) -> Numbers:
    return Numbers(values=await server.predict_many(body.values))


def app_for(server: ModelServer[int, int], registry) -> FastAPI:
    app = FastAPI()

    async def handler(body: Numbers) -> Numbers:
        return await double(server, body)

    router = create_model_router(
        server, handler, request_model=Numbers, response_model=Numbers, registry=registry
    )
    app.include_router(router, prefix="/models/doubler")
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_infer_route_serves_the_model(registry):
    server = ModelServer(Doubler(), registry=registry)
    async with server, client_for(app_for(server, registry)) as client:
        response = await client.post("/models/doubler/infer", json={"values": [1, 2, 3]})
        assert response.status_code == 200
        assert response.json() == {"values": [2, 4, 6]}
        invalid = await client.post("/models/doubler/infer", json={"values": "x"})
        assert invalid.status_code == 422


async def test_overload_is_429_with_retry_after(registry):
    backend = Doubler()
    server = ModelServer(backend, max_batch=1, max_wait_ms=0, max_queue=2, registry=registry)
    async with server, client_for(app_for(server, registry)) as client:
        backend.gate.clear()
        held = asyncio.create_task(client.post("/models/doubler/infer", json={"values": [1]}))
        await until(lambda: backend.running == 1, "first batch held")
        queued = asyncio.create_task(client.post("/models/doubler/infer", json={"values": [2, 3]}))
        await until(lambda: server.queue_depth == 2, "queue full")
        response = await client.post("/models/doubler/infer", json={"values": [4]})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        detail = response.json()["detail"]
        assert detail["code"] == "overloaded" and detail["retryable"] is True
        backend.gate.set()
        assert (await held).status_code == 200
        assert (await queued).json() == {"values": [4, 6]}


async def test_not_ready_is_503(registry):
    server = ModelServer(Doubler(), registry=registry)
    async with client_for(app_for(server, registry)) as client:
        response = await client.post("/models/doubler/infer", json={"values": [1]})
        assert response.status_code == 503
        health = await client.get("/models/doubler/health")
        assert health.status_code == 503 and health.json()["ready"] is False


async def test_health_and_metrics_are_exposed(registry):
    server = ModelServer(Doubler(), registry=registry)
    async with server, client_for(app_for(server, registry)) as client:
        await client.post("/models/doubler/infer", json={"values": [5, 6]})
        health = await client.get("/models/doubler/health")
        assert health.status_code == 200
        body = health.json()
        assert body["ready"] is True and body["model"] == "doubler"
        assert body["loaded_at"] is not None and body["last_error"] is None
        metrics = await client.get("/models/doubler/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        assert 'modx_model_requests_total{model="doubler"} 2.0' in text
        assert 'modx_model_batch_size_count{model="doubler"}' in text
        assert 'modx_model_inference_seconds_bucket{le="0.001",model="doubler"}' in text


async def test_openapi_documents_the_request_model(registry):
    server = ModelServer(Doubler(), registry=registry)
    async with client_for(app_for(server, registry)) as client:
        schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/models/doubler/infer"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Numbers"
    }
