"""Drives the service's /mcp endpoint with the official MCP client (the `mcp` package), as
an assistant would, and prints what it saw as one JSON object; tests/tests/mcp.rs checks it.

Usage: mcp_client.py BASE_URL WRITER_KEY READER_KEY RECEIVER_URL
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def session_for(url, key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.AsyncClient(headers=headers, timeout=30)


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    return {"is_error": bool(result.is_error), "structured": result.structured_content}


async def as_key(url, key, steps):
    async with session_for(url, key) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await steps(session, init)


async def main():
    base, writer, reader, receiver = sys.argv[1:5]
    url = f"{base}/mcp"
    seen = {}

    async def writer_steps(session, init):
        seen["server_name"] = init.server_info.name
        tools = (await session.list_tools()).tools
        seen["tools"] = {tool.name: tool.input_schema for tool in tools}
        created = await call(session, "create_webhook_endpoint", {"url": receiver, "events": ["run.failed"]})
        seen["create"] = created
        endpoint_id = (created["structured"] or {}).get("id")
        seen["list"] = await call(session, "list_webhook_endpoints", {"limit": 10})
        seen["update"] = await call(
            session, "update_webhook_endpoint", {"id": endpoint_id, "description": "via MCP", "uid": "mcp-one"}
        )
        seen["update_by_uid"] = await call(session, "update_webhook_endpoint", {"id": "mcp-one", "rate_limit": 5})
        seen["send"] = await call(session, "send_event", {"type": "run.failed", "payload": {"via": "mcp"}})
        seen["test"] = await call(session, "test_webhook_endpoint", {"id": "mcp-one"})
        seen["deliveries"] = await call(session, "list_webhook_deliveries", {"endpoint_id": endpoint_id})
        seen["delivery_log"] = await call(session, "list_webhook_deliveries", {"status": "delivered"})
        seen["event_types"] = await call(session, "list_event_types", {})
        seen["unknown_argument"] = await call(session, "list_event_types", {"colour": "red"})
        seen["path_injection"] = await call(session, "delete_webhook_endpoint", {"id": "../api-keys"})
        seen["invalid"] = await call(session, "create_webhook_endpoint", {"url": "ftp://x", "events": []})
        seen["endpoint_id"] = endpoint_id
        return endpoint_id

    endpoint_id = await as_key(url, writer, writer_steps)

    async def reader_steps(session, init):
        seen["reader_list"] = await call(session, "list_webhook_endpoints", {})
        seen["reader_create"] = await call(session, "create_webhook_endpoint", {"url": receiver, "events": ["*"]})
        seen["reader_delete"] = await call(session, "delete_webhook_endpoint", {"id": endpoint_id})

    await as_key(url, reader, reader_steps)

    async def delete_steps(session, init):
        seen["delete"] = await call(session, "delete_webhook_endpoint", {"id": endpoint_id})
        seen["delete_again"] = await call(session, "delete_webhook_endpoint", {"id": endpoint_id})

    await as_key(url, writer, delete_steps)

    try:
        await as_key(url, "whk_not_a_key", lambda session, init: asyncio.sleep(0))
        seen["bad_key"] = "accepted"
    except BaseException as error:  # the client raises a group from its task group
        seen["bad_key"] = "refused: " + type(error).__name__

    print(json.dumps(seen, default=str))


asyncio.run(main())
