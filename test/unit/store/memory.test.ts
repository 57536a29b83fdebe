import { auditStoreConformance } from './audit-store.conformance.ts';
import { trailConformance } from './trail.conformance.ts';
import { createMemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';

auditStoreConformance('memory', async () => createMemoryAuditStore());
trailConformance('memory', async () => createMemoryAuditStore());
