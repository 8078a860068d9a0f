/**
 * Just enough of CloudFormation's template language to play a synthesized CDK template locally:
 * intrinsic functions, pseudo parameters and the dependency order of resources.
 */

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, any>;
}

/** What is known about a resource once it exists. */
export interface ResourceState {
  physicalId: string;
  attributes: Record<string, string>;
}

export interface ResolveContext {
  readonly pseudo: Record<string, string>;
  readonly parameters: Record<string, string>;
  readonly resources: Record<string, ResourceState>;
}

export class TemplateError extends Error {}

/** Resolves every intrinsic in `value`. */
export function resolve(value: any, ctx: ResolveContext): any {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = value[fn];
    switch (fn) {
      case 'Ref': return ref(arg, ctx);
      case 'Fn::GetAtt': {
        const [logicalId, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        const state = ctx.resources[logicalId];
        if (!state) throw new TemplateError(`Fn::GetAtt: resource ${logicalId} does not exist (yet)`);
        if (!(attr in state.attributes)) throw new TemplateError(`Fn::GetAtt: ${logicalId} has no attribute ${attr}`);
        return state.attributes[attr];
      }
      case 'Fn::Join': {
        const [sep, parts] = arg;
        return resolve(parts, ctx).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        return resolve(list, ctx)[Number(resolve(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, str] = arg;
        return String(resolve(str, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [str, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const resolvedVars = resolve(vars, ctx);
        return String(str).replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
          if (name in resolvedVars) return resolvedVars[name];
          if (name.includes('.')) return resolve({ 'Fn::GetAtt': name.split(/\.(.+)/).slice(0, 2) }, ctx);
          return ref(name, ctx);
        });
      }
      case 'Fn::ImportValue':
        throw new TemplateError('Fn::ImportValue is not supported by the local harness: deploy the stacks in one template or pass the value as a parameter');
      default:
        break;
    }
  }
  const out: Record<string, any> = {};
  for (const k of keys) out[k] = resolve(value[k], ctx);
  return out;
}

function ref(name: string, ctx: ResolveContext): string {
  if (name in ctx.pseudo) return ctx.pseudo[name];
  if (name in ctx.parameters) return ctx.parameters[name];
  const state = ctx.resources[name];
  if (!state) throw new TemplateError(`Ref: ${name} is not a parameter or an existing resource`);
  return state.physicalId;
}

/** The logical ids a value refers to. */
export function references(value: any, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => references(v, into));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(v);
      else if (k === 'Fn::GetAtt') into.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (k === 'Fn::Sub') {
        const str = Array.isArray(v) ? v[0] : v;
        for (const m of String(str).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) if (!m[1].startsWith('AWS::')) into.add(m[1]);
        if (Array.isArray(v)) references(v[1], into);
      } else references(v, into);
    }
  }
  return into;
}

function dependencies(template: Template): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const d = references(r.Properties ?? {});
    for (const x of [r.DependsOn ?? []].flat()) d.add(x);
    deps.set(id, new Set([...d].filter((x) => x in template.Resources)));
  }
  return deps;
}

/**
 * Resources in waves, as CloudFormation creates them: every resource of a wave depends only on
 * resources of earlier waves, so a wave's resources can be created in parallel.
 */
export function creationWaves(template: Template): string[][] {
  const order = creationOrder(template);
  const deps = dependencies(template);
  const level = new Map<string, number>();
  for (const id of order) level.set(id, Math.max(-1, ...[...deps.get(id)!].map((d) => level.get(d)!)) + 1);
  const waves: string[][] = [];
  for (const id of order) (waves[level.get(id)!] ??= []).push(id);
  return waves;
}

/** Resources in an order where each comes after everything it depends on. */
export function creationOrder(template: Template): string[] {
  const ids = Object.keys(template.Resources);
  const deps = dependencies(template);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new TemplateError(`circular dependency at ${id}`);
    state.set(id, 'visiting');
    for (const d of deps.get(id)!) visit(d);
    state.set(id, 'done');
    order.push(id);
  };
  ids.forEach(visit);
  return order;
}
