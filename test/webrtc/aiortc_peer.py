"""One aiortc peer for the end-to-end tests: registers with sleap-signal, negotiates a data channel
through the server's relays and moves bytes over it.

    /usr/bin/python3 test/webrtc/aiortc_peer.py --url ws://127.0.0.1:8080 --room r --peer-id b
    /usr/bin/python3 test/webrtc/aiortc_peer.py --url ws://127.0.0.1:8080 --room r --peer-id a --offer-to b

The answerer waits for an offer; the offerer opens a channel, sends --bytes random bytes and then
"END"; the answerer replies "ACK:<sha256 of what it got>". Progress goes to stdout as JSON lines
({"event": "registered" | "open" | "received" | "done" | "failed", ...}) for the test to read.

--trickle sends SDP without candidates and each candidate as its own `candidate` relay (aiortc
itself only embeds them); --compat speaks like the SLEAP-RTC clients (`registered_auth`, `sender`
in relays); --relay-only gathers no host candidates, so only the TURN server from `ice_servers`
can connect the peers; --turn-username / --turn-credential replace what `registered` handed out;
--gather-only stops after gathering (the TURN allocation) and reports the candidate types.
"""

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time

# The example's WebSocket client (standard library only: Debian's aiortc brings no websockets package).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples', 'python'))

import aioice.ice  # noqa: E402
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402

from tiny_ws import WebSocket  # noqa: E402

CHUNK = 16 * 1024


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--peer-id", required=True)
    p.add_argument("--offer-to", help="offer to this peer (else wait for an offer)")
    p.add_argument("--trickle", action="store_true")
    p.add_argument("--compat", action="store_true")
    p.add_argument("--bytes", type=int, default=1024 * 1024)
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--turn-username")
    p.add_argument("--turn-credential")
    p.add_argument("--gather-only", action="store_true", help="register, gather candidates, report them, exit")
    p.add_argument("--timeout", type=float, default=40.0)
    return p.parse_args()


def use_host_addresses(addresses):
    """Host candidates on these addresses only (aioice leaves out 127.0.0.1 by default)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)


def rtc_configuration(ice_servers, args) -> RTCConfiguration:
    servers = []
    for s in ice_servers:
        username, credential = s.get("username"), s.get("credential")
        urls = s["urls"] if isinstance(s["urls"], list) else [s["urls"]]
        if any(u.startswith("turn") for u in urls):
            username = args.turn_username or username
            credential = args.turn_credential or credential
        servers.append(RTCIceServer(urls=urls, username=username, credential=credential))
    return RTCConfiguration(iceServers=servers)


def split_candidates(sdp: str):
    """The SDP without its candidate lines, the candidates, and the media id they belong to."""
    lines = sdp.split("\r\n")
    candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
    mid = next((line[6:] for line in lines if line.startswith("a=mid:")), "0")
    kept = [line for line in lines if not line.startswith("a=candidate:") and line != "a=end-of-candidates"]
    return "\r\n".join(kept), candidates, mid


def selected_pair(pc: RTCPeerConnection):
    try:
        pair = next(iter(pc.sctp.transport.transport._connection._nominated.values()))
        local, remote = pair.local_candidate, pair.remote_candidate
        return {"local": {"type": local.type, "host": local.host}, "remote": {"type": remote.type, "host": remote.host}}
    except (AttributeError, StopIteration):
        return None


class Peer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.ws: WebSocket = None
        self.pc: RTCPeerConnection = None
        self.config: RTCConfiguration = None
        self.remote: str = args.offer_to
        self.finished = asyncio.get_event_loop().create_future()
        self.t_offer = 0.0

    def relay(self, message: dict) -> dict:
        message["target"] = self.remote
        if self.args.compat:
            message["sender"] = self.args.peer_id  # the SLEAP-RTC clients name themselves
        return message

    async def register(self) -> None:
        self.ws = await WebSocket.connect(self.args.url)
        role = "client" if self.args.offer_to else "worker"
        await self.ws.send_json({"type": "register", "room_id": self.args.room, "peer_id": self.args.peer_id, "role": role})
        reply = await self.ws.recv_json()
        expected = "registered_auth" if self.args.compat else "registered"
        if reply.get("type") != expected:
            raise RuntimeError(f"expected {expected}, got {json.dumps(reply)}")
        self.config = rtc_configuration(reply["ice_servers"], self.args)
        emit("registered", type=reply["type"], ice_servers=reply["ice_servers"], mesh_ice_servers=reply["mesh_ice_servers"])

    async def wait_for_target(self) -> None:
        """Discovers until the peer to offer to is in the room (both peers may start at once)."""
        while True:
            await self.ws.send_json({"type": "discover_peers"})
            reply = await self.ws.recv_json()
            if reply.get("type") != "peer_list":
                raise RuntimeError(f"discover_peers failed: {json.dumps(reply)}")
            if any(p["peer_id"] == self.remote for p in reply["peers"]):
                return
            await asyncio.sleep(0.05)

    async def describe(self, description_type: str) -> None:
        """Sets the local description (gathering every candidate) and sends it, trickled or not."""
        description = await (self.pc.createOffer() if description_type == "offer" else self.pc.createAnswer())
        try:
            await self.pc.setLocalDescription(description)
        except Exception as exc:  # a TURN server refusing the allocation ends up here
            raise GatherError(f"{type(exc).__name__}: {exc}") from exc
        sdp = self.pc.localDescription.sdp
        if not self.args.trickle:
            await self.ws.send_json(self.relay({"type": description_type, "sdp": sdp}))
            return
        bare, candidates, mid = split_candidates(sdp)
        await self.ws.send_json(self.relay({"type": description_type, "sdp": bare}))
        for c in candidates:
            init = {"candidate": c, "sdpMid": mid, "sdpMLineIndex": 0}
            await self.ws.send_json(self.relay({"type": "candidate", "candidate": init}))
        await self.ws.send_json(self.relay({"type": "candidate", "candidate": None}))
        emit("trickled", candidates=len(candidates))

    async def add_candidate(self, init) -> None:
        transport = self.pc.sctp.transport.transport
        if not init or not init.get("candidate"):
            await transport.addRemoteCandidate(None)  # end of candidates
            return
        candidate = candidate_from_sdp(init["candidate"].split(":", 1)[1])
        if self.args.relay_only and candidate.type != "relay":
            return
        candidate.sdpMid = init.get("sdpMid")
        candidate.sdpMLineIndex = init.get("sdpMLineIndex")
        await self.pc.addIceCandidate(candidate)

    def new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(self.config)

        @pc.on("connectionstatechange")
        async def on_state():
            if pc.connectionState == "failed" and not self.finished.done():
                self.finished.set_exception(RuntimeError("peer connection failed"))

        return pc

    async def signaling(self) -> None:
        while True:
            m = await self.ws.recv_json()
            kind = m.get("type")
            if kind == "offer":
                self.remote = m["sender"]
                self.pc = self.new_pc()
                self.pc.on("datachannel", self.receive_on)
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
                await self.describe("answer")
            elif kind == "answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
            elif kind == "candidate":
                await self.add_candidate(m.get("candidate"))
            elif kind == "error":
                raise RuntimeError(f"server error: {json.dumps(m)}")

    def receive_on(self, channel) -> None:
        received = bytearray()

        @channel.on("message")
        def on_message(message):
            if isinstance(message, bytes):
                received.extend(message)
                return
            if message == "END":
                digest = hashlib.sha256(received).hexdigest()
                emit("received", bytes=len(received), sha256=digest, pair=selected_pair(self.pc))
                channel.send(f"ACK:{digest}")

        @channel.on("close")
        def on_close():
            if not self.finished.done():
                self.finished.set_result(None)

    async def offer(self) -> None:
        self.pc = self.new_pc()
        channel = self.pc.createDataChannel("bulk")
        payload = os.urandom(self.args.bytes)
        sent_digest = hashlib.sha256(payload).hexdigest()

        @channel.on("open")
        def on_open():
            emit("open", offer_to_open_ms=round((time.monotonic() - self.t_offer) * 1000, 1), pair=selected_pair(self.pc))
            for i in range(0, len(payload), CHUNK):
                channel.send(payload[i : i + CHUNK])
            channel.send("END")

        @channel.on("message")
        def on_message(message):
            if isinstance(message, str) and message.startswith("ACK:") and not self.finished.done():
                emit("done", bytes=len(payload), sha256=sent_digest, acked_sha256=message[4:])
                self.finished.set_result(None)

        self.t_offer = time.monotonic()
        await self.describe("offer")

    async def gather_only(self) -> None:
        self.pc = self.new_pc()
        self.pc.createDataChannel("probe")
        try:
            await self.pc.setLocalDescription(await self.pc.createOffer())
        except Exception as exc:
            raise GatherError(f"{type(exc).__name__}: {exc}") from exc
        _, candidates, _ = split_candidates(self.pc.localDescription.sdp)
        emit("gathered", candidates=[c.split()[7] for c in candidates])
        await self.pc.close()
        await self.ws.close()

    async def run(self) -> None:
        await self.register()
        if self.args.gather_only:
            return await self.gather_only()
        if self.args.offer_to:
            await self.wait_for_target()
        listener = asyncio.ensure_future(self.signaling())
        listener.add_done_callback(lambda t: t.cancelled() or t.exception() is None or self.fail_with(t.exception()))
        if self.args.offer_to:
            await self.offer()
        try:
            await self.finished
        finally:
            listener.cancel()
            if self.pc:
                await self.pc.close()
            await self.ws.close()

    def fail_with(self, exc: BaseException) -> None:
        if not self.finished.done():
            self.finished.set_exception(exc)


class GatherError(Exception):
    pass


async def main() -> int:
    args = parse_args()
    use_host_addresses([] if args.relay_only else ["127.0.0.1"])
    peer = Peer(args)
    try:
        await asyncio.wait_for(peer.run(), args.timeout)
        return 0
    except GatherError as exc:
        emit("failed", stage="gather", error=str(exc))
    except asyncio.TimeoutError:
        emit("failed", stage="timeout", error=f"not done within {args.timeout} s")
    except Exception as exc:
        emit("failed", stage="run", error=f"{type(exc).__name__}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
