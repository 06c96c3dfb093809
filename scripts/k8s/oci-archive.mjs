#!/usr/bin/env node
// Writes an OCI image archive (oci-layout, index.json, blobs/sha256/...) from root filesystem
// layers, with no registry and no Docker: what `ctr -n k8s.io images import` takes. No container
// image registry is reachable from the machines labforge is tested on, so every image a practice
// cluster runs is built locally and packed by this script.
//
//   node scripts/k8s/oci-archive.mjs --name docker.io/library/postgres:17 --out postgres.oci.tar \
//     --layer rootfs.tar [--layer more.tar ...] [--config config.json]
//
// --layer    a tar of files (plain or gzip-compressed, by its name ending in .gz); first is lowest
// --config   the image config's "config" part (Entrypoint, Cmd, Env, User, WorkingDir,
//            ExposedPorts, Labels), as JSON; default {}
// Prints the manifest digest (sha256:...) on stdout: the digest `image@sha256:...` pins.
// The same inputs give the same digest (no timestamps are written).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    out: { type: 'string' },
    layer: { type: 'string', multiple: true },
    config: { type: 'string' },
  },
});
const usage = 'usage: oci-archive.mjs --name REF --out FILE --layer TAR [--layer TAR ...] [--config JSON]';
if (!values.name || !values.out || !values.layer?.length) {
  console.error(usage);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'oci-archive-'));
try {
  const blobs = join(work, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const sha256 = (data) => createHash('sha256').update(data).digest('hex');
  /** Stores a blob by content and returns its descriptor. */
  const blob = (mediaType, data) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { mediaType, digest: `sha256:${digest}`, size: data.length };
  };

  const layers = [];
  const diffIds = [];
  for (const path of values.layer) {
    const data = readFileSync(path);
    const gzipped = path.endsWith('.gz');
    // The config names layers by the digest of their uncompressed tar (diff id).
    diffIds.push(`sha256:${sha256(gzipped ? gunzipSync(data) : data)}`);
    layers.push(blob(gzipped ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', data));
  }

  const runConfig = values.config ? JSON.parse(readFileSync(values.config, 'utf8')) : {};
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: runConfig, rootfs: { type: 'layers', diff_ids: diffIds } })),
  );
  const manifest = blob(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })),
  );
  // containerd names the imported image from io.containerd.image.name; other tools read the
  // OCI ref name (the tag).
  const tag = values.name.includes(':') ? values.name.slice(values.name.lastIndexOf(':') + 1) : 'latest';
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': values.name, 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(join(work, 'index.json'), JSON.stringify(index));
  writeFileSync(join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  // A fixed mtime and owner make the archive itself reproducible too.
  const archive = join(work, 'archive.tar');
  execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    work,
    '-cf',
    archive,
    'oci-layout',
    'index.json',
    'blobs',
  ]);
  copyFileSync(archive, resolve(values.out));
  process.stdout.write(`${manifest.digest}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
