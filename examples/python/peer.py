"""A Python WebRTC peer (aiortc) that finds its partner through sleap-signal.

Run (with `npx sleap-signal serve --port 8080` running, and Debian's python3-aiortc or `pip install aiortc`):

    python3 examples/python/peer.py                        # waits for offers and echoes what it gets
    python3 examples/python/peer.py --offer-to <peer id>   # connects to that peer, says hello, prints the answer

It registers in a room (default "demo"), takes its STUN/TURN servers from `registered.ice_servers`,
and opens a data channel named "chat" through `offer` / `answer` / `candidate` relays. It answers
the browser example (examples/browser) as well as another copy of itself.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_ws import WebSocket  # noqa: E402


def ice_configuration(servers) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in servers]
    )


async def add_candidate(pc: RTCPeerConnection, init) -> None:
    """A trickled candidate as browsers send it (RTCIceCandidateInit); null or "" ends them."""
    transport = pc.sctp.transport.transport if pc.sctp else None
    if not init or not init.get("candidate"):
        if transport:
            await transport.addRemoteCandidate(None)
        return
    candidate = candidate_from_sdp(init["candidate"].split(":", 1)[1])
    candidate.sdpMid = init.get("sdpMid")
    candidate.sdpMLineIndex = init.get("sdpMLineIndex")
    await pc.addIceCandidate(candidate)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8080")
    p.add_argument("--room", default="demo")
    p.add_argument("--peer-id", default=f"python-{secrets.token_hex(3)}")
    p.add_argument("--offer-to", help="connect to this peer; without it, wait for offers")
    p.add_argument("--message", default="hello from aiortc")
    p.add_argument("--loopback", action="store_true", help="gather host candidates on 127.0.0.1 only (aiortc leaves it out otherwise)")
    args = p.parse_args()
    if args.loopback:
        import aioice.ice

        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

    ws = await WebSocket.connect(args.url)
    await ws.send_json({"type": "register", "room_id": args.room, "peer_id": args.peer_id, "role": "python"})
    registered = await ws.recv_json()
    if registered["type"] not in ("registered", "registered_auth"):
        sys.exit(f"register failed: {json.dumps(registered)}")
    print(f"registered as {args.peer_id} in room {args.room}; others here: {registered['peer_list']}", flush=True)
    config = ice_configuration(registered["ice_servers"])
    pcs = {}  # remote peer id -> RTCPeerConnection
    done = asyncio.get_running_loop().create_future()

    def relay(kind: str, target: str, **fields):
        return ws.send_json({"type": kind, "target": target, **fields})

    if args.offer_to:
        present = args.offer_to in registered["peer_list"]
        while not present:
            print(f"waiting for {args.offer_to} to join...", flush=True)
            await asyncio.sleep(1)
            await ws.send_json({"type": "discover_peers"})
            present = any(p["peer_id"] == args.offer_to for p in (await ws.recv_json()).get("peers", []))
        pc = pcs[args.offer_to] = RTCPeerConnection(config)
        channel = pc.createDataChannel("chat")

        @channel.on("open")
        def on_open():
            print(f"channel open; sending {args.message!r}", flush=True)
            channel.send(args.message)

        @channel.on("message")
        def on_message(message):
            print(f"{args.offer_to} says: {message}", flush=True)
            if not done.done():
                done.set_result(None)

        await pc.setLocalDescription(await pc.createOffer())  # gathers; the candidates go in the SDP
        await relay("offer", args.offer_to, sdp=pc.localDescription.sdp)

    async def signaling():
        while True:
            m = await ws.recv_json()
            sender = m.get("sender")
            if m["type"] == "offer":
                pc = pcs[sender] = RTCPeerConnection(config)

                @pc.on("datachannel")
                def on_datachannel(channel, sender=sender):
                    @channel.on("message")
                    def on_message(message):
                        print(f"{sender} says: {message}", flush=True)
                        channel.send(f"echo: {message}")

                await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await relay("answer", sender, sdp=pc.localDescription.sdp)
                print(f"answered {sender}", flush=True)
            elif m["type"] == "answer" and sender in pcs:
                await pcs[sender].setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
            elif m["type"] == "candidate" and sender in pcs:
                await add_candidate(pcs[sender], m.get("candidate"))
            elif m["type"] == "error":
                print(f"server: {m['code']} {m['message']}", flush=True)

    listener = asyncio.ensure_future(signaling())
    try:
        await (done if args.offer_to else listener)
    finally:
        listener.cancel()
        for pc in pcs.values():
            await pc.close()
        await ws.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
