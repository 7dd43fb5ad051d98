"""What A2A's JSON-RPC binding asks of the HTTP exchange beside the SDK's dispatcher: a
notification (no ``id``) is never answered and runs nothing (JSON-RPC 2.0, 4.1), a request's
``Content-Type`` is ``application/json``; and ``ListTasks`` lists the last updated task first,
``statusTimestampAfter`` comparing the time of that update (A2A 1.0, ListTasks)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from a2a.client import Client
from a2a.types import GetTaskRequest, ListTasksRequest, TaskState

from bus.ids import new_id
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_a2a_server import a2a_client, collect, data_message, helper, only_task
from tests.interop.test_a2a_server_turns import APPROVAL, on_task

JSON = {
    "authorization": f"Bearer {TOKEN}",
    "content-type": "application/json",
    "a2a-version": "1.0",
}


def send(message_id: str) -> dict[str, Any]:
    """A ``SendMessage`` request's params that would start a run of ``text.shout``."""
    part = {"data": {"skill": "text.shout", "input": {"text": "hi"}}}
    message = {"messageId": message_id, "role": "ROLE_USER", "parts": [part]}
    return {"message": message, "configuration": {"returnImmediately": True}}


async def runs_of(stack: Stack) -> list[str]:
    return [run["id"] for run in (await stack.client.get("/v1/runs")).json()["items"]]


@pytest.mark.parametrize(
    "method", ["SendMessage", "CancelTask", "GetTask", "tasks/frobnicate", "rpc.discover"]
)
async def test_a_notification_is_not_answered_and_runs_nothing(stack: Stack, method: str) -> None:
    """JSON-RPC 2.0, 4.1: a notification is not answered; on HTTP, 204 and no body. A2A has no
    notification methods, so none runs: a ``SendMessage`` without ``id`` started a run and
    was answered with its task (an unknown method: a -32601 error)."""
    await stack.agent(helper)
    before = await runs_of(stack)
    params = send(new_id()) if method == "SendMessage" else {"id": new_id()}
    body = {"jsonrpc": "2.0", "method": method, "params": params}
    answer = await stack.client.post("/a2a", content=json.dumps(body), headers=JSON)
    assert answer.status_code == 204 and answer.content == b"", answer.text
    assert await runs_of(stack) == before
    # a null id is a request, not a notification; an invalid request is answered with the
    # error and a null id (JSON-RPC 2.0, 5)
    for broken in ({**body, "jsonrpc": "1.0"}, {**body, "method": 5}, {**body, "id": None}):
        answer = await stack.client.post("/a2a", content=json.dumps(broken), headers=JSON)
        assert answer.status_code == 200 and answer.json()["id"] is None, answer.text


@pytest.mark.parametrize("media", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_request_that_is_not_application_json_is_refused(
    stack: Stack, media: str | None
) -> None:
    """A2A's JSON-RPC binding: requests are ``application/json``. Another type (or none) is
    HTTP 415 with a JSON-RPC -32600 naming the header, and nothing runs (the SDK read the
    body as JSON whatever it said it was)."""
    await stack.agent(helper)
    before = await runs_of(stack)
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": send(new_id())}
    headers = {"authorization": f"Bearer {TOKEN}", "a2a-version": "1.0"}
    if media is not None:
        headers["content-type"] = media
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        answer = await http.post("/a2a", content=json.dumps(body).encode(), headers=headers)
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["code"] == -32600 and error["message"].startswith("content-type"), error
    assert await runs_of(stack) == before
    # with the type (and a charset), the same request runs
    charset = {**JSON, "content-type": "application/json; charset=utf-8"}
    answer = await stack.client.post("/a2a", content=json.dumps(body), headers=charset)
    assert answer.status_code == 200 and answer.json()["result"]["task"]["id"], answer.text


async def completed(client: Client, task_id: str) -> None:
    async def done() -> bool:
        got = await client.get_task(GetTaskRequest(id=task_id))
        return bool(got.status.state == TaskState.TASK_STATE_COMPLETED)

    await wait_until(done, timeout=300)


async def test_list_tasks_lists_the_last_updated_first_and_filters_on_that_update(
    stack: Stack,
) -> None:
    """A2A 1.0: ListTasks sorts by status timestamp, most recently updated first, and
    ``statusTimestampAfter`` keeps tasks updated at or after it. Listing by creation put a task
    answered late under newer ones, and the filter dropped it."""
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=APPROVAL)).status_code in (200, 201)
    async with a2a_client(stack, streaming=False, polling=True) as (client, _):
        older = only_task(
            await collect(client, data_message({"skill": "workflow.refund", "input": {}}))
        )
        assert older.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        newer = only_task(
            await collect(client, data_message({"skill": "text.shout", "input": {"text": "x"}}))
        )
        await completed(client, newer.id)
        listed = (await client.list_tasks(ListTasksRequest())).tasks
        assert [t.id for t in listed] == [newer.id, older.id]

        # the older task is answered: it is now the one updated last
        await collect(client, on_task(data_message({"approved": True, "note": "ann"}), older.id))
        await completed(client, older.id)
        got = {t: await client.get_task(GetTaskRequest(id=t)) for t in (older.id, newer.id)}
        stamps = {t: task.status.timestamp.ToDatetime() for t, task in got.items()}
        assert stamps[older.id] > stamps[newer.id]

        listed = (await client.list_tasks(ListTasksRequest())).tasks
        assert [t.id for t in listed] == [older.id, newer.id]
        assert [t.status.timestamp for t in listed] == [got[t.id].status.timestamp for t in listed]
        # one per page, in the same order
        first = await client.list_tasks(ListTasksRequest(page_size=1))
        second = await client.list_tasks(
            ListTasksRequest(page_size=1, page_token=first.next_page_token)
        )
        assert [first.tasks[0].id, second.tasks[0].id] == [older.id, newer.id]
        assert second.next_page_token == "" and first.total_size == 2

        # updated after the newer task's last update: only the older one (created before it)
        after = ListTasksRequest()
        after.status_timestamp_after.FromDatetime(stamps[newer.id] + timedelta(microseconds=1))
        recent = await client.list_tasks(after)
        assert [t.id for t in recent.tasks] == [older.id] and recent.total_size == 1
        exactly = ListTasksRequest()
        exactly.status_timestamp_after.FromDatetime(stamps[newer.id])  # "at or after"
        assert len((await client.list_tasks(exactly)).tasks) == 2
