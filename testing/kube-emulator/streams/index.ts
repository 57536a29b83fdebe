// PLACEHOLDER while the stream handlers are written in parallel; replaced by the real module.
import type { PodStreams } from '../types.ts';
import { rejectUpgrade, sendStatus, statusFailure } from '../status.ts';

export function createPodStreams(): PodStreams {
  const nf = statusFailure(404, 'NotFound', 'not implemented yet');
  return {
    handleHttp: (_c, _q, res) => sendStatus(res, nf),
    handleUpgrade: (_c, _q, socket) => rejectUpgrade(socket, nf),
    close: () => {},
  };
}
