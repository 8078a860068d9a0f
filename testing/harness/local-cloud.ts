import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, PutKeyPolicyCommand, ReplicateKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DeleteResourcePolicyCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { partitionOf } from '../../lib/private/import-rules';
import { KmsEmulator, KmsEmulatorOptions } from '../emulator';
import { CloudFormationServer, StackResourceDetail } from './cloudformation';
import { SecretsManagerServer } from '../secrets-manager';
import { EmulatorKeys } from '../secrets-manager/emulator-keys';
import type { PolicyDocument } from '../iam/evaluate';
import { identifyCaller, PrincipalRegistry } from '../iam/principals';
import { createIamResource, IAM_RESOURCE_TYPES, IamView, syncIdentityPolicies } from './iam';
import { Invocation, invokeHandler } from './lambda-runner';
import { CustomResourceResponse, ResponseServer } from './response-server';
import { creationOrder, creationWaves, resolve, ResourceState, Template, TemplateResource } from './template';

/** The fake credentials of the default account; no request leaves 127.0.0.1. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALTEST000000', secretAccessKey: 'local-secret-access-key' };

/** Fake credentials for an account: the emulator tells accounts apart by access key id. */
export function localCredentials(account?: string, defaultAccount?: string): { accessKeyId: string; secretAccessKey: string } {
  return !account || account === defaultAccount ? LOCAL_CREDENTIALS : { accessKeyId: `AKIALOCAL${account}`, secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey };
}

export interface LocalCloudOptions {
  /** Region of stacks that do not name one. @default 'us-east-1' */
  readonly region?: string;
  /** Account of stacks that do not name one. @default '111122223333' */
  readonly accountId?: string;
  /** Further accounts that stacks may be deployed to (multi-account tests). @default - none */
  readonly accounts?: string[];
  /**
   * Passed to the KMS emulator. Its request quotas are on, at AWS's defaults, unless
   * `emulator.quotas` says otherwise (e.g. `{ scale: 50 }` or `{ enabled: false }`).
   */
  readonly emulator?: KmsEmulatorOptions;
}

/** One custom resource invocation the harness made. */
export interface HandlerInvocation extends Invocation {
  readonly logicalId: string;
  readonly event: Record<string, any>;
  /** Every answer received at the event's ResponseURL (a correct handler sends exactly one). */
  readonly answers: CustomResourceResponse[];
}

export interface DeployOptions {
  /** Values for `AWS::SecretsManager::Secret` resources, by logical id (else a random string). */
  readonly secretValues?: Record<string, { secretString?: string; secretBinary?: Uint8Array }>;
  /** Override the Lambda timeout, e.g. to test the handler's deadline. */
  readonly lambdaTimeoutMs?: number;
  /** Extra environment for the handler (e.g. to point it elsewhere). */
  readonly lambdaEnv?: Record<string, string>;
  /** Roll back like CloudFormation when a resource fails. @default true */
  readonly rollback?: boolean;
  /**
   * How many independent resources are created at once. CloudFormation starts every resource
   * whose dependencies are met, so by default all of them (each custom resource is a Node
   * process of the handler). @default - no limit
   */
  readonly concurrency?: number;
  /**
   * Where an environment-agnostic stack is deployed, and under which stack name (as a StackSet
   * instance is: the template names no account or Region). @default - the stack's own environment, else the cloud's defaults; the artifact id
   */
  readonly environment?: { readonly account?: string; readonly region?: string; readonly stackName?: string };
}

export class DeploymentFailed extends Error {
  constructor(public readonly logicalId: string, public readonly reason: string) {
    super(`${logicalId} failed: ${reason}`);
    this.name = 'DeploymentFailed';
  }
}

/**
 * Local AWS for tests: the KMS emulator, the kit's Secrets Manager, and a stand-in for CloudFormation
 * that deploys synthesized templates, invoking the very handler bundle in the cloud assembly with
 * real custom resource events and receiving its answers at a local ResponseURL.
 */
export class LocalCloud {
  public static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const accountId = options.accountId ?? '111122223333';
    const accounts = Object.fromEntries((options.accounts ?? []).map((a) => [localCredentials(a, accountId).accessKeyId, a]));
    const emulator: KmsEmulator[] = [];
    const cloud: { value?: LocalCloud } = {};
    // One set of principals for both services: a role's identity policies count in KMS and Secrets Manager alike.
    const principals = options.emulator?.principals ?? new PrincipalRegistry();
    const started = await Promise.allSettled([
      KmsEmulator.start({ region: options.region, accountId, quotas: {}, ...options.emulator, accounts, principals }).then((k) => emulator[0] = k),
      SecretsManagerServer.start({
        region: options.region, accountId, accounts, principals, keys: new EmulatorKeys(() => emulator[0]), clock: { now: () => emulator[0].clock.now() },
      }),
      ResponseServer.start(),
      CloudFormationServer.start((name, logicalId, account) => cloud.value?.describeStackResource(name, logicalId, account),
        (authorization) => identifyCaller(principals, authorization, { accounts, defaultAccount: accountId, defaultRegion: options.region ?? 'us-east-1' }).principal),
    ]);
    // Whatever started is stopped again if the rest failed, so that no server keeps a test run alive.
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await Promise.allSettled(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
      throw failed.reason;
    }
    const [kms, secrets, responses, cloudFormation] = started.map((r) => (r as PromiseFulfilledResult<any>).value);
    cloud.value = new LocalCloud(kms, secrets, responses, cloudFormation, options.region ?? 'us-east-1', accountId);
    return cloud.value;
  }

  private constructor(
    public readonly kms: KmsEmulator,
    /** The local Secrets Manager (testing/secrets-manager). */
    public readonly secretsManager: SecretsManagerServer,
    public readonly responses: ResponseServer,
    /** The local CloudFormation API (DescribeStackResource), for the handler's check of an event's origin. */
    public readonly cloudFormation: CloudFormationServer,
    public readonly defaultRegion: string,
    public readonly accountId: string,
  ) {}

  private readonly stacks: LocalStack[] = [];

  /** Registers a stack for the local CloudFormation API. @internal */
  public _register(stack: LocalStack): void {
    this.stacks.push(stack);
  }

  /** What CloudFormation's DescribeStackResource answers: a stack by name or id, in the caller's account. */
  public describeStackResource(stackName: string, logicalId: string, account: string): StackResourceDetail | undefined {
    const stack = this.stacks.find((s) => (s.stackId === stackName || s.stackName === stackName) && s.account === account);
    return stack?.describeResource(logicalId);
  }

  public get secretsEndpoint(): string {
    return this.secretsManager.endpoint;
  }

  /** SDK client configuration for a local service. */
  public clientConfig(service: 'kms' | 'secretsmanager', region = this.defaultRegion, account?: string) {
    return { region, endpoint: service === 'kms' ? this.kms.endpoint : this.secretsManager.endpoint, credentials: localCredentials(account, this.accountId) };
  }

  private readonly clients = new Map<string, KMSClient | SecretsManagerClient>();

  /** The principals of the local cloud (the emulator's registry): roles deployed by stacks, and any a test registers. */
  public get principals(): PrincipalRegistry {
    return this.kms.principals;
  }

  /**
   * KMS and Secrets Manager clients that act as `principalArn` (a role, user or account root in
   * any account), registered with these identity policies; e.g. a partner account's role with the
   * IAM policy the partner would write. Closed by stop().
   */
  public clientsAs(principalArn: string, options: { identityPolicies?: PolicyDocument[]; orgId?: string; region?: string } = {}): { kms: KMSClient; secretsManager: SecretsManagerClient } {
    const { region = this.defaultRegion, ...principal } = options;
    const credentials = this.principals.credentialsFor(principalArn, principal);
    const make = <T extends KMSClient | SecretsManagerClient>(c: T): T => {
      this.clients.set(`${randomUUID()}`, c);
      return c;
    };
    return {
      kms: make(new KMSClient({ region, endpoint: this.kms.endpoint, credentials })),
      secretsManager: make(new SecretsManagerClient({ region, endpoint: this.secretsEndpoint, credentials })),
    };
  }

  /** A KMS client for the emulator (one per region, closed by stop()). */
  public kmsClient(region = this.defaultRegion, account = this.accountId): KMSClient {
    return this.client(`kms:${region}:${account}`, () => new KMSClient(this.clientConfig('kms', region, account)));
  }

  /** A Secrets Manager client for the local Secrets Manager (one per region and account, closed by stop()). */
  public secretsClient(region = this.defaultRegion, account = this.accountId): SecretsManagerClient {
    return this.client(`secretsmanager:${region}:${account}`, () => new SecretsManagerClient(this.clientConfig('secretsmanager', region, account)));
  }

  private client<T extends KMSClient | SecretsManagerClient>(key: string, make: () => T): T {
    if (!this.clients.has(key)) this.clients.set(key, make());
    return this.clients.get(key) as T;
  }

  /** Creates a secret in the local Secrets Manager (encrypted with `kmsKeyId`, default aws/secretsmanager); returns its ARN. */
  public async createSecret(name: string, value: { secretString?: string; secretBinary?: Uint8Array; kmsKeyId?: string }, region = this.defaultRegion, account = this.accountId): Promise<string> {
    const out = await this.secretsClient(region, account).send(new CreateSecretCommand({ Name: name, SecretString: value.secretString, SecretBinary: value.secretBinary, KmsKeyId: value.kmsKeyId }));
    return out.ARN!;
  }

  /** The environment the handler runs with: the standard endpoint variables, nothing else special. */
  public lambdaEnvironment(region: string, account = this.accountId): Record<string, string> {
    const credentials = localCredentials(account, this.accountId);
    return {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_KMS: this.kms.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.secretsManager.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: this.cloudFormation.endpoint,
      // Node's standard way to trust another CA: the ResponseURL is HTTPS with a local certificate.
      NODE_EXTRA_CA_CERTS: this.responses.caFile,
    };
  }

  /**
   * Deploys one stack of a cloud assembly directory (as `app.synth().directory` gives).
   */
  public async deploy(assemblyDir: string, stackName: string, options: DeployOptions = {}): Promise<LocalStack> {
    const stack = new LocalStack(this, options.environment?.stackName ?? stackName, options, stackName);
    await stack.apply(assemblyDir);
    return stack;
  }

  public async stop(): Promise<void> {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    await Promise.all([this.kms.stop(), this.secretsManager.stop(), this.responses.stop(), this.cloudFormation.stop()]);
  }
}

interface StackArtifact {
  readonly template: Template;
  readonly region: string;
  readonly account: string;
  readonly assemblyDir: string;
}

/** One resource creation or update by `LocalStack.apply`, CloudFormation's stack events in short. */
export interface ResourceEvent {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly action: 'CREATE' | 'UPDATE';
  readonly status: 'COMPLETE' | 'FAILED';
  /** Epoch milliseconds (real time). */
  readonly startedAt: number;
  readonly endedAt: number;
}

/** A stack deployed to the local cloud: its resources, outputs and handler invocations. */
export class LocalStack {
  public readonly stackId: string;
  public resources: Record<string, ResourceState> = {};
  public outputs: Record<string, string> = {};
  public readonly invocations: HandlerInvocation[] = [];
  private current?: StackArtifact;
  private resolvedProps: Record<string, any> = {};

  constructor(private readonly cloud: LocalCloud, public readonly stackName: string, private readonly options: DeployOptions, private readonly artifactId = stackName) {
    const env = options.environment;
    this.stackId = `arn:aws:cloudformation:${env?.region ?? cloud.defaultRegion}:${env?.account ?? cloud.accountId}:stack/${stackName}/${randomUUID()}`;
    cloud._register(this);
  }

  /** Each resource's CloudFormation status (CREATE_IN_PROGRESS, UPDATE_COMPLETE, ...), as DescribeStackResource reports it. */
  private readonly statuses: Record<string, { resourceType: string; status: string; updatedAt: Date }> = {};

  private setStatus(logicalId: string, resourceType: string, status: string | undefined): void {
    if (status) this.statuses[logicalId] = { resourceType, status, updatedAt: new Date() };
    else delete this.statuses[logicalId];
  }

  /** A resource as CloudFormation's DescribeStackResource reports it, while the stack is being changed too. */
  public describeResource(logicalId: string): StackResourceDetail | undefined {
    const entry = this.statuses[logicalId];
    if (!entry) return undefined;
    return { stackId: this.stackId, stackName: this.stackName, logicalId, physicalId: this.resources[logicalId]?.physicalId, ...entry };
  }

  public get region(): string {
    return this.current?.region ?? this.cloud.defaultRegion;
  }

  public get account(): string {
    return this.current?.account ?? this.cloud.accountId;
  }

  /** Creates the stack, or updates it to the template in `assemblyDir` (CloudFormation's diff). */
  public async apply(assemblyDir: string): Promise<void> {
    const next = readArtifact(assemblyDir, this.artifactId, this.cloud, this.options.environment);
    const previous = this.current;
    const oldResources = { ...this.resources };
    const oldProps = { ...this.resolvedProps };
    const touched: string[] = [];
    const replaced: Array<{ logicalId: string; physicalId: string }> = [];
    this.current = next;
    try {
      for (const wave of creationWaves(next.template)) {
        // Like CloudFormation, independent resources are created in parallel.
        const results = await inParallel(wave, this.options.concurrency ?? Infinity, async (logicalId) => {
          const resource = next.template.Resources[logicalId];
          const props = stringifyScalars(resolve(resource.Properties ?? {}, this.resolveContext()));
          if (!(logicalId in oldResources)) {
            touched.push(logicalId);
            this.resources[logicalId] = await this.track(logicalId, resource.Type, 'CREATE', () => this.createResource(logicalId, resource, props));
          } else if (JSON.stringify(props) !== JSON.stringify(oldProps[logicalId])) {
            touched.push(logicalId);
            this.resources[logicalId] = await this.track(logicalId, resource.Type, 'UPDATE', () => this.updateResource(logicalId, resource, props, oldProps[logicalId]));
            if (this.resources[logicalId].physicalId !== oldResources[logicalId].physicalId) replaced.push({ logicalId, physicalId: oldResources[logicalId].physicalId });
          }
          this.resolvedProps[logicalId] = props;
        });
        const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
      }
      const removed = previous ? creationOrder(previous.template).filter((id) => !(id in next.template.Resources)).reverse() : [];
      for (const logicalId of removed) {
        await this.deleteResource(logicalId, previous!.template.Resources[logicalId], oldProps[logicalId]);
        delete this.resources[logicalId];
        delete this.resolvedProps[logicalId];
      }
      // The clean-up phase: a custom resource that answered an Update with a new physical id was
      // replaced, and CloudFormation sends a Delete for the old one with the old properties
      // (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html).
      // A failed clean-up is reported but does not fail or roll back the update.
      for (const { logicalId, physicalId } of replaced) {
        await this.invokeCustom(logicalId, 'Delete', oldProps[logicalId], undefined, physicalId).catch(() => undefined);
      }
      syncIdentityPolicies(this.cloud.principals, this.iamView());
      this.outputs = {};
      for (const [name, output] of Object.entries(next.template.Outputs ?? {})) {
        this.outputs[name] = String(resolve(output.Value, this.resolveContext()));
      }
    } catch (e) {
      if (this.options.rollback ?? true) await this.rollback(touched, oldResources, oldProps, previous);
      throw e;
    }
  }

  /** Deletes every resource, in reverse dependency order, honouring DeletionPolicy. */
  public async destroy(): Promise<void> {
    if (!this.current) return;
    for (const logicalId of creationOrder(this.current.template).reverse()) {
      if (!(logicalId in this.resources)) continue;
      await this.deleteResource(logicalId, this.current.template.Resources[logicalId], this.resolvedProps[logicalId]);
      delete this.resources[logicalId];
    }
  }

  /**
   * Every resource creation and update of `apply`, in the order they finished (rollbacks and
   * deletions are not recorded). A resource that depends on another starts after it ended.
   */
  public readonly events: ResourceEvent[] = [];

  /** A resource's properties as the harness resolved them (intrinsics resolved, scalars as strings). */
  public propertiesOf(logicalId: string): Record<string, any> | undefined {
    return this.resolvedProps[logicalId];
  }

  private async track(logicalId: string, resourceType: string, action: ResourceEvent['action'], work: () => Promise<ResourceState>): Promise<ResourceState> {
    const startedAt = Date.now();
    let status: ResourceEvent['status'] = 'FAILED';
    this.setStatus(logicalId, resourceType, `${action}_IN_PROGRESS`);
    try {
      const state = await work();
      status = 'COMPLETE';
      return state;
    } finally {
      this.setStatus(logicalId, resourceType, `${action}_${status}`);
      this.events.push({ logicalId, resourceType, action, status, startedAt, endedAt: Date.now() });
    }
  }

  /** Logical ids of the resources of a type. */
  public logicalIdsOfType(type: string): string[] {
    return Object.entries(this.current?.template.Resources ?? {}).filter(([, r]) => r.Type === type).map(([id]) => id);
  }

  // CloudFormation's rollback: new resources are deleted, updated custom resources get an Update
  // back to their old properties (the failed one included).
  private async rollback(touched: string[], oldResources: Record<string, ResourceState>, oldProps: Record<string, any>, previous?: StackArtifact) {
    const template = this.current!.template;
    for (const logicalId of [...touched].reverse()) {
      const resource = template.Resources[logicalId];
      try {
        if (!(logicalId in oldResources)) {
          if (this.resources[logicalId] || isCustom(resource.Type)) {
            await this.deleteResource(logicalId, resource, this.resolvedProps[logicalId] ?? {}, true);
          }
          delete this.resources[logicalId];
          delete this.resolvedProps[logicalId];
        } else if (isCustom(resource.Type)) {
          const failedProps = this.resolvedProps[logicalId];
          this.setStatus(logicalId, resource.Type, 'UPDATE_IN_PROGRESS');
          this.resources[logicalId] = await this.invokeCustom(logicalId, 'Update', oldProps[logicalId], failedProps, oldResources[logicalId].physicalId);
          this.setStatus(logicalId, resource.Type, 'UPDATE_COMPLETE');
          this.resolvedProps[logicalId] = oldProps[logicalId];
        }
      } catch {
        // UPDATE_ROLLBACK_FAILED: keep going, as the rest of the stack is still rolled back.
      }
    }
    this.current = previous ?? this.current;
  }

  private resolveContext() {
    const { region, account } = this.current!;
    return {
      pseudo: {
        'AWS::Region': region,
        'AWS::AccountId': account,
        'AWS::Partition': partitionFor(region),
        'AWS::URLSuffix': region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com',
        'AWS::StackName': this.stackName,
        'AWS::StackId': this.stackId,
        'AWS::NoValue': undefined as any,
      },
      parameters: Object.fromEntries(Object.entries(this.current!.template.Parameters ?? {}).map(([k, p]) => [k, String(p.Default ?? '')])),
      resources: this.resources,
    };
  }

  private async createResource(logicalId: string, resource: TemplateResource, props: Record<string, any>): Promise<ResourceState> {
    const { region, account } = this.current!;
    switch (resource.Type) {
      case 'AWS::KMS::Key': {
        const out = await this.cfnKms(region, account, new CreateKeyCommand({
          Origin: props.Origin, KeySpec: props.KeySpec, KeyUsage: props.KeyUsage, Description: props.Description,
          MultiRegion: props.MultiRegion === 'true', Policy: props.KeyPolicy ? JSON.stringify(props.KeyPolicy) : undefined,
        }));
        return { physicalId: out.KeyMetadata!.KeyId!, attributes: { Arn: out.KeyMetadata!.Arn!, KeyId: out.KeyMetadata!.KeyId! } };
      }
      case 'AWS::KMS::ReplicaKey': {
        const primaryRegion = String(props.PrimaryKeyArn).split(':')[3];
        const out = await this.cfnKms(primaryRegion, account, new ReplicateKeyCommand({
          KeyId: props.PrimaryKeyArn, ReplicaRegion: region, Description: props.Description,
          Policy: props.KeyPolicy ? JSON.stringify(props.KeyPolicy) : undefined,
        }));
        return { physicalId: out.ReplicaKeyMetadata!.KeyId!, attributes: { Arn: out.ReplicaKeyMetadata!.Arn!, KeyId: out.ReplicaKeyMetadata!.KeyId! } };
      }
      case 'AWS::KMS::Alias':
        await this.cfnKms(region, account, new CreateAliasCommand({ AliasName: props.AliasName, TargetKeyId: props.TargetKeyId }));
        return { physicalId: props.AliasName, attributes: {} };
      case 'AWS::SecretsManager::Secret': {
        const value = this.options.secretValues?.[logicalId] ?? { secretString: randomUUID() };
        const arn = await this.cloud.createSecret(props.Name ?? `${this.stackName}-${logicalId}-${randomUUID().slice(0, 8)}`, { ...value, kmsKeyId: props.KmsKeyId }, region, account);
        return { physicalId: arn, attributes: { Id: arn } };
      }
      case 'AWS::SecretsManager::ResourcePolicy':
        await this.cloud.secretsClient(region, account).send(new PutResourcePolicyCommand({
          SecretId: props.SecretId, ResourcePolicy: JSON.stringify(props.ResourcePolicy), BlockPublicPolicy: props.BlockPublicPolicy !== 'false',
        }));
        return { physicalId: props.SecretId, attributes: {} };
      case 'AWS::IAM::Role': case 'AWS::IAM::Policy': case 'AWS::IAM::ManagedPolicy':
        try {
          return createIamResource(this.cloud.principals, logicalId, resource.Type, props, this.iamView());
        } catch (e) {
          throw new DeploymentFailed(logicalId, (e as Error).message);
        }
      case 'AWS::Lambda::Function': {
        const name = props.FunctionName ?? `${this.stackName}-${logicalId}`.slice(0, 64);
        return { physicalId: name, attributes: { Arn: `arn:${partitionFor(region)}:lambda:${region}:${account}:function:${name}` } };
      }
      default:
        if (isCustom(resource.Type)) return this.invokeCustom(logicalId, 'Create', props);
        if (resource.Type === 'AWS::Events::Rule') this.ruleCreatedAt[logicalId] = this.cloud.kms.clock.now().getTime();
        return placeholder(logicalId, resource.Type, region, account);
    }
  }

  /**
   * CloudFormation's own KMS calls (CreateKey, CreateAlias, ...): like CloudFormation, the harness
   * waits out throttling (KMS request quotas, e.g. 5 CreateKey per second) instead of failing.
   */
  private async cfnKms(region: string, account: string, command: any): Promise<any> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.cloud.kmsClient(region, account).send(command);
      } catch (e) {
        if ((e as Error).name !== 'ThrottlingException' || attempt >= 300) throw e;
        await sleep(Math.random() * 1000);
      }
    }
  }

  private async updateResource(logicalId: string, resource: TemplateResource, props: Record<string, any>, old: Record<string, any>): Promise<ResourceState> {
    const state = this.resources[logicalId];
    if (isCustom(resource.Type)) return this.invokeCustom(logicalId, 'Update', props, old, state.physicalId);
    if (IAM_RESOURCE_TYPES.has(resource.Type)) {
      try {
        syncIdentityPolicies(this.cloud.principals, { ...this.iamView(), props: { ...this.resolvedProps, [logicalId]: props } });
      } catch (e) {
        throw new DeploymentFailed(logicalId, (e as Error).message);
      }
    }
    if (resource.Type === 'AWS::KMS::Key') {
      for (const immutable of ['KeySpec', 'KeyUsage', 'Origin', 'MultiRegion']) {
        if (JSON.stringify(props[immutable]) !== JSON.stringify(old[immutable])) {
          throw new DeploymentFailed(logicalId, `You cannot change the ${immutable} property of an existing KMS key`);
        }
      }
      if (JSON.stringify(props.KeyPolicy) !== JSON.stringify(old.KeyPolicy)) {
        await this.cfnKms(this.region, this.account, new PutKeyPolicyCommand({ KeyId: state.physicalId, PolicyName: 'default', Policy: JSON.stringify(props.KeyPolicy) }));
      }
    }
    return state;
  }

  /** `creationRolledBack`: the resource's own creation is rolled back (RetainExceptOnCreate then deletes). */
  private async deleteResource(logicalId: string, resource: TemplateResource, props: Record<string, any>, creationRolledBack = false): Promise<void> {
    this.setStatus(logicalId, resource.Type, 'DELETE_IN_PROGRESS');
    try {
      await this.deleteNow(logicalId, resource, props, creationRolledBack);
    } finally {
      this.setStatus(logicalId, resource.Type, undefined);
    }
  }

  private async deleteNow(logicalId: string, resource: TemplateResource, props: Record<string, any>, creationRolledBack: boolean): Promise<void> {
    const state = this.resources[logicalId];
    if (isCustom(resource.Type)) {
      await this.invokeCustom(logicalId, 'Delete', props, undefined, state?.physicalId);
      return;
    }
    if (!state || resource.DeletionPolicy === 'Retain' || (resource.DeletionPolicy === 'RetainExceptOnCreate' && !creationRolledBack)) return;
    if (resource.Type === 'AWS::SecretsManager::ResourcePolicy') {
      await this.cloud.secretsClient(this.region, this.account).send(new DeleteResourcePolicyCommand({ SecretId: state.physicalId }));
    }
    if (resource.Type === 'AWS::KMS::Key' || resource.Type === 'AWS::KMS::ReplicaKey') {
      await this.cfnKms(this.region, this.account, new ScheduleKeyDeletionCommand({ KeyId: state.physicalId, PendingWindowInDays: Number(props.PendingWindowInDays ?? 30) }));
    }
  }

  /**
   * Plays EventBridge: invokes the target of every scheduled rule of the stack once, all at the
   * same moment (a burst), with the rule's input, as the schedules would if they fell together.
   * Returns the invocations, in the order of the rules in the template.
   */
  public async fireSchedules(): Promise<Invocation[]> {
    return (await Promise.all(this.scheduledRules().map((logicalId) => this.fireRule(logicalId)))).flat();
  }

  /**
   * Plays EventBridge over time: moves the emulator clock forward by `ms`, and on the way invokes
   * each scheduled rule's targets at every moment its schedule names, in time order, with the
   * clock set to that moment. `rate(...)` counts from the rule's creation; `cron(...)` supports a
   * fixed or `*` minute and hour with `*` or `?` in the other fields (what ExternalKey's renewal
   * rules use). Returns the invocations with the clock time each was made at.
   */
  public async advanceSchedules(ms: number): Promise<Array<Invocation & { readonly logicalId: string; readonly at: Date }>> {
    const clock = this.cloud.kms.clock;
    const from = clock.now().getTime();
    const to = from + ms;
    const due = this.scheduledRules()
      .flatMap((logicalId) => fireTimes(this.current!.template.Resources[logicalId].Properties!.ScheduleExpression, this.ruleCreatedAt[logicalId] ?? from, from, to).map((at) => ({ logicalId, at })))
      .sort((a, b) => a.at - b.at);
    const fired: Array<Invocation & { logicalId: string; at: Date }> = [];
    for (const { logicalId, at } of due) {
      clock.set(new Date(at));
      for (const invocation of await this.fireRule(logicalId)) fired.push({ ...invocation, logicalId, at: new Date(at) });
    }
    if (clock.now().getTime() < to) clock.set(new Date(to));
    return fired;
  }

  /** Emulator-clock creation time of each AWS::Events::Rule: `rate(...)` schedules count from it. */
  private readonly ruleCreatedAt: Record<string, number> = {};

  private scheduledRules(): string[] {
    return Object.entries(this.current!.template.Resources)
      .filter(([, rule]) => rule.Type === 'AWS::Events::Rule' && rule.Properties?.ScheduleExpression)
      .map(([logicalId]) => logicalId);
  }

  private async fireRule(logicalId: string): Promise<Invocation[]> {
    const rule = this.current!.template.Resources[logicalId];
    const fired: Invocation[] = [];
    for (const target of rule.Properties!.Targets ?? []) {
      const arn = resolve(target.Arn, this.resolveContext());
      const input = target.Input !== undefined ? JSON.parse(resolve(target.Input, this.resolveContext())) : {};
      const invocation = await this.invokeFunction(arn, input, logicalId);
      this.scheduleInvocations.push({ ...invocation, logicalId, event: input, answers: [] });
      fired.push(invocation);
    }
    return fired;
  }

  /**
   * Sends a custom resource event again, as CloudFormation does when it retries, with a fresh
   * ResponseURL; returns what the handler answered.
   */
  public async replay(invocation: HandlerInvocation): Promise<CustomResourceResponse[]> {
    const responseUrl = this.cloud.responses.newUrl();
    const event: Record<string, any> = { ...invocation.event, ResponseURL: responseUrl, RequestId: randomUUID() };
    // CloudFormation retries while the resource is still in progress.
    const before = this.statuses[invocation.logicalId];
    this.setStatus(invocation.logicalId, event.ResourceType, `${String(event.RequestType).toUpperCase()}_IN_PROGRESS`);
    const again = await this.invokeFunction(event.ServiceToken, event, invocation.logicalId)
      .finally(() => this.setStatus(invocation.logicalId, event.ResourceType, before?.status));
    const answers = this.cloud.responses.answersFor(responseUrl);
    this.invocations.push({ ...again, logicalId: invocation.logicalId, event, answers });
    return answers;
  }

  /**
   * Invokes a function of the stack with any event, as a principal allowed lambda:InvokeFunction
   * could, with no CloudFormation behind it (for tests of forged events). Returns the invocation
   * and what arrived at the event's ResponseURL, if it is one of `cloud.responses`.
   */
  public async invoke(functionArn: string, event: Record<string, any>): Promise<Invocation & { answers: CustomResourceResponse[] }> {
    const invocation = await this.invokeFunction(functionArn, event, 'direct invocation');
    return { ...invocation, answers: typeof event.ResponseURL === 'string' ? this.cloud.responses.answersFor(event.ResponseURL) : [] };
  }

  /** The invocations made by fireSchedules. */
  public readonly scheduleInvocations: HandlerInvocation[] = [];

  private iamView(): IamView {
    const { template, account, region } = this.current!;
    return { template, resources: this.resources, props: this.resolvedProps, stackName: this.stackName, account, partition: partitionFor(region) };
  }

  private functionFor(arn: string, forWhat: string): { handlerFile: string; timeoutMs: number; environment: Record<string, string>; roleArn?: string } {
    const { template, assemblyDir } = this.current!;
    const fnLogicalId = Object.keys(this.resources).find((id) => this.resources[id].attributes.Arn === arn);
    const fn = fnLogicalId ? template.Resources[fnLogicalId] : undefined;
    const assetPath = fn ? assetPathOf(fn, this.current!) : undefined;
    if (!fn || fn.Type !== 'AWS::Lambda::Function' || !assetPath) {
      throw new DeploymentFailed(forWhat, `${arn} is not a Lambda function with a local asset in this stack`);
    }
    return {
      handlerFile: path.join(assemblyDir, assetPath, `${String(fn.Properties!.Handler).split('.')[0]}.js`),
      timeoutMs: this.options.lambdaTimeoutMs ?? Number(fn.Properties!.Timeout ?? 3) * 1000,
      // The function's own environment variables, as Lambda sets them.
      environment: stringifyScalars(resolve(fn.Properties!.Environment?.Variables ?? {}, this.resolveContext())),
      roleArn: this.resolvedProps[fnLogicalId!]?.Role,
    };
  }

  private invokeFunction(arn: string, event: unknown, forWhat: string): Promise<Invocation> {
    const { handlerFile, timeoutMs, environment, roleArn } = this.functionFor(arn, forWhat);
    // The function acts as its execution role, with the identity policies deployed so far.
    syncIdentityPolicies(this.cloud.principals, this.iamView());
    const role = roleArn ? this.cloud.principals.credentialsFor(roleArn) : undefined;
    const credentials: Record<string, string> = role ? { AWS_ACCESS_KEY_ID: role.accessKeyId, AWS_SECRET_ACCESS_KEY: role.secretAccessKey } : {};
    const env = { ...environment, ...this.cloud.lambdaEnvironment(this.region, this.account), ...credentials, ...(this.options.lambdaEnv ?? {}) };
    // The function runs at the emulator's time, which tests may move.
    const clockOffsetMs = this.cloud.kms.clock.now().getTime() - Date.now();
    return invokeHandler(handlerFile, event, { env, timeoutMs, clockOffsetMs });
  }

  private async invokeCustom(logicalId: string, requestType: 'Create' | 'Update' | 'Delete', props: Record<string, any>, oldProps?: Record<string, any>, physicalId?: string): Promise<ResourceState> {
    const { template } = this.current!;
    const responseUrl = this.cloud.responses.newUrl();
    const event: Record<string, any> = {
      RequestType: requestType,
      ServiceToken: props.ServiceToken,
      ResponseURL: responseUrl,
      StackId: this.stackId,
      RequestId: randomUUID(),
      LogicalResourceId: logicalId,
      ResourceType: template.Resources[logicalId]?.Type,
      ResourceProperties: props,
      ...(oldProps ? { OldResourceProperties: oldProps } : {}),
      ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    };
    const invocation = await this.invokeFunction(props.ServiceToken, event, logicalId);
    const answers = this.cloud.responses.answersFor(responseUrl);
    this.invocations.push({ ...invocation, logicalId, event, answers });
    const answer = answers[0];
    if (!answer) {
      throw new DeploymentFailed(logicalId, `the handler did not answer the ResponseURL (exit code ${invocation.exitCode}${invocation.timedOut ? ', timed out' : ''}); CloudFormation would wait for the custom resource timeout`);
    }
    if (answer.Status !== 'SUCCESS') throw new DeploymentFailed(logicalId, answer.Reason ?? '(no reason)');
    return { physicalId: answer.PhysicalResourceId, attributes: { ...(answer.Data ?? {}) } };
  }
}

function readArtifact(assemblyDir: string, stackName: string, cloud: LocalCloud, environment?: DeployOptions['environment']): StackArtifact {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const artifact = manifest.artifacts?.[stackName];
  if (!artifact || artifact.type !== 'aws:cloudformation:stack') {
    throw new Error(`no stack ${stackName} in ${assemblyDir}; stacks: ${Object.keys(manifest.artifacts ?? {}).filter((k) => manifest.artifacts[k].type === 'aws:cloudformation:stack').join(', ')}`);
  }
  const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'));
  const env = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
  const known = (v?: string) => (v && !v.startsWith('unknown-') ? v : undefined);
  return { template, assemblyDir, account: known(env[1]) ?? environment?.account ?? cloud.accountId, region: known(env[2]) ?? environment?.region ?? cloud.defaultRegion };
}

/**
 * Where a function's code is in the cloud assembly: the asset manifest maps the S3 key's hash to
 * its `asset.<hash>` directory (the `aws:asset:path` metadata exists only when the CLI asks).
 */
function assetPathOf(fn: TemplateResource, artifact: StackArtifact): string | undefined {
  if (fn.Metadata?.['aws:asset:path']) return fn.Metadata['aws:asset:path'];
  const s3Key = fn.Properties?.Code?.S3Key;
  if (typeof s3Key !== 'string') return undefined;
  const hash = s3Key.replace(/\.zip$/, '');
  for (const file of fs.readdirSync(artifact.assemblyDir).filter((f) => f.endsWith('.assets.json'))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(artifact.assemblyDir, file), 'utf8'));
    const source = manifest.files?.[hash]?.source;
    if (source?.path) return source.path;
  }
  return undefined;
}

function isCustom(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

function partitionFor(region: string): string {
  return partitionOf(region) ?? 'aws';
}

/** A resource the harness does not model (IAM, logs, ...): it exists, with made-up attributes. */
function placeholder(logicalId: string, type: string, region: string, account: string): ResourceState {
  const service = type.split('::')[1]?.toLowerCase() ?? 'local';
  const physicalId = `${logicalId}-local`;
  const attributes = new Proxy({} as Record<string, string>, {
    has: () => true,
    get: (_t, attr) => (attr === 'Arn' ? `arn:${partitionFor(region)}:${service}:${region}:${account}:${physicalId}` : `${physicalId}-${String(attr)}`),
  });
  return { physicalId, attributes };
}

const MINUTE_MS = 60_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, minutes: MINUTE_MS, hour: 60 * MINUTE_MS, hours: 60 * MINUTE_MS, day: 1440 * MINUTE_MS, days: 1440 * MINUTE_MS };

/**
 * The moments in (from, to] an EventBridge schedule expression names (UTC), for the forms
 * `rate(N unit)` and `cron(M H * * ? *)` with M, H a number or `*`
 * (docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
 */
function fireTimes(expression: string, createdAt: number, from: number, to: number): number[] {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const period = Number(rate[1]) * RATE_UNITS[rate[2]];
    const first = createdAt + Math.max(1, Math.floor((from - createdAt) / period) + 1) * period;
    const times: number[] = [];
    for (let t = first; t <= to; t += period) if (t > from) times.push(t);
    return times;
  }
  const cron = /^cron\((\d+|\*) (\d+|\*) \* \* \? \*\)$/.exec(expression);
  if (!cron) throw new Error(`the harness cannot play the schedule '${expression}'`);
  const [minute, hour] = [cron[1], cron[2]];
  const times: number[] = [];
  const step = minute === '*' ? MINUTE_MS : 60 * MINUTE_MS;
  for (let t = Math.floor(from / step) * step + (minute === '*' ? 0 : Number(minute) * MINUTE_MS); t <= to; t += step) {
    if (t > from && (hour === '*' || new Date(t).getUTCHours() === Number(hour))) times.push(t);
  }
  return times;
}

/** Runs `work` on every item, at most `limit` at a time; settles all. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]).then(() => ({ status: 'fulfilled', value: undefined }) as const, (reason) => ({ status: 'rejected', reason }) as const);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return results;
}

/** CloudFormation hands custom resources every scalar as a string. */
function stringifyScalars(value: any): any {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value === undefined) return undefined;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stringifyScalars(v);
    return out;
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}
