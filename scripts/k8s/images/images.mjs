#!/usr/bin/env node
// The image cache behind scripts/k8s/images.sh (which takes the build lock and checks the
// tools first): which images exist, where they are, and building the missing ones in parallel.
//
// Cache layout: <root>/images-<hash of the shared build steps and the mirror>/
//   <name>-<hash of its recipe>/image.oci.tar   the OCI archive (`ctr -n k8s.io images import`)
//   <name>-<hash>/meta.json       ref, digest, versions, sizes, build time
//   <name>-<hash>/packages.txt    every Debian package in the image, with its version
//   <name>-<hash>/.complete       written last: an image without it is rebuilt
//   <name>.log                    the last build's output
//   index.json                    ref -> { digest, archive, ... } of every built image
// The hashes cover the recipe files, images.json's entry, the packer and (kafka) the pom: a
// change to any of them gives a new directory, so a stale image is never reused.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '../../..');
const CATALOG = JSON.parse(readFileSync(join(HERE, 'images.json'), 'utf8'));
const ROOT = process.env.LABFORGE_IMAGES_CACHE_ROOT;
if (!ROOT) fail('images.mjs: run it through scripts/k8s/images.sh', 2);

/** A hash of files' paths, modes and contents. */
function hashFiles(paths, extra = '') {
  const hash = createHash('sha256').update(extra);
  for (const path of [...paths].sort()) {
    const mode = statSync(path).mode & 0o111 ? 'x' : '-';
    hash
      .update(`${relative(REPO, path)}\0${mode}\0`)
      .update(readFileSync(path))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

// The cache directory follows what shapes every image (the build script, the shared hooks,
// the packer, the mirror) and this file's cache layout version; each image's directory follows
// its own recipe and catalog entry, so editing one recipe rebuilds that image only.
const LAYOUT = 'v1';
const MIRROR = process.env.LABFORGE_DEBIAN_MIRROR || CATALOG.mirror;
const HASH = hashFiles(
  [join(HERE, 'build-image.sh'), ...filesUnder(join(HERE, 'common')), join(REPO, 'scripts/k8s/oci-archive.mjs')],
  `${LAYOUT}\0${MIRROR}`,
);
const CACHE = join(ROOT, `images-${HASH}`);

function recipeHash(image) {
  const extra = image.jars ? [join(REPO, image.jars), join(REPO, 'scripts/kafka/fetch.sh')] : [];
  return hashFiles([...filesUnder(join(HERE, image.name)), ...extra], JSON.stringify(image));
}

const imageDir = (image) => join(CACHE, `${image.name}-${recipeHash(image)}`);

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function isBuilt(image) {
  return existsSync(join(imageDir(image), '.complete')) && existsSync(join(imageDir(image), 'image.oci.tar'));
}

function meta(image) {
  return JSON.parse(readFileSync(join(imageDir(image), 'meta.json'), 'utf8'));
}

/** index.json: every built image by ref, rewritten whole (rename) so a reader never sees half. */
function writeIndex() {
  const images = {};
  for (const image of CATALOG.images) {
    if (!isBuilt(image)) continue;
    const m = meta(image);
    images[m.ref] = { name: m.name, digest: m.digest, archive: m.archive, version: m.version, official: m.official };
  }
  const tmp = join(CACHE, `.index.json.${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify({ inputs: HASH, images }, null, 2)}\n`);
  renameSync(tmp, join(CACHE, 'index.json'));
}

function selected(names) {
  const valid = CATALOG.images.map((i) => i.name);
  for (const name of names) {
    if (!valid.includes(name)) fail(`images.sh: unknown image '${name}' (valid: ${valid.join(', ')})`, 2);
  }
  return names.length === 0 ? CATALOG.images : CATALOG.images.filter((i) => names.includes(i.name));
}

/** Builds one image into a staging directory, then moves it in place and marks it complete. */
function buildOne(image) {
  const target = imageDir(image);
  const staging = join(CACHE, `.${image.name}.${process.pid}`);
  const log = join(CACHE, `${image.name}.log`);
  rmSync(staging, { recursive: true, force: true });
  const fd = openSync(log, 'w');
  const started = Date.now();
  const args = [join(HERE, 'build-image.sh'), image.name, image.ref, image.suite, MIRROR, image.packages.join(','), image.version, staging];
  return new Promise((resolve) => {
    const child = spawn('bash', args, { stdio: ['ignore', fd, fd] });
    child.on('close', (code) => {
      closeSync(fd);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (code !== 0) {
        rmSync(staging, { recursive: true, force: true });
        const tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
        process.stderr.write(`images.sh: ${image.name} failed after ${seconds} s (exit ${code}); last lines of ${log}:\n${tail}\n`);
        resolve(false);
        return;
      }
      const read = (file) => readFileSync(join(staging, file), 'utf8').trim();
      const archive = join(target, 'image.oci.tar');
      const record = {
        name: image.name,
        ref: image.ref,
        official: image.official,
        suite: image.suite,
        packages: image.packages,
        versionPackage: image.version,
        version: read('version'),
        debianVersion: read('packages.txt')
          .split('\n')
          .find((l) => l.startsWith(`${image.version}\t`))
          ?.split('\t')[1],
        digest: read('digest'),
        archive,
        archiveBytes: statSync(join(staging, 'image.oci.tar')).size,
        layerBytes: Number(read('layer-bytes')),
        buildSeconds: seconds,
        builtAt: new Date().toISOString(),
      };
      if (image.name === 'kafka')
        record.version = readFileSync(join(REPO, 'scripts/kafka/pom.xml'), 'utf8').match(/<kafka\.version>(.+?)<\/kafka\.version>/)[1];
      writeFileSync(join(staging, 'meta.json'), `${JSON.stringify(record, null, 2)}\n`);
      // Older builds of this image (other recipe versions) go; this one takes their place.
      for (const entry of readdirSync(CACHE))
        if (entry.startsWith(`${image.name}-`) && join(CACHE, entry) !== target)
          rmSync(join(CACHE, entry), { recursive: true, force: true });
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      writeFileSync(join(target, '.complete'), `${record.digest}\n`);
      writeIndex();
      const mib = (bytes) => `${(bytes / 1048576).toFixed(0)} MiB`;
      process.stderr.write(
        `images.sh: ${image.name} ${record.version} -> ${image.ref} ${record.digest} (${mib(record.archiveBytes)}) in ${seconds} s\n`,
      );
      resolve(true);
    });
  });
}

async function build(names) {
  const images = selected(names);
  mkdirSync(CACHE, { recursive: true });
  // The kafka tag names the pom's version: a pom bump must rename the image too.
  const kafka = CATALOG.images.find((i) => i.name === 'kafka');
  const pomVersion = readFileSync(join(REPO, 'scripts/kafka/pom.xml'), 'utf8').match(/<kafka\.version>(.+?)<\/kafka\.version>/)?.[1];
  if (kafka && !kafka.ref.endsWith(`:${pomVersion}`))
    fail(`images.sh: kafka ref ${kafka.ref} does not name the pom's Kafka ${pomVersion} (scripts/kafka/pom.xml)`, 2);
  // Staging directories of a build that was killed (this run holds the lock: none is live).
  for (const entry of readdirSync(CACHE)) if (entry.startsWith('.')) rmSync(join(CACHE, entry), { recursive: true, force: true });
  const todo = images.filter((i) => !isBuilt(i));
  if (todo.length === 0) {
    process.stderr.write(`images.sh: ${images.map((i) => i.name).join(', ')} already built in ${CACHE}\n`);
    return true;
  }
  // Network and disk bound (downloads, dpkg unpacking). Measured fresh on 2 cores: one at a
  // time 230 s, two 168 s, three 323 s.
  const jobs = Math.max(1, Number(process.env.LABFORGE_IMAGE_JOBS) || 2);
  process.stderr.write(`images.sh: building ${todo.map((i) => i.name).join(', ')} into ${CACHE} (${jobs} at a time)\n`);
  const started = Date.now();
  const queue = [...todo];
  let ok = true;
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let image = queue.shift(); image; image = queue.shift()) ok = (await buildOne(image)) && ok;
    }),
  );
  process.stderr.write(`images.sh: ${ok ? 'done' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return ok;
}

function list(json) {
  const rows = CATALOG.images.map((image) =>
    isBuilt(image) ? { built: true, ...meta(image) } : { built: false, name: image.name, ref: image.ref },
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ cache: CACHE, images: rows }, null, 2)}\n`);
    return;
  }
  for (const row of rows) {
    process.stdout.write(
      row.built ? `${row.ref}\t${row.digest}\t${row.archive}\n` : `${row.ref}\t-\tnot built (scripts/k8s/images.sh build ${row.name})\n`,
    );
  }
}

function prune() {
  for (const entry of readdirSync(ROOT)) {
    if (!entry.startsWith('images-') || entry === `images-${HASH}`) continue;
    rmSync(join(ROOT, entry), { recursive: true, force: true });
    process.stderr.write(`images.sh: removed ${join(ROOT, entry)}\n`);
  }
}

const [command, ...rest] = process.argv.slice(2);
const USAGE = 'usage: images.sh build [NAME...] | list [--json] | dir | prune';
switch (command) {
  case 'build':
    process.exitCode = (await build(rest)) ? 0 : 1;
    break;
  case 'list':
    list(rest.includes('--json'));
    break;
  case 'dir':
    process.stdout.write(`${CACHE}\n`);
    break;
  case 'prune':
    prune();
    break;
  default:
    fail(command === undefined ? USAGE : `images.sh: unknown command '${command}' (valid: build, list, dir, prune)\n${USAGE}`, 2);
}
