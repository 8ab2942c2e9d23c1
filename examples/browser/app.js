// The browser peer of index.html: registers through the client library, lists the room (with
// presence), offers to a peer on a click, answers offers, and chats over a data channel "chat".
import { PeerClient } from '/client/peer-client.js';

const q = new URLSearchParams(location.search);
const client = new PeerClient({
  url: q.get('signal') ?? 'ws://127.0.0.1:8080',
  register: { room_id: q.get('room') ?? 'demo', peer_id: q.get('peer') ?? `browser-${Math.random().toString(36).slice(2, 7)}`, role: 'browser', presence: true },
});
const log = (line) => (document.querySelector('#log').textContent += `${line}\n`);
const connections = new Map(); // peer id -> { pc, channel }

const registered = await client.connect();
if (!registered.ok) throw new Error(`${registered.error.code}: ${registered.error.message}`);
document.querySelector('#me').textContent = `I am ${client.peerId} (server ${registered.value.server_id})`;
const iceServers = registered.value.ice_servers; // STUN/TURN from the server (TURN credentials minted for this peer)

function connection(peerId) {
  let entry = connections.get(peerId);
  if (entry) return entry;
  const pc = new RTCPeerConnection({ iceServers });
  entry = { pc, channel: null };
  connections.set(peerId, entry);
  pc.onicecandidate = (e) => client.relay('candidate', peerId, { candidate: e.candidate ? e.candidate.toJSON() : null });
  pc.ondatachannel = (e) => useChannel(peerId, e.channel);
  return entry;
}

function useChannel(peerId, channel) {
  connections.get(peerId).channel = channel;
  const greet = () => {
    log(`channel to ${peerId} open`);
    channel.send(`hello from ${client.peerId}`);
  };
  // A channel the other side opened can arrive already open: greet at once then.
  if (channel.readyState === 'open') greet();
  else channel.onopen = greet;
  channel.onmessage = (e) => log(`${peerId}: ${e.data}`);
}

async function offer(peerId) {
  const { pc } = connection(peerId);
  useChannel(peerId, pc.createDataChannel('chat'));
  await pc.setLocalDescription(await pc.createOffer());
  client.relay('offer', peerId, { sdp: pc.localDescription.sdp });
}

client.on('offer', async (m) => {
  const { pc } = connection(m.sender);
  await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  client.relay('answer', m.sender, { sdp: pc.localDescription.sdp });
});
client.on('answer', (m) => connections.get(m.sender)?.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
client.on('candidate', (m) => m.candidate && connections.get(m.sender)?.pc.addIceCandidate(m.candidate));
client.on('error', (m) => log(`server: ${m.code} ${m.message}`));

async function showPeers() {
  const peers = await client.discover();
  const list = document.querySelector('#peers');
  list.replaceChildren(
    ...(peers.ok ? peers.value : []).map((p) => {
      const item = document.createElement('li');
      item.textContent = `${p.peer_id} (${p.role})`;
      const button = item.appendChild(document.createElement('button'));
      button.textContent = 'connect';
      button.onclick = () => offer(p.peer_id);
      return item;
    }),
  );
}
for (const event of ['peer_joined', 'peer_left', 'registered']) client.on(event, showPeers);
await showPeers();

document.querySelector('#chat').onsubmit = (e) => {
  e.preventDefault();
  const text = document.querySelector('#text').value;
  for (const { channel } of connections.values()) if (channel?.readyState === 'open') channel.send(text);
  log(`me: ${text}`);
};
