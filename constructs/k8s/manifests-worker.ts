// Renders and writes EKS manifests in a worker thread, so `synth --target aws` spends the second
// core on cdk8s while the main thread runs cdktf (measured: ~145 ms of cdk8s hidden per `synth all`).
import { parentPort, workerData } from 'node:worker_threads';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError } from '../model/errors.js';
import { labManifests, writeManifests } from './synth.js';

export interface ManifestsJob {
  readonly deployments: readonly LabDeployment[];
  readonly outdir: string;
}

const job = workerData as ManifestsJob;
try {
  const written = writeManifests(
    job.deployments.flatMap((d) => labManifests(d, 'managed')),
    job.outdir,
  );
  parentPort!.postMessage({ ok: true, written });
} catch (error) {
  const e = error as Error;
  parentPort!.postMessage({ ok: false, name: e.name, message: e.message, hint: e instanceof ExternalError ? e.hint : undefined });
}
