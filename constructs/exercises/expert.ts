// Checks of the expert exercises, one module per exercise (expert-*.ts): real queries on the
// shard servers, the Kafka admin API, requests to the learner's gateway, and the learner's files.
import { FAULT_TOLERANCE_CHECKS } from './expert-fault.js';
import { LEADERSHIP_CHECKS } from './expert-leadership.js';
import { SECURITY_CHECKS } from './expert-security.js';
import { STREAMS_CHECKS } from './expert-streams.js';
import type { Check } from './types.js';

export const EXPERT_CHECKS: Record<string, readonly Check[]> = {
  'expert-fault-tolerance': FAULT_TOLERANCE_CHECKS,
  'expert-security': SECURITY_CHECKS,
  'expert-leadership': LEADERSHIP_CHECKS,
  'expert-streams': STREAMS_CHECKS,
};
