/**
 * `cdk-kms-byok/testing`: an offline test kit for stacks that use `ExternalKey`. The KMS emulator
 * (faithful import: token binding, material checks, expiry on a movable clock, faults), the
 * CloudFormation harness that plays a synthesized app's custom resources against it, and
 * `synthAndDeploy` for the common case. A separate entry point: `cdk-kms-byok` never loads it.
 * See docs/testing-kit.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { App } from 'aws-cdk-lib';
import { DeployOptions, LocalCloud, LocalCloudOptions, LocalStack } from './harness';

export * from './emulator';
export * from './harness';
export * from './iam';
export * from './secrets-manager';

/** Options of `synthAndDeploy`: where to deploy, and how (the harness's `DeployOptions`). */
export interface SynthAndDeployOptions extends DeployOptions {
  /**
   * Deploy into this local cloud; the caller keeps it and stops it.
   * @default - a new LocalCloud, started with `cloudOptions`, returned as `cloud` (stop it when done)
   */
  readonly cloud?: LocalCloud;
  /** How to start the new local cloud (region, account, emulator options). @default {} */
  readonly cloudOptions?: LocalCloudOptions;
}

/** What `synthAndDeploy` deployed. */
export interface DeployedApp {
  /** The local cloud the stacks live in: `cloud.kmsClient()`, `cloud.kms.inspectKey(...)`, `cloud.stop()`. */
  readonly cloud: LocalCloud;
  /** The synthesized cloud assembly directory; `stacks[name].apply(otherDir)` updates a stack. */
  readonly assemblyDir: string;
  /** The deployed stacks by artifact id, in deployment order. */
  readonly stacks: Record<string, LocalStack>;
  /** The outputs of each deployed stack: `outputs[stackArtifactId][outputName]`. */
  readonly outputs: Record<string, Record<string, string>>;
}

/**
 * Synthesizes a CDK app and deploys its stacks to a local cloud: the KMS emulator and the kit's
 * Secrets Manager on 127.0.0.1, with every custom resource played by the handler bundled in the
 * cloud assembly, as CloudFormation would. `app` may be a function of the (already started) local
 * cloud, so that it can first create the secrets the stacks read, e.g.
 * `await cloud.createSecret('byok/key-material', { secretString })`.
 *
 * `stackNames` are artifact ids (for a top-level stack: its construct id) or display names; by
 * default every stack of the app, dependencies first. Stacks inside a `Stage` and cross-stack
 * references (`Fn::ImportValue`) are not supported. On failure a cloud started here is stopped
 * before the error (`DeploymentFailed` for a failed resource) is thrown.
 */
export async function synthAndDeploy(
  app: App | ((cloud: LocalCloud) => App | Promise<App>),
  stackNames?: string[],
  options: SynthAndDeployOptions = {},
): Promise<DeployedApp> {
  const cloud = options.cloud ?? (await LocalCloud.start(options.cloudOptions));
  try {
    const theApp = typeof app === 'function' ? await app(cloud) : app;
    const assemblyDir = theApp.synth().directory;
    const stacks: Record<string, LocalStack> = {};
    const outputs: Record<string, Record<string, string>> = {};
    for (const artifactId of stacksToDeploy(assemblyDir, stackNames)) {
      const stack = await cloud.deploy(assemblyDir, artifactId, options);
      stacks[artifactId] = stack;
      outputs[artifactId] = stack.outputs;
    }
    return { cloud, assemblyDir, stacks, outputs };
  } catch (e) {
    if (!options.cloud) await cloud.stop();
    throw e;
  }
}

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly dependencies?: string[];
}

/** The stack artifacts to deploy, each after the stacks it depends on. */
function stacksToDeploy(assemblyDir: string, names?: string[]): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const artifacts: Record<string, ManifestArtifact> = manifest.artifacts ?? {};
  const stackIds = Object.keys(artifacts).filter((id) => artifacts[id].type === 'aws:cloudformation:stack');
  const wanted = names?.map((name) => {
    const id = stackIds.find((s) => s === name || artifacts[s].displayName === name);
    if (!id) throw new Error(`no stack '${name}' in the app; its stacks: ${stackIds.join(', ') || '(none)'}`);
    return id;
  }) ?? stackIds;
  const order: string[] = [];
  // Like `cdk deploy X`, a stack's dependencies are deployed first (CDK's manifests have no cycles).
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const dependency of artifacts[id].dependencies ?? []) if (stackIds.includes(dependency)) visit(dependency);
    order.push(id);
  };
  wanted.forEach(visit);
  return order;
}
