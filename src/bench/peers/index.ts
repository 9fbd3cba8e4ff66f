/** Peer benchmarks: optional packages measured beside spell's engine when installed. */
export { runPeers } from './peers.ts';
export type { PeersOptions, PeersReport } from './peers.ts';
export { ONNX_INSTALL, runOnnxMatmulPeer } from './onnx-matmul.ts';
export type { OnnxMatmulCell, OnnxMatmulReport } from './onnx-matmul.ts';
export { TFJS_INSTALL, runTfjsTrainPeer } from './tfjs-train.ts';
export type { TfjsRatio, TfjsTrainReport } from './tfjs-train.ts';
export type { PeerUnavailable } from './optional-import.ts';
export { matmulModel, encodeOnnxModel, ProtoWriter } from './onnx-proto.ts';
