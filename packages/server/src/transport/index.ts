export { decodeFrames, encodeFrames, FrameError, MAX_FRAME_BYTES } from "./frames.js";
export { hexId, PEER_HEADERS, PEER_PATHS, parseHexId } from "./protocol.js";
export { createPeerApi, type PeerHandler } from "./receiver.js";
export {
  fetchStreamDialer,
  type LatencyStats,
  PeerSender,
  type PeerSenderOptions,
  type StreamDialer,
} from "./sender.js";
