import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoPath } from './deploy-files.ts';

// biome-ignore lint/suspicious/noExplicitAny: a manifest is free-form YAML; tests read what they check.
export type Manifest = Record<string, any>;

/**
 * The subset of kustomize deploy/kubernetes uses: `resources` (files and directories),
 * `components`, `namespace` and `images`. Any other field is refused, so that a kustomization
 * never asks for something this renderer would silently leave out of what the tests check.
 */
const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'images']);

// Kinds of the cluster, not of a namespace, among those deploy/kubernetes may hold.
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'ClusterTriggerAuthentication',
]);

interface Image {
  name: string;
  newName?: string;
  newTag?: string;
}

export class KustomizeError extends Error {}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path)).isDirectory();
}

async function readManifests(file: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const out: Manifest[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value !== null) out.push(value);
  }
  return out;
}

function podSpecOf(object: Manifest): Manifest | undefined {
  if (object.kind === 'Pod') return object.spec;
  if (object.kind === 'CronJob') return object.spec?.jobTemplate?.spec?.template?.spec;
  return object.spec?.template?.spec;
}

function setImages(objects: Manifest[], images: Image[]): void {
  for (const object of objects) {
    const pod = podSpecOf(object);
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const [name = '', tag] = String(container.image).split(':');
      const image = images.find((i) => i.name === name);
      if (!image) continue;
      container.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
    }
  }
}

/**
 * The objects `kubectl kustomize <dir>` prints, for the kustomize features deploy/kubernetes
 * uses; `dir` relative to the repository root (or absolute).
 */
export async function renderKustomization(dir: string, expectKind = 'Kustomization'): Promise<Manifest[]> {
  const root = resolve(repoPath(), dir);
  const file = join(root, 'kustomization.yaml');
  const [kustomization] = await readManifests(file);
  const where = relative(repoPath(), file);
  if (!kustomization) throw new KustomizeError(`${where} is empty`);
  if (kustomization.kind !== expectKind) {
    throw new KustomizeError(`${where} is a ${kustomization.kind}, where a ${expectKind} is expected`);
  }
  const unknown = Object.keys(kustomization).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    throw new KustomizeError(
      `${where} uses ${unknown.join(', ')}, which the test-side renderer does not implement: implement it in tooling/repo-checks/test/kubernetes-manifests.ts or do without`,
    );
  }
  const objects: Manifest[] = [];
  for (const resource of (kustomization.resources ?? []) as string[]) {
    const path = join(root, resource);
    objects.push(
      ...((await isDirectory(path)) ? await renderKustomization(path) : await readManifests(path)),
    );
  }
  for (const component of (kustomization.components ?? []) as string[]) {
    objects.push(...(await renderKustomization(join(root, component), 'Component')));
  }
  if (kustomization.namespace) {
    for (const object of objects) {
      if (!CLUSTER_SCOPED.has(object.kind)) {
        object.metadata ??= {};
        object.metadata.namespace = kustomization.namespace;
      }
    }
  }
  setImages(objects, (kustomization.images ?? []) as Image[]);
  const ids = new Set<string>();
  for (const object of objects) {
    const id = `${object.apiVersion}/${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
    if (ids.has(id)) throw new KustomizeError(`${where}: ${id} is defined twice`);
    ids.add(id);
  }
  return objects;
}

/** The one object of `kind` named `name`. */
export function find(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  if (found.length !== 1) throw new Error(`${found.length} ${kind} objects named ${name}`);
  return found[0] as Manifest;
}

// ---------------------------------------------------------------------------------------------
// Validation against the Kubernetes API schemas (kubernetes-models) and KEDA's CRDs
// (@kubernetes-models/keda)

/** The module of kubernetes-models (or a CRD's package) that holds the models of an apiVersion. */
function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

/**
 * Errors of `object` against the OpenAPI schema of its apiVersion and kind (an empty list when it
 * is valid); an apiVersion or kind the schemas do not know is an error too.
 */
export async function schemaErrors(object: Manifest): Promise<string[]> {
  const name = `${object.kind ?? '(no kind)'} ${object.metadata?.name ?? '(no name)'}`;
  let models: Record<string, unknown>;
  try {
    models = await import(modelModule(String(object.apiVersion)));
  } catch {
    return [`${name}: no schema for apiVersion ${object.apiVersion}`];
  }
  const Model = models[object.kind] as (new (data: Manifest) => { validate(): void }) | undefined;
  if (typeof Model !== 'function')
    return [`${name}: no schema for kind ${object.kind} in ${object.apiVersion}`];
  try {
    // A copy: the model's constructor may fill in defaults.
    new Model(structuredClone(object)).validate();
    return [];
  } catch (error) {
    return [`${name}: ${(error as Error).message}`];
  }
}

/** The module of kubernetes-models (or a CRD's package) holding the TypeScript type of a kind. */
function typeModule(object: Manifest): string {
  return `${modelModule(String(object.apiVersion))}/${object.kind}`;
}

/**
 * Fields the schemas do not know, as the API server's strict field validation
 * (`kubectl apply --validate=strict`) refuses them: the JSON schemas above allow any extra field,
 * the models' TypeScript types do not. Each object is type-checked as an object literal of its
 * kind's type, where TypeScript refuses a property the type does not declare; at least one such
 * property is reported per object that has any. Returns one message per object with errors.
 */
export async function unknownFieldErrors(objects: Manifest[]): Promise<string[]> {
  const ts = (await import('typescript')).default;
  // Inside tooling/repo-checks, so that the models resolve from its node_modules; never written.
  const file = repoPath('tooling/repo-checks/test/__kubernetes-objects__.ts');
  const lines = objects.map(
    (object, i) =>
      `import type { I${object.kind} as T${i} } from ${JSON.stringify(typeModule(object))};\nexport const o${i}: T${i} = ${JSON.stringify(object)};`,
  );
  const source = lines.join('\n');
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const byObject = new Map<number, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.file?.fileName !== file || diagnostic.start === undefined) continue;
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const i = Math.floor(line / 2);
    byObject.set(i, [
      ...(byObject.get(i) ?? []),
      ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
    ]);
  }
  return [...byObject].map(([i, messages]) => {
    const object = objects[i] as Manifest;
    return `${object.kind} ${object.metadata?.name}: ${messages.join('; ')}`;
  });
}
