// Values in the AWS plan that only exist once an engine has created something: an endpoint, an
// ARN, a generated password. The plan names them (`Ref`: an element's lab-unique id and one of
// its attributes); each engine records what it created under that id (PlanElements) and resolves
// refs to its own references (a Terraform token, a Pulumi Output). Plain data: no engine here.
import type { Source } from './aws-plan-ingress.js';
import { renderTemplate, shellQuote, templateLiteral, type TemplateOptions } from './cloud-init.js';

/** What a ref can ask of a created element. */
export type Attribute =
  | 'value'
  | 'parameter-arn'
  | 'parameter-name'
  | 'id'
  | 'arn'
  | 'address'
  | 'endpoint'
  | 'bootstrap'
  | 'name'
  | 'ca'
  | 'security-group'
  | 'url'
  | 'public-ip'
  | 'fqdn';

/** An attribute of a planned element, known once the engine has created it. */
export interface Ref {
  /** The element's `uid`. */
  readonly ref: string;
  readonly attribute: Attribute;
}

export type PlanString = string | Ref;

/** An output's value: literals, refs, and lists, records and concatenations of them. */
export type PlanValue =
  | PlanString
  | number
  | { readonly join: readonly PlanString[] }
  | { readonly list: readonly PlanValue[] }
  | { readonly record: Readonly<Record<string, PlanValue>> };

export function ref(uid: string, attribute: Attribute): Ref {
  return { ref: uid, attribute };
}

/** What one engine created for each planned element, by uid: the values refs resolve to. */
export class PlanElements<T> {
  private readonly created = new Map<string, Partial<Record<Attribute, T>>>();

  add(uid: string, attributes: Partial<Record<Attribute, T>>): void {
    if (this.created.has(uid)) throw new Error(`plan element '${uid}' was created twice`);
    this.created.set(uid, attributes);
  }

  /** The engine's value of a ref; a ref to nothing created is an engine bug, not bad input. */
  get(r: Ref): T {
    const value = this.created.get(r.ref)?.[r.attribute];
    if (value === undefined) throw new Error(`the engine created no ${r.attribute} for plan element '${r.ref}'`);
    return value;
  }

  string(s: PlanString): string | T {
    return typeof s === 'string' ? s : this.get(s);
  }

  /** An ingress source with the engine's security group id. */
  source(s: Source<Ref>): Source<T> {
    return 'cidr' in s ? s : { securityGroupId: this.get(s.securityGroupId) };
  }

  /** `value` with every ref resolved; `join` concatenates (a string for cdktf, an Output for Pulumi). */
  render(value: PlanValue, join: (parts: (string | T)[]) => unknown): unknown {
    if (typeof value === 'string' || typeof value === 'number') return value;
    if ('ref' in value) return this.get(value);
    if ('join' in value) return join(value.join.map((part) => this.string(part)));
    if ('list' in value) return value.list.map((v) => this.render(v, join));
    return Object.fromEntries(Object.entries(value.record).map(([k, v]) => [k, this.render(v, join)]));
  }
}

/** One `NAME=value` line of a VM's environment file. */
export interface EnvVar {
  readonly name: string;
  readonly value: PlanString;
}

/** A placeholder's value: quoted for the shell once resolved, a template file as it is, or environment lines. */
export type TemplateValue = { readonly quoted: PlanString } | { readonly file: string } | { readonly env: readonly EnvVar[] };

/** A VM's cloud-init user data: a file of templates/cloud-init/ and its placeholders. */
export interface UserDataPlan {
  readonly template: string;
  readonly values: Readonly<Record<string, TemplateValue>>;
}

/** The refs a user data needs resolved, in a fixed order (Pulumi waits for all of them at once). */
export function userDataRefs(u: UserDataPlan): Ref[] {
  const strings = Object.values(u.values).flatMap((v) => ('quoted' in v ? [v.quoted] : 'env' in v ? v.env.map((e) => e.value) : []));
  return strings.filter((s): s is Ref => typeof s !== 'string');
}

/** The user data text, refs resolved by `resolve` (Terraform tokens for cdktf, resolved strings for Pulumi). */
export function renderUserData(u: UserDataPlan, resolve: (r: Ref) => string, options: TemplateOptions = {}): string {
  const text = (s: PlanString) => (typeof s === 'string' ? s : resolve(s));
  const values = Object.fromEntries(
    Object.entries(u.values).map(([key, v]) => {
      if ('quoted' in v) return [key, shellQuote(text(v.quoted))];
      if ('file' in v) return [key, templateLiteral(v.file, options)];
      const lines = v.env.map((e) => `${e.name}=${text(e.value)}`);
      lines.push('# Passwords are not written here: `labforge secrets` prints them.');
      return [key, lines.join('\n')];
    }),
  );
  return renderTemplate(u.template, values, options);
}
