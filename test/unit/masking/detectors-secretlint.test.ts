/**
 * secretlint's recommended preset as an oracle for the value detectors (issue #5: "prefer a
 * maintained rule set … over writing patterns by hand where it fits").
 *
 * secretlint's rules are asynchronous whole-file lint rules; the masker must run over every line
 * and string of a stream at hundreds of MB/s, so Sluice keeps its own engine and catalogue
 * (src/masking/detectors) and uses the preset here instead: over a corpus of fake credentials in
 * every format the preset recognises, in the places they turn up (env files, JSON, YAML, .npmrc,
 * package.json, PEM files, log lines with URLs), whatever secretlint reports must be masked by
 * `createDetectors()`, the defaults. The preset's rules and message ids are enumerated from the
 * package, so a new rule in a later version fails this test until a detector covers it.
 *
 * What secretlint reports and what the masker masks differ by design in places (secretOf below):
 * the masker masks the secret, not its surroundings. Out of scope, each with its reason:
 * - AWSAccountID (aws, with enableIDScanRule): an account id names an account and authenticates
 *   nothing (AWS Account Management docs, "View AWS account identifiers": account IDs "are not
 *   considered secret, sensitive, or confidential information").
 * - AWSAccessKeyID for the unique-id prefixes of principals and policies (AIDA user, AROA role,
 *   AGPA group, AIPA instance profile, ANPA/ANVA managed policy and its version: AWS IAM User
 *   Guide, "Unique ID prefixes"): identifiers, no credentials. Access key ids (AKIA/ASIA) count.
 * - PrivateKeyP12 (gcp): a binary PKCS#12 file read from disk; the masker sees text, and a key
 *   file's bytes in a Kubernetes Secret are masked by the structural pass, not by value.
 * - secretlint-rule-filter-comments: `secretlint-disable` comments hide findings from secretlint.
 *   The masker honours no in-band directive (whoever writes the output could switch masking off);
 *   the last test shows it.
 *
 * Every value below is fake and assembled at run time, so no secret scanner flags this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extname } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended, rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { createDetectors, type DetectorSetWithDetectors } from '../../../src/masking/detectors/index.ts';

type Finding = Awaited<ReturnType<typeof lintSource>>['messages'][number];

const j = (...parts: string[]): string => parts.join('');
const OPENAI_MARK = Buffer.from('OpenAI').toString('base64');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * A 1Password service account token: `ops_` + base64 of its JSON. secretlint wants the base64 to
 * end in `fQ` (the closing brace on its own), so the salt is padded to a length that does that.
 */
function onePasswordToken(): string {
  for (let pad = 0; ; pad++) {
    const json = JSON.stringify({
      email: 'fakefakefake@1passwordserviceaccounts.example',
      muk: { alg: 'A256GCM', ext: true, k: 'FakeMasterUnlockKeyForTestsOnly000000000000', key_ops: ['encrypt', 'decrypt'], kty: 'oct', kid: 'mp' },
      secretKey: 'A3-FAKE00-FAKE00-FAKE0-FAKE0-FAKE0-FAKE0',
      srpX: '0'.repeat(64),
      signInAddress: 'fake.1password.example',
      userAuth: { method: 'SRPg-4096', alg: 'PBES2g-HS256', iterations: 650000, salt: 'FakeSaltForTests' + 'x'.repeat(pad) },
    });
    const enc = b64(json);
    if (enc.endsWith('fQ==')) return j('op', 's_', enc);
  }
}

const FAKE = {
  awsKeyId: j('AKIA', 'FAKEFAKEFAKE0000'),
  awsTempKeyId: j('ASIA', 'FAKEFAKEFAKE0001'),
  awsUserId: j('AIDA', 'FAKEFAKEFAKE0002'),
  awsSecret: j('fakeSecretAccessKey/', 'ForTestsOnly+000000'.padEnd(20, '0')),
  awsSecret2: j('FAKEsecretACCESSkey0', '/forTESTSonly+111111'),
  ghp: j('gh', 'p_', 'FakePersonalTokenForTests'.padEnd(36, '0')),
  ghp2: j('gh', 'p_', 'FakePackagesTokenForTests'.padEnd(36, '1')),
  gho: j('gh', 'o_', 'FakeOAuthTokenForTests'.padEnd(36, '0')),
  ghu: j('gh', 'u_', 'FakeUserToServerToken'.padEnd(36, '0')),
  ghs: j('gh', 's_', 'FakeServerToServerToken'.padEnd(36, '0')),
  ghr: j('gh', 'r_', 'FakeRefreshTokenForTests'.padEnd(36, '0')),
  githubPat: j('github', '_pat_', 'FakeFineGrained000000', '0_', 'FakeFineGrainedTokenForTestsOnly'.padEnd(59, '0')),
  npm: j('np', 'm_', 'FakeNpmTokenForTestsOnly'.padEnd(36, '0')),
  npmrcUuid: '00000000-fake-4000-8000-000000000000',
  oauth40: 'f00dfeed'.repeat(5),
  slackBot: j('xo', 'xb-', '1234567890-1234567890123-FakeBotTokenForTests0'),
  slackUser: j('xo', 'xp-', '1234567890-1234567890-1234567890123-', '0123456789abcdef'.repeat(2)),
  slackApp: j('xa', 'pp-', '1-A0123456789-1234567890123-', 'fake'.repeat(16)),
  slackRefresh: j('xo', 'xr-', '1234567890-FakeRefreshTokenForTests'),
  slackWebhookPath: j('T00000000/B00000000/', 'FakeWebhookSecretForTest'),
  sendgrid: j('SG', '.', 'FakeKeyIdForTests00000', '.', 'FakeSecretForTestsOnly'.padEnd(43, '0')),
  shpat: j('shp', 'at_', '0123456789abcdef'.repeat(2)),
  shpca: j('shp', 'ca_', '1123456789abcdef'.repeat(2)),
  shppa: j('shp', 'pa_', '2123456789abcdef'.repeat(2)),
  shpss: j('shp', 'ss_', '3123456789abcdef'.repeat(2)),
  openaiProject: j('sk-', 'proj-', 'FakeProjectKeyForTestsOnly'.padEnd(74, '0'), OPENAI_MARK, 'FakeProjectKeyForTestsOnly'.padEnd(74, '1')),
  openaiService: j('sk-', 'svcacct-', 'FakeServiceAccountKey'.padEnd(58, '0'), OPENAI_MARK, 'FakeServiceAccountKey'.padEnd(58, '1')),
  openaiAdmin: j('sk-', 'admin-', 'FakeAdminKeyForTests'.padEnd(58, '0'), OPENAI_MARK, 'FakeAdminKeyForTests'.padEnd(58, '1')),
  openaiLegacy: j('sk-', 'FakeLegacyKeyForTest', OPENAI_MARK, 'FakeLegacyKeyForTest'),
  linear: j('lin', '_api_', 'FakeLinearKeyForTestsOnly'.padEnd(40, '0')),
  onePassword: onePasswordToken(),
};

const PEM_BODY = ['MIIEvFAKEKEYFORTESTSONLYnotarealkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAK=='];
const pem = (label: string, body = PEM_BODY): string[] => [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`];

/** The corpus: files as secretlint would lint them (the path picks the npm and gcp rules' checks). */
const CORPUS: { file: string; content: string }[] = [
  {
    file: 'deploy/.env',
    content: [
      '# fake credentials for the secretlint oracle',
      `AWS_ACCESS_KEY_ID=${FAKE.awsKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${FAKE.awsSecret}`,
      'AWS_ACCOUNT_ID=123456789012',
      `GITHUB_TOKEN=${FAKE.ghp}`,
      `NPM_TOKEN=${FAKE.npm}`,
      `SLACK_BOT_TOKEN=${FAKE.slackBot}`,
      `SLACK_APP_TOKEN=${FAKE.slackApp}`,
      `SENDGRID_API_KEY=${FAKE.sendgrid}`,
      `SHOPIFY_ACCESS_TOKEN=${FAKE.shpat}`,
      `OPENAI_API_KEY=${FAKE.openaiProject}`,
      `LINEAR_API_KEY=${FAKE.linear}`,
      `OP_SERVICE_ACCOUNT_TOKEN=${FAKE.onePassword}`,
      'SERVICE_URL=https://deploy:FakeDeployPass1@api.example.com/v1',
      '',
    ].join('\n'),
  },
  {
    file: 'config/app.json',
    content: JSON.stringify(
      {
        aws: { AccessKeyId: FAKE.awsTempKeyId, SecretAccessKey: FAKE.awsSecret2, UserId: FAKE.awsUserId },
        github: { app: FAKE.ghs, oauth: FAKE.gho, userToServer: FAKE.ghu, refresh: FAKE.ghr, fineGrained: FAKE.githubPat },
        openai: { serviceAccount: FAKE.openaiService, admin: FAKE.openaiAdmin, legacy: FAKE.openaiLegacy },
        shopify: { apiSecret: FAKE.shpss, customApp: FAKE.shpca },
        slack: { webhook: `https://hooks.slack.com/services/${FAKE.slackWebhookPath}`, user: FAKE.slackUser },
        proxy: 'http://proxyuser:FakeProxyPass2@proxy.example.com:3128',
        signingKey: pem('RSA PRIVATE KEY').join('\n'), // a PEM in a JSON string: escaped line breaks
      },
      null,
      2,
    ),
  },
  {
    file: 'k8s/configmap.yaml',
    content: [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: app',
      'data:',
      `  aws_secret_access_key: ${FAKE.awsSecret}`,
      `  slack_refresh: ${FAKE.slackRefresh}`,
      '  backup: ftp://backup:FakeFtpPass3@files.example.org/dump',
      '  mirror: ftps://mirror:FakeFtpsPass4@mirror.example.org/pub',
      `  shopify_legacy: "${FAKE.shppa}"`,
      '  tls.key: |',
      ...pem('EC PRIVATE KEY').map((l) => `    ${l}`),
      '',
    ].join('\n'),
  },
  {
    file: 'home/.npmrc',
    content: [
      'registry=https://registry.npmjs.org/',
      `//registry.npmjs.org/:_authToken=${FAKE.npmrcUuid}`,
      '@org:registry=https://npm.pkg.github.com/',
      `//npm.pkg.github.com/:_authToken=${FAKE.ghp2}`,
      'always-auth=true',
      '',
    ].join('\n'),
  },
  {
    file: 'app/package.json',
    content: JSON.stringify(
      { name: 'fake-app', private: true, dependencies: { 'private-lib': `git+https://${FAKE.oauth40}:x-oauth-basic@github.com/org/private-lib.git` } },
      null,
      2,
    ),
  },
  {
    file: 'keys/service-account.json',
    content: JSON.stringify(
      {
        type: 'service_account',
        project_id: 'fake-project',
        private_key_id: 'f'.repeat(40),
        private_key: pem('PRIVATE KEY').join('\n') + '\n',
        client_email: 'fake@fake-project.iam.gserviceaccount.com',
        client_id: '000000000000000000000',
      },
      null,
      2,
    ),
  },
  {
    file: 'keys/all.pem',
    content: [
      ...pem('OPENSSH PRIVATE KEY'),
      ...pem('RSA PRIVATE KEY', ['Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-128-CBC,00000000000000000000000000000000', '', ...PEM_BODY]),
      ...pem('DSA PRIVATE KEY'),
      ...pem('PRIVATE KEY'),
      ...pem('ENCRYPTED PRIVATE KEY'),
      ...pem('PGP PRIVATE KEY BLOCK', ['Version: Fake 1.0', '', ...PEM_BODY, '=FAKE']),
      '',
    ].join('\n'),
  },
  {
    file: 'logs/app.log',
    content: [
      '2024-05-01T12:00:00Z INFO fetching https://svc-user:FakeSvcPass5@internal.example.com/api/v1/items',
      `2024-05-01T12:00:01Z INFO notifying https://hooks.slack.com/services/${FAKE.slackWebhookPath}`,
      `2024-05-01T12:00:02Z DEBUG token refreshed: ${FAKE.ghu}`,
      `2024-05-01T12:00:03Z DEBUG config {"openai_key":"${FAKE.openaiLegacy}","sendgrid":"${FAKE.sendgrid}"}`,
      '',
    ].join('\n'),
  },
];

/** Unique-id prefixes that name an IAM principal or policy; no credential (see the header). */
const AWS_ID_PREFIXES = ['AIDA', 'AROA', 'AGPA', 'AIPA', 'ANPA', 'ANVA'];
/** Message ids out of scope by design (see the header). */
const OUT_OF_SCOPE = new Set(['AWSAccountID', 'PrivateKeyP12', 'IGNORE_MESSAGE']);

async function lint(file: string, content: string): Promise<Finding[]> {
  const result = await lintSource({
    source: { content, filePath: `/fake/${file}`, ext: extname(file), contentType: 'text' },
    options: {
      noPhysicFilePath: true,
      config: {
        rules: [
          {
            id: recommended.meta.id,
            rule: recommended,
            // The ID scan finds access key ids too (AKIA…), which the masker masks as well.
            rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
          },
        ],
      },
    },
  });
  return result.messages;
}

/**
 * The range of `content` holding the secret of a finding, which the masker must cover; null when
 * the finding is out of scope. Mostly the range secretlint reports; where it reports more than
 * the secret (or, upstream, a shifted range), the secret itself.
 */
function secretOf(f: Finding, content: string): readonly [number, number] | null {
  const text = content.slice(f.range[0], f.range[1]);
  const data = (f.data ?? {}) as Record<string, string | undefined>;
  switch (f.messageId) {
    case 'AWSAccountID':
      return null;
    case 'AWSAccessKeyID':
      return AWS_ID_PREFIXES.includes(text.slice(0, 4)) ? null : f.range;
    case 'AWSSecretAccessKey':
    case 'Npmrc_authToken':
    case 'PackageJSON_xOauthToken': {
      // secretlint 10.2.2 reports [start of the whole match, + length of the captured value]
      // (`aws_secret_access_key = wJal…` gets the name and half the key); the value itself is in
      // the finding's data, and starts inside that range's reach.
      const value = data.KEY ?? data.TOKEN;
      assert.ok(value, `${f.messageId}: the finding carries its value`);
      const at = content.indexOf(value, f.range[0]);
      assert.ok(at >= 0, `${f.messageId}: its value is in the text`);
      return [at, at + value.length];
    }
    case 'BasicAuth': {
      // The whole `scheme://user:password@host.tld`; the masker masks the password: the user
      // and the host are no secrets, and an operator needs to see where a request went. With
      // GitHub's fixed password `x-oauth-basic`, the user is the secret (an OAuth token).
      const m = /^[a-z]+:\/\/([^:@/]*):([^@]*)@/di.exec(text);
      assert.ok(m?.indices?.[1] && m.indices[2], `BasicAuth: a URL with a password: ${text}`);
      const [a, b] = m[2]!.toLowerCase() === 'x-oauth-basic' ? m.indices[1] : m.indices[2];
      return [f.range[0] + a, f.range[0] + b];
    }
    case 'IncomingWebhook': {
      // The whole URL; the secret is its path (T…/B…/token), which the masker masks.
      const at = text.indexOf('/services/') + '/services/'.length;
      return [f.range[0] + at, f.range[1]];
    }
    case 'PrivateKeyJSON': {
      // The whole service-account key file; its secret is the value of `private_key`.
      const m = /"private_key"\s*:\s*"((?:[^"\\]|\\.)*)"/d.exec(content);
      assert.ok(m?.indices?.[1], 'PrivateKeyJSON: a private_key value');
      return m.indices[1];
    }
    default:
      return f.range;
  }
}

/** The ranges mask() replaces: every detector's scan(), merged as mask() merges them. */
function maskedRanges(d: DetectorSetWithDetectors, s: string): [number, number][] {
  const found = d.detectors.flatMap((det) => det.scan(s)).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: [number, number][] = [];
  for (const f of found) {
    const last = out[out.length - 1];
    if (last !== undefined && f.start < last[1]) last[1] = Math.max(last[1], f.end);
    else out.push([f.start, f.end]);
  }
  // the same as what mask() did, marker for marker
  let rebuilt = '';
  let at = 0;
  for (const [a, b] of out) {
    rebuilt += s.slice(at, a) + '\u0000';
    at = b;
  }
  rebuilt += s.slice(at);
  assert.equal(d.mask(s).text.replace(/\[MASKED:[A-Za-z0-9_.:-]+\]/g, '\u0000'), rebuilt);
  return out;
}

test('the masker masks everything that secretlint’s recommended preset finds', async () => {
  const d = createDetectors();
  const reported = new Set<string>();
  let findings = 0;
  let checked = 0;
  for (const { file, content } of CORPUS) {
    const messages = await lint(file, content);
    assert.ok(messages.length > 0, `secretlint finds something in ${file}`);
    const masked = maskedRanges(d, content);
    const maskedText = d.mask(content).text;
    for (const f of messages) {
      findings++;
      reported.add(f.messageId);
      const secret = secretOf(f, content);
      if (secret === null) continue;
      checked++;
      const [a, b] = secret;
      const what = `${file}: ${f.ruleId} ${f.messageId} ${JSON.stringify(content.slice(a, b))}`;
      assert.ok(b > a, what);
      assert.ok(
        masked.some(([s, e]) => s <= a && b <= e),
        `${what} is not masked; masked: ${JSON.stringify(masked.map(([s, e]) => content.slice(s, e)))}`,
      );
      assert.ok(!maskedText.includes(content.slice(a, b)), what);
    }
  }
  // The oracle really ran: many findings, and every kind of finding the preset can make was made
  // (the message ids come from the package, so a rule added upstream shows up here).
  assert.ok(findings >= 40, `secretlint reported ${findings} findings`);
  assert.ok(checked >= 35, `${checked} findings checked`);
  const kinds = presetRules.flatMap((r) => Object.keys(r.messages)).filter((id) => !OUT_OF_SCOPE.has(id));
  assert.ok(kinds.length >= 15, kinds.join(' '));
  const missing = kinds.filter((id) => !reported.has(id));
  assert.deepEqual(missing, [], 'the corpus has a case for every kind of finding of the preset');
});

test('a secretlint-disable comment hides a finding from secretlint, not from the masker', async () => {
  const content = [`GITHUB_TOKEN=${FAKE.ghp} # secretlint-disable-line`, `SENDGRID_API_KEY=${FAKE.sendgrid}`, ''].join('\n');
  const messages = await lint('deploy/.env', content);
  assert.deepEqual(
    messages.map((m) => m.messageId),
    ['SENDGRID_KEY'],
  );
  const r = createDetectors().mask(content);
  assert.deepEqual(r.hits, { 'github-token': 1, 'sendgrid-api-key': 1 });
});
