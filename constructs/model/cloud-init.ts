// Renders the files in templates/cloud-init/ into EC2 user data. Placeholders are `{{name}}`.
// For Terraform (cdktf) values may be references (tokens) that cdktf turns into interpolations,
// so the literal text is escaped; Pulumi fills in resolved values and needs no escaping.
import { readFileSync } from 'node:fs';
import { templatePath } from '../model/paths.js';

const cache = new Map<string, string>();

function read(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(templatePath('cloud-init', name), 'utf8');
    cache.set(name, text);
  }
  return text;
}

export interface TemplateOptions {
  /** Escape Terraform template syntax in the literal text. @default true */
  readonly terraform?: boolean;
}

function literal(name: string, options: TemplateOptions): string {
  return (options.terraform ?? true) ? escapeTerraform(read(name)) : read(name);
}

/**
 * Terraform reads `${` and `%{` in any string as template syntax: the literal template text is
 * escaped first, then values (which may be cdktf tokens meant to interpolate) are inserted.
 */
export function renderTemplate(name: string, values: Readonly<Record<string, string>>, options: TemplateOptions = {}): string {
  return literal(name, options).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`templates/cloud-init/${name}: no value for {{${key}}}`);
    return value;
  });
}

/** A literal text made safe to place in a Terraform string. */
export function escapeTerraform(text: string): string {
  // Replacer functions: in a replacement string `$$` would itself mean one `$`.
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** A template file as a literal, escaped value (used to embed one file into another). */
export function templateLiteral(name: string, options: TemplateOptions = {}): string {
  return literal(name, options);
}

/** Shell single-quoted literal: the only character to handle is the quote itself. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}
