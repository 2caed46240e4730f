"""One participant through a proxy: connect, get the welcome, raise a hand, get the ack. Exit 0 on success."""
import asyncio
import json
import sys

import websockets


async def main(url: str) -> None:
    async with websockets.connect(url, open_timeout=10, close_timeout=5) as ws:
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome["type"]
        await ws.send(json.dumps({"type": "raise_hand", "id": "h1"}))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if reply.get("id") == "h1":
                assert reply["type"] == "ack", reply["type"]
                break
        await ws.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        print(f"client failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
