/**
 * Development certificate authority: makes a self-signed CA and leaf certificates signed by it,
 * for loopback listeners (the demo world, tests, `sluice server` with `tls.mode: dev`).
 * Production deployments configure their own certificates instead.
 *
 * Keys are ECDSA P-256 (RFC 5480), which Go's crypto/tls (kubectl) and Node accept.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface PemPair {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface DevCa extends PemPair {
  /** Issue a leaf certificate for a server (and client) with the given DNS names and IPs. */
  issue(opts: { commonName: string; dnsNames?: string[]; ips?: string[]; client?: boolean; days?: number }): Promise<PemPair>;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function serial(): string {
  // Positive 16-byte serial number (RFC 5280 §4.1.2.2).
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** Create a fresh CA valid for `days` (default 365). */
export async function createDevCa(opts: { commonName?: string; days?: number } = {}): Promise<DevCa> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = new Date(Date.now() - 60_000);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? 'Sluice development CA'}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + (opts.days ?? 365) * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const caKeyDer = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);

  return {
    cert: caCert.toString('pem') + '\n',
    key: toPem(caKeyDer, 'PRIVATE KEY'),
    async issue({ commonName, dnsNames = [], ips = [], client = false, days = 365 }) {
      const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
      const start = new Date(Date.now() - 60_000);
      const names: x509.JsonGeneralName[] = [
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ];
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(
          client ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth],
        ),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ];
      if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${commonName}`,
        issuer: caCert.subject,
        notBefore: start,
        notAfter: new Date(start.getTime() + days * 86_400_000),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: alg,
        extensions,
      });
      const keyDer = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
      return { cert: leaf.toString('pem') + '\n', key: toPem(keyDer, 'PRIVATE KEY') };
    },
  };
}

/** Convenience: a CA plus one loopback server certificate (localhost, 127.0.0.1, ::1). */
export async function createLoopbackTls(commonName = 'localhost'): Promise<{ ca: DevCa; server: PemPair }> {
  const ca = await createDevCa();
  const server = await ca.issue({ commonName, dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'] });
  return { ca, server };
}
