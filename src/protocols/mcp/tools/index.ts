/**
 * The catalogue of Sluice's own MCP tools (issue #7), in the order `tools/list` shows them:
 * reads first, then writes, then exec. Each tool turns strictly validated arguments into
 * ordinary Kubernetes API requests through `KubeAccess` (tool-types.ts) and nothing else; the
 * endpoint adds the `connection` argument and shows a tool only to callers whom the policy could
 * allow one of its `reach` verbs.
 */
import type { SluiceTool } from '../tool-types.ts';
import { applyManifest } from './apply-manifest.ts';
import { deleteResource } from './delete-resource.ts';
import { describeResource } from './describe-resource.ts';
import { exec } from './exec.ts';
import { getResource } from './get-resource.ts';
import { listEvents } from './list-events.ts';
import { listResources } from './list-resources.ts';
import { patchResource } from './patch-resource.ts';
import { podLogs } from './pod-logs.ts';
import { scale } from './scale.ts';

export const SLUICE_TOOLS: readonly SluiceTool[] = [
  listResources,
  getResource,
  describeResource,
  podLogs,
  listEvents,
  applyManifest,
  patchResource,
  scale,
  deleteResource,
  exec,
];
