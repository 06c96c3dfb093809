// Reading kube contexts as kubectl does: merged files (first wins), relative paths, tokens,
// inline certificates, exec credential plugins, and clear errors for what is missing.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeTarget } from '../../constructs/k8s/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const first = file(
  'first.yaml',
  `apiVersion: v1
kind: Config
current-context: kind-lab
clusters:
- name: kind-lab
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority: ca.crt}
- name: shared
  cluster: {server: "https://first.example:443"}
users:
- name: kind-user
  user: {client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')}}
- name: token-user
  user: {tokenFile: token.txt}
- name: plugin-user
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${join(dir, 'plugin.sh')}, args: [get-token], env: [{name: LAB_SUFFIX, value: "-from-env"}]}
contexts:
- name: kind-lab
  context: {cluster: kind-lab, user: kind-user}
- name: tokened
  context: {cluster: shared, user: token-user}
- name: plugged
  context: {cluster: shared, user: plugin-user}
`,
);
const second = file(
  'second.yaml',
  `clusters:
- name: shared
  cluster: {server: "https://second.example:443"}
contexts:
- name: only-in-second
  context: {cluster: shared, user: nobody}
current-context: only-in-second
`,
);
file('ca.crt', 'CA-PEM');
file('token.txt', 'tok-123\n');
const plugin = file(
  'plugin.sh',
  '#!/bin/sh\necho "{\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"exec-$1$LAB_SUFFIX\\"}}"\n',
);
chmodSync(plugin, 0o755);
const env = { KUBECONFIG: [first, second].join(delimiter) };

describe('kubeTarget', () => {
  it('takes the current context of the first file that sets one, with its client certificate and a CA path relative to the file', async () => {
    const t = await kubeTarget(undefined, env);
    expect(t).toMatchObject({ context: 'kind-lab', server: 'https://127.0.0.1:6443', insecure: false });
    expect(t.ca?.toString()).toBe('CA-PEM');
    expect(t.cert?.toString()).toBe('CERT');
    expect(t.key?.toString()).toBe('KEY');
    expect(t.token).toBeUndefined();
  });

  it('merges files first-wins: a cluster named in both keeps the first file entry', async () => {
    const t = await kubeTarget('only-in-second', env);
    expect(t.server).toBe('https://first.example:443');
  });

  it('reads a token file relative to its kubeconfig', async () => {
    expect((await kubeTarget('tokened', env)).token).toBe('tok-123');
  });

  it('runs an exec credential plugin with its args and env and takes the token it prints', async () => {
    expect((await kubeTarget('plugged', env)).token).toBe('exec-get-token-from-env');
  });

  it('names the valid contexts when the one asked for does not exist', async () => {
    await expect(kubeTarget('prod', env)).rejects.toThrow(
      /^unknown kube context 'prod' \(valid: kind-lab, tokened, plugged, only-in-second\)$/,
    );
  });

  it('says how to get a cluster when no kubeconfig exists', async () => {
    await expect(kubeTarget(undefined, { KUBECONFIG: join(dir, 'missing.yaml') })).rejects.toThrow(
      /no kube context is set in .*missing\.yaml/,
    );
  });
});
