/**
 * The ExecCredential object a kubectl exec credential plugin prints on stdout
 * (client.authentication.k8s.io/v1; KEP-541). kubectl caches the token until
 * `expirationTimestamp` (RFC 3339) and runs the plugin again after that.
 */

export interface ExecCredential {
  apiVersion: 'client.authentication.k8s.io/v1';
  kind: 'ExecCredential';
  spec: { interactive: boolean };
  status: { token: string; expirationTimestamp: string };
}

export function execCredential(token: string, expiresAt: Date): ExecCredential {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec: { interactive: false },
    status: { token, expirationTimestamp: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}
