import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetectors, luhnValid, maskMarker, regexBounds, type DetectorSetWithDetectors } from '../../../src/masking/detectors/index.ts';
import { isSluiceError } from '../../../src/core/errors.ts';

// Every credential below is fake: documented examples (AWS's AKIAIOSFODNN7EXAMPLE, Slack's
// T00000000/B00000000/XXXX… webhook, the card networks' test numbers) or made-up values
// assembled at run time, so that no secret scanner mistakes this file for a leak.
const j = (...parts: string[]): string => parts.join('');
const OPENAI_MARK = Buffer.from('OpenAI').toString('base64');
const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

const FAKE = {
  jwt: `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ sub: 'fake-user', aud: 'tests' })}.${Buffer.from('fake-signature').toString('base64url')}`,
  jwe: `${b64u({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${'QUFB'.repeat(20)}.ZmFrZWl2.${'Y2lwaGVy'.repeat(4)}.ZmFrZXRhZw`,
  awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsTempKeyId: j('ASIA', 'EXAMPLEFAKE12345'),
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  gcpApiKey: j('AIza', 'FakeKeyForTestsOnly'.padEnd(35, '0')),
  azureKey: Buffer.from('fake-azure-storage-key-for-tests'.padEnd(64, '!')).toString('base64'),
  azureSasKey: Buffer.from('fake-service-bus-key-for-tests!!').toString('base64'),
  ghp: j('gh', 'p_', 'FakeTokenForTestsOnly'.padEnd(36, '0')),
  ghs: j('gh', 's_', 'FakeServerTokenForTests'.padEnd(36, '1')),
  githubPat: j('github', '_pat_', 'FakeFineGrained000000', '0_', 'FakeFineGrainedTokenForTestsOnly'.padEnd(59, '0')),
  glpat: j('gl', 'pat-', 'FakeTokenForTests000'),
  gldt: j('gl', 'dt-', 'FakeDeployTokenForTests'),
  slackBot: j('xo', 'xb-', '0000000000-0000000000-FakeTokenForTests00000'),
  slackApp: j('xa', 'pp-', '1-A0000000000-0000000000000-fakefakefake'),
  slackWebhookPath: 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  npm: j('np', 'm_', 'FakeTokenForTestsOnly'.padEnd(36, '0')),
  stripe: j('sk', '_test_', 'FakeKeyForTestsOnly00000'),
  stripeRestricted: j('rk', '_live_', 'FakeRestrictedKeyForTests'),
  vault: j('hv', 's.', 'FakeVaultTokenForTestsOnly00'),
  vaultBatch: j('hv', 'b.', 'FakeBatchTokenForTestsOnly00'),
  // OPENAI_MARK is base64 of "OpenAI", the marker every OpenAI key carries
  openaiProject: j('sk-', 'proj-', 'FakeProjectKeyForTestsOnly'.padEnd(74, '0'), OPENAI_MARK, 'FakeProjectKeyForTestsOnly'.padEnd(74, '1')),
  openaiLegacy: j('sk-', 'FakeLegacyKeyForTest', OPENAI_MARK, 'FakeLegacyKeyForTest'),
  openaiService: j('sk-', 'svcacct-', 'FakeServiceAccountKey'.padEnd(58, '0'), OPENAI_MARK, 'FakeServiceAccountKey'.padEnd(58, '1')),
  sendgrid: j('SG', '.', 'FakeKeyIdForTests00000', '.', 'FakeSecretForTestsOnly'.padEnd(43, '0')),
  shopifyAccess: j('shp', 'at_', '0123456789abcdef'.repeat(2)),
  shopifySecret: j('shp', 'ss_', 'fedcba9876543210'.repeat(2)),
  linear: j('lin', '_api_', 'FakeLinearKeyForTestsOnly'.padEnd(40, '0')),
  onePassword: j('op', 's_', Buffer.from(JSON.stringify({ signInAddress: 'fake.1password.example', email: 'fake@example.com', secretKey: 'A3-FAKE' })).toString('base64')),
  npmrcLegacy: '00000000-fake-4000-8000-000000000000', // a pre-2021 npm token is a UUID
  npmrcAuth: Buffer.from('fake-user:fake-password').toString('base64'),
  oauthBasic: 'f'.repeat(8) + '0'.repeat(32), // a classic 40-hex OAuth token
};

const PEM_BODY = ['MIIEvFAKEKEYFORTESTSONLYnotarealkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAK=='];
const pem = (label: string, body = PEM_BODY, nl = '\n'): string => [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`].join(nl);
const PROC_TYPE = ['Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-128-CBC,00000000000000000000000000000000', '', ...PEM_BODY];

/** A detector's true positives: each text contains `secret`, which is all that must be masked. */
interface Positive {
  text: string;
  secret: string;
}
interface Case {
  detector: string;
  positives: Positive[];
  /**
   * Near misses: nothing in them is masked by the default set (e-mail and phone off), and the
   * detector itself finds nothing in them with every detector on.
   */
  negatives: string[];
}

const serviceAccountJson = JSON.stringify({
  type: 'service_account',
  project_id: 'fake-project',
  private_key_id: 'f'.repeat(40),
  private_key: pem('PRIVATE KEY') + '\n',
  client_id: '000000000000000000000',
});

const CASES: Case[] = [
  {
    detector: 'jwt',
    positives: [
      { text: `token=${FAKE.jwt}&state=1`, secret: FAKE.jwt },
      { text: `{"id_token":"${FAKE.jwt}"}`, secret: FAKE.jwt },
      { text: `jwe ${FAKE.jwe} end`, secret: FAKE.jwe },
    ],
    negatives: [
      'eyJhdXRocyI6eyJyZWdpc3RyeSI6e319fQ==', // base64 of a JSON object (a dockerconfigjson), no dots
      'mail eyJane.doe.example about it', // eyJ, dots, but no JOSE header
      'heyJoe.and.friends',
      `${b64u({ alg: 'HS256' })} alone`, // a header without payload and signature
    ],
  },
  {
    detector: 'bearer-token',
    positives: [
      { text: 'Authorization: Bearer fake0TOKEN0for0tests0only', secret: 'fake0TOKEN0for0tests0only' },
      { text: 'curl -H "authorization: bearer sha256~FakeOpenShiftTokenForTests" https://x', secret: 'sha256~FakeOpenShiftTokenForTests' },
      { text: 'BEARER FAKE_TOKEN_FOR_TESTS_0001', secret: 'FAKE_TOKEN_FOR_TESTS_0001' },
    ],
    negatives: [
      'Bearer token', // the word, no token
      'Authorization: Bearer <token>',
      'WWW-Authenticate: Bearer realm="example", error="invalid_token"',
      'the bearer authentication-scheme-for-apis', // prose: lower-case letters and dashes only
      'Bearer ${TOKEN}',
    ],
  },
  {
    detector: 'aws-access-key-id',
    positives: [
      { text: `aws_access_key_id = ${FAKE.awsKeyId}`, secret: FAKE.awsKeyId },
      { text: `{"AccessKeyId":"${FAKE.awsTempKeyId}"}`, secret: FAKE.awsTempKeyId },
    ],
    negatives: [
      'commit 9fceb02d0ae598e95dc970b74767f19372d61af8', // a git SHA is not a key
      `${FAKE.awsKeyId}XYZ`, // too long
      'AKIATOOSHORT',
      'arn:aws:iam::123456789012:user/AIDAJQABLZS4A3QDU576', // a user id, not a credential
    ],
  },
  {
    detector: 'aws-secret-access-key',
    positives: [
      { text: `aws_secret_access_key = ${FAKE.awsSecret}`, secret: FAKE.awsSecret },
      { text: `export AWS_SECRET_ACCESS_KEY=${FAKE.awsSecret}`, secret: FAKE.awsSecret },
      { text: `{"Credentials":{"SecretAccessKey":"${FAKE.awsSecret}"}}`, secret: FAKE.awsSecret },
      { text: `{"name":"AWS_SECRET_ACCESS_KEY","value":"${FAKE.awsSecret}"}`, secret: FAKE.awsSecret },
      { text: `- name: AWS_SECRET_ACCESS_KEY\n  value: ${FAKE.awsSecret}\n`, secret: FAKE.awsSecret },
    ],
    negatives: [
      `token: ${FAKE.awsSecret}`, // 40 base64 characters without an AWS name
      'aws_secret_access_key = ${AWS_SECRET}',
      `AWS_SECRET_ACCESS_KEY=${FAKE.awsSecret}x`, // 41 characters
      'commit 9fceb02d0ae598e95dc970b74767f19372d61af8',
    ],
  },
  {
    detector: 'gcp-service-account-key',
    positives: [
      { text: serviceAccountJson, secret: JSON.stringify(pem('PRIVATE KEY') + '\n').slice(1, -1) },
      { text: `{"private_key": ${JSON.stringify(pem('PRIVATE KEY'))}}`, secret: JSON.stringify(pem('PRIVATE KEY')).slice(1, -1) },
    ],
    negatives: [
      `{"private_key_id": "${'f'.repeat(40)}"}`,
      '{"private_key": ""}',
      '{"private_key": "-----BEGIN PUBLIC KEY-----\\nMIIBfake\\n-----END PUBLIC KEY-----"}',
    ],
  },
  {
    detector: 'gcp-api-key',
    positives: [
      { text: `GOOGLE_API_KEY=${FAKE.gcpApiKey}`, secret: FAKE.gcpApiKey },
      { text: `https://maps.googleapis.com/maps/api/js?key=${FAKE.gcpApiKey}&callback=x`, secret: FAKE.gcpApiKey },
    ],
    negatives: ['AIzaTooShortKey', `x${FAKE.gcpApiKey}`, `${FAKE.gcpApiKey}0`],
  },
  {
    detector: 'azure-connection-string',
    positives: [
      {
        text: `DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=${FAKE.azureKey};EndpointSuffix=core.windows.net`,
        secret: FAKE.azureKey,
      },
      {
        text: `Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${FAKE.azureSasKey}`,
        secret: FAKE.azureSasKey,
      },
    ],
    negatives: ['UseDevelopmentStorage=true', 'AccountName=fake;AccountKey=short;', 'AccountKey=${STORAGE_KEY}'],
  },
  {
    detector: 'azure-storage-key',
    positives: [
      { text: `azurestorageaccountkey: ${FAKE.azureKey}`, secret: FAKE.azureKey },
      { text: `export AZURE_STORAGE_KEY="${FAKE.azureKey}"`, secret: FAKE.azureKey },
      { text: `{"storageAccountKey": "${FAKE.azureKey}"}`, secret: FAKE.azureKey },
    ],
    negatives: [
      `"integrity": "sha512-${FAKE.azureKey}"`, // 88 base64 characters, but a package hash
      'azurestorageaccountname: fakeaccount',
      'storageKey: notAKey==',
    ],
  },
  {
    detector: 'github-token',
    positives: [
      { text: `GITHUB_TOKEN=${FAKE.ghp}`, secret: FAKE.ghp },
      { text: `git clone https://x-access-token:${FAKE.ghs}@github.com/o/r`, secret: FAKE.ghs },
      { text: `token ${FAKE.githubPat}`, secret: FAKE.githubPat },
    ],
    negatives: ['ghp_short', 'branch gh_pages', j('github', '_pat_', 'tooShort'), `x${FAKE.ghp}`],
  },
  {
    detector: 'gitlab-token',
    positives: [
      { text: `PRIVATE-TOKEN: ${FAKE.glpat}`, secret: FAKE.glpat },
      { text: `deploy token ${FAKE.gldt} ok`, secret: FAKE.gldt },
      { text: `routable ${FAKE.glpat}.01.0abcdef1 ok`, secret: `${FAKE.glpat}.01.0abcdef1` },
    ],
    negatives: ['glpat-short', 'the glpat- prefix', 'myglpat-FakeTokenForTests000'],
  },
  {
    detector: 'slack-token',
    positives: [
      { text: `SLACK_BOT_TOKEN=${FAKE.slackBot}`, secret: FAKE.slackBot },
      { text: `"app_token": "${FAKE.slackApp}"`, secret: FAKE.slackApp },
    ],
    negatives: ['xoxb-your-token-here', 'xoxo-gossip-girl-season-1', 'xoxb-'],
  },
  {
    detector: 'slack-webhook-url',
    positives: [
      { text: `url: https://hooks.slack.com/services/${FAKE.slackWebhookPath}`, secret: FAKE.slackWebhookPath },
      {
        text: '{"webhook":"https://hooks.slack.com/workflows/T00000000/A00000000/000000000000000000/FakeFake"}',
        secret: 'T00000000/A00000000/000000000000000000/FakeFake',
      },
    ],
    negatives: ['https://hooks.slack.com/', 'see https://api.slack.com/messaging/webhooks', 'https://hooks.slack.com/services/'],
  },
  {
    detector: 'private-key-block',
    positives: [
      { text: `key:\n${pem('RSA PRIVATE KEY')}\nafter`, secret: pem('RSA PRIVATE KEY') },
      { text: pem('OPENSSH PRIVATE KEY'), secret: pem('OPENSSH PRIVATE KEY') },
      { text: `"${pem('EC PRIVATE KEY', PEM_BODY, '\\n')}"`, secret: pem('EC PRIVATE KEY', PEM_BODY, '\\n') },
      { text: pem('RSA PRIVATE KEY', PROC_TYPE), secret: pem('RSA PRIVATE KEY', PROC_TYPE) },
      { text: `k=${pem('ENCRYPTED PRIVATE KEY')}`, secret: pem('ENCRYPTED PRIVATE KEY') },
      { text: `cut: -----BEGIN PRIVATE KEY-----\n${PEM_BODY[0]}`, secret: `-----BEGIN PRIVATE KEY-----\n${PEM_BODY[0]}` },
      { text: `tpm: ${pem('TSS2 PRIVATE KEY')}`, secret: pem('TSS2 PRIVATE KEY') },
      { text: pem('PGP PRIVATE KEY BLOCK'), secret: pem('PGP PRIVATE KEY BLOCK') },
    ],
    negatives: [pem('CERTIFICATE'), pem('PUBLIC KEY'), 'BEGIN PRIVATE KEY without the dashes', '-----BEGIN OPENSSH PUBLIC KEY-----'],
  },
  {
    detector: 'connection-string-password',
    positives: [
      { text: 'DATABASE_URL=postgres://app:fake-pass@db.example.com:5432/app', secret: 'fake-pass' },
      { text: 'mongodb+srv://admin:p@ss@cluster0.example.net/db', secret: 'p@ss' },
      { text: 'redis://:fakepass@redis:6379/0', secret: 'fakepass' },
      { text: 'amqp://guest:fake.guest@rabbit/vhost', secret: 'fake.guest' },
      { text: 'Server=db;Database=app;User Id=sa;Password=FakePass123;', secret: 'FakePass123' },
      { text: 'Driver={ODBC};Server=db;Uid=sa;Pwd=FakePass123;', secret: 'FakePass123' },
      { text: 'host=db user=app password=fake-pass dbname=app', secret: 'fake-pass' },
      { text: 'jdbc:mysql://db/app?user=app&password=FakePass1', secret: 'FakePass1' },
      { text: 'DB_PASSWORD="fake pass"', secret: 'fake pass' },
    ],
    negatives: [
      'postgres://db.example.com:5432/app',
      'ssh://git@github.com/org/repo', // a user, no password
      'https://[::1]:8443/healthz',
      'postgres://user:${DB_PASSWORD}@db/app', // a placeholder
      'password=<password>',
      'PWD=/home/user OLDPWD=/tmp', // the shell's working directory
      'passwordless login enabled',
    ],
  },
  {
    detector: 'credit-card',
    positives: [
      { text: 'card 4111 1111 1111 1111 exp 12/26', secret: '4111 1111 1111 1111' },
      { text: '{"pan":"5555555555554444"}', secret: '5555555555554444' },
      { text: 'amex 3782-822463-10005.', secret: '3782-822463-10005' },
      { text: 'csv,4111111111111111,42', secret: '4111111111111111' },
    ],
    negatives: [
      'Order 1234567890123456 shipped', // 16 digits, no card network starts with 1
      'order 4111111111111112', // a card prefix but fails Luhn
      '{"ts":1714564800123}', // a millisecond timestamp
      'uid 123e4567-e89b-12d3-a456-426614174000',
      'pi 0.4111111111111111', // a decimal fraction
      'call +4111111111111111',
      '41111111111111111111111', // inside a longer number
    ],
  },
  {
    detector: 'npm-token',
    positives: [
      { text: `//registry.npmjs.org/:_authToken=${FAKE.npm}`, secret: FAKE.npm },
      { text: `NPM_TOKEN=${FAKE.npm}`, secret: FAKE.npm },
    ],
    negatives: ['npm_config_cache=/tmp/.npm', 'npm_short', `${FAKE.npm}0`],
  },
  {
    detector: 'stripe-key',
    positives: [
      { text: `STRIPE_SECRET_KEY=${FAKE.stripe}`, secret: FAKE.stripe },
      { text: `key ${FAKE.stripeRestricted}`, secret: FAKE.stripeRestricted },
    ],
    negatives: [j('pk', '_live_', 'PublishableKeysArePublic00'), j('sk', '_live_', 'short'), 'desk_test_results'],
  },
  {
    detector: 'vault-token',
    positives: [
      { text: `VAULT_TOKEN=${FAKE.vault}`, secret: FAKE.vault },
      { text: `X-Vault-Token: ${FAKE.vaultBatch}`, secret: FAKE.vaultBatch },
    ],
    negatives: ['hvs.short', `a${FAKE.vault}`, j('hv', 'x.', 'FakeVaultTokenForTestsOnly00')],
  },
  {
    detector: 'anthropic-api-key',
    positives: [
      { text: `ANTHROPIC_API_KEY=${j('sk-', 'ant-api03-', 'FakeKeyForTestsOnly_-'.padEnd(93, '0'), 'AA')}`, secret: j('sk-', 'ant-api03-', 'FakeKeyForTestsOnly_-'.padEnd(93, '0'), 'AA') },
      { text: `{"x-api-key": "${j('sk-', 'ant-admin01-', 'FakeAdminKeyForTests'.padEnd(93, '1'), 'AA')}"}`, secret: j('sk-', 'ant-admin01-', 'FakeAdminKeyForTests'.padEnd(93, '1'), 'AA') },
    ],
    negatives: [j('sk-', 'ant-api03-', 'short'), j('task-', 'ant-api03-', 'FakeKeyForTestsOnly'.padEnd(60, '0')), 'sk-antelope-is-an-animal-not-a-key-at-all-really'],
  },
  {
    detector: 'openai-api-key',
    positives: [
      { text: `OPENAI_API_KEY=${FAKE.openaiProject}`, secret: FAKE.openaiProject },
      { text: `{"api_key": "${FAKE.openaiLegacy}"}`, secret: FAKE.openaiLegacy },
      { text: `Authorization: Bearer ${FAKE.openaiService}`, secret: FAKE.openaiService },
    ],
    negatives: [
      j('sk-', 'FakeKeyWithoutTheOpenAiMarker'.padEnd(48, '0')), // `sk-` alone is too common
      j('task-', 'FakeLegacyKeyForTest', OPENAI_MARK, 'FakeLegacyKeyForTest'), // inside a word
      j('sk-', 'short', OPENAI_MARK, 'short'),
    ],
  },
  {
    detector: 'sendgrid-api-key',
    positives: [
      { text: `SENDGRID_API_KEY=${FAKE.sendgrid}`, secret: FAKE.sendgrid },
      { text: `{"apiKey":"${FAKE.sendgrid}"}`, secret: FAKE.sendgrid },
    ],
    negatives: ['SG.short.key', `M${FAKE.sendgrid}`, j('SG', '.', 'FakeKeyIdForTests00000', '.', 'tooShort'), 'SG.example.com'],
  },
  {
    detector: 'shopify-token',
    positives: [
      { text: `X-Shopify-Access-Token: ${FAKE.shopifyAccess}`, secret: FAKE.shopifyAccess },
      { text: `"client_secret": "${FAKE.shopifySecret}"`, secret: FAKE.shopifySecret },
    ],
    negatives: ['shpat_short', j('shp', 'xx_', '0123456789abcdef'.repeat(2)), `my${FAKE.shopifyAccess}`],
  },
  {
    detector: 'linear-api-key',
    positives: [
      { text: `LINEAR_API_KEY=${FAKE.linear}`, secret: FAKE.linear },
      { text: `Authorization: ${FAKE.linear}`, secret: FAKE.linear },
    ],
    negatives: ['lin_api_short', `ber${FAKE.linear}`, 'LINEAR_API_KEY=${LINEAR_API_KEY}'],
  },
  {
    detector: '1password-service-account-token',
    positives: [
      { text: `export OP_SERVICE_ACCOUNT_TOKEN=${FAKE.onePassword}`, secret: FAKE.onePassword },
      { text: `{"name":"OP_SERVICE_ACCOUNT_TOKEN","value":"${FAKE.onePassword}"}`, secret: FAKE.onePassword },
    ],
    negatives: ['ops_eyJshort', `dev${FAKE.onePassword}`, 'ops_team_channel', j('op', 's_', 'notBase64Json'.repeat(10))],
  },
  {
    detector: 'npmrc-auth-token',
    positives: [
      { text: `//registry.npmjs.org/:_authToken=${FAKE.npmrcLegacy}`, secret: FAKE.npmrcLegacy },
      { text: `//npm.example.com/repository/npm/:_auth = "${FAKE.npmrcAuth}"`, secret: FAKE.npmrcAuth },
      {
        // .npmrc text in a ConfigMap, as JSON: the escaped line break ends the token
        text: JSON.stringify({ data: { '.npmrc': `//nexus.example.com/repository/npm/:_authToken=NpmToken.${FAKE.npmrcLegacy}\nalways-auth=true\n` } }),
        secret: `NpmToken.${FAKE.npmrcLegacy}`,
      },
    ],
    negatives: [
      '//registry.npmjs.org/:_authToken=${NPM_TOKEN}', // the placeholder npm docs recommend
      '_authToken=<token>',
      'basic_auth=true', // a word ending in _auth
      'always-auth=true',
    ],
  },
  {
    detector: 'x-oauth-basic-token',
    positives: [
      { text: `git clone https://${FAKE.oauthBasic}:x-oauth-basic@github.com/org/repo.git`, secret: FAKE.oauthBasic },
      { text: `"lib": "git+https://${FAKE.oauthBasic}:X-OAuth-Basic@github.example.com/org/lib.git"`, secret: FAKE.oauthBasic },
    ],
    negatives: ['https://github.com/org/repo.git', 'git@github.com:org/repo.git', 'password x-oauth-basic@github.com'],
  },
  {
    detector: 'email',
    positives: [
      { text: 'contact alice@example.com today', secret: 'alice@example.com' },
      { text: '<a href="mailto:bob.smith+tag@mail.example.co.uk">', secret: 'bob.smith+tag@mail.example.co.uk' },
    ],
    negatives: [
      'image nginx@sha256:0123abcd', // a digest
      'user@localhost', // no domain
      'handle @example.com',
      'postgres://u:p@db.example.com/app', // the URL's password is the secret, not an address
    ],
  },
  {
    detector: 'phone',
    positives: [
      { text: 'call +1 (415) 555-2671 now', secret: '+1 (415) 555-2671' },
      { text: 'tel:+442079460958', secret: '+442079460958' },
      { text: 'office +44 20 7946 0958.', secret: '+44 20 7946 0958' },
    ],
    negatives: ['offset +05:30', 'sum 1+1234567890', 'short +123', 'version v1.2+20240501', 'code +1234567'],
  },
];

const ALL = createDetectors({ pii: { email: true, phone: true } });
const DEFAULTS = createDetectors();
const detector = (name: string) => ALL.detectors.find((d) => d.name === name)!;

test('every built-in detector has true- and false-positive cases, and every case is a detector', () => {
  const withCases = new Set(CASES.map((c) => c.detector));
  assert.deepEqual([...ALL.names].sort(), [...withCases].sort());
  for (const c of CASES) {
    assert.ok(c.positives.length >= 2, `${c.detector}: two true positives`);
    assert.ok(c.negatives.length >= 2, `${c.detector}: two near misses`);
  }
});

for (const c of CASES) {
  test(`${c.detector}: masks exactly the secret and keeps the text around it`, () => {
    for (const { text, secret } of c.positives) {
      const at = text.indexOf(secret);
      assert.ok(at >= 0, 'the case is well-formed');
      const { text: out, hits } = ALL.mask(text);
      assert.equal(out, text.slice(0, at) + maskMarker(c.detector) + text.slice(at + secret.length), JSON.stringify(text));
      assert.deepEqual(hits, { [c.detector]: 1 });
      assert.equal(ALL.maybe(text), true, 'the prefilter lets it through');
      assert.ok(!out.includes(secret));
      const own = detector(c.detector).scan(text);
      assert.deepEqual(
        own.map((m) => [m.start, m.end]),
        [[at, at + secret.length]],
        `scan() of ${JSON.stringify(text)}`,
      );
    }
  });
  test(`${c.detector}: near misses are left alone`, () => {
    for (const text of c.negatives) {
      if (c.detector !== 'email' && c.detector !== 'phone') {
        const r = DEFAULTS.mask(text);
        assert.equal(r.text, text, `${JSON.stringify(text)} → ${JSON.stringify(r.text)}`);
        assert.deepEqual(r.hits, {});
      }
      assert.equal(ALL.mask(text).hits[c.detector], undefined, `${c.detector} in ${JSON.stringify(text)}`);
      assert.deepEqual(detector(c.detector).scan(text), []);
    }
  });
}

test('defaults: credentials and card numbers on, e-mail and phone numbers off', () => {
  const d = createDetectors();
  assert.ok(d.names.includes('credit-card'));
  assert.ok(!d.names.includes('email') && !d.names.includes('phone'));
  const t = 'mail alice@example.com, call +1 415 555 2671, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE';
  assert.equal(d.mask(t).text, 'mail alice@example.com, call +1 415 555 2671, card [MASKED:credit-card], key [MASKED:aws-access-key-id]');
  // an e-mail address inside a URL stays too when e-mail is off
  const url = 'https://example.com/unsubscribe?to=alice@example.com';
  assert.equal(d.mask(url).text, url);
});

test('PII toggles turn e-mail and phone on and card numbers off', () => {
  const d = createDetectors({ pii: { email: true, phone: true, creditCard: false } });
  assert.equal(d.mask('alice@example.com, +1 415 555 2671, 4111 1111 1111 1111').text, '[MASKED:email], [MASKED:phone], 4111 1111 1111 1111');
  // more digit groups than E.164 allows: the number up to 15 digits is masked, not skipped
  assert.equal(d.mask('+1 415 555 2671 4111 1111 1111').text, '[MASKED:phone] 1111 1111');
  assert.ok(!d.names.includes('credit-card'));
});

test('several findings: each masked, counted per detector, never the secret in the counts', () => {
  const t = `a=${FAKE.awsKeyId} b=${FAKE.awsKeyId} jwt=${FAKE.jwt} url=postgres://u:fake-pass@db/app`;
  const r = createDetectors().mask(t);
  assert.equal(
    r.text,
    'a=[MASKED:aws-access-key-id] b=[MASKED:aws-access-key-id] jwt=[MASKED:jwt] url=postgres://u:[MASKED:connection-string-password]@db/app',
  );
  assert.deepEqual(r.hits, { 'aws-access-key-id': 2, jwt: 1, 'connection-string-password': 1 });
  assert.ok(!JSON.stringify(r.hits).includes('fake'));
});

test('an unchanged string comes back as the same instance; masking twice changes nothing', () => {
  const d = createDetectors({ pii: { email: true, phone: true } });
  const plain = ['GET /api/v1/namespaces/default/pods?limit=500 200 12ms'].join('');
  const r = d.mask(plain);
  assert.ok(Object.is(r.text, plain));
  assert.deepEqual(r.hits, {});
  for (const c of CASES) {
    for (const { text } of c.positives) {
      const once = d.mask(text).text;
      const twice = d.mask(once);
      assert.equal(twice.text, once, `idempotent on ${JSON.stringify(once)}`);
      assert.deepEqual(twice.hits, {});
    }
  }
});

test('overlapping findings: the more specific detector names it, the union is masked', () => {
  const d = createDetectors();
  // a JWT as a bearer token: both match the same range; jwt comes first in precedence
  assert.deepEqual(d.mask(`Authorization: Bearer ${FAKE.jwt}`), { text: 'Authorization: Bearer [MASKED:jwt]', hits: { jwt: 1 } });
  // a GitHub token as a bearer token
  assert.deepEqual(d.mask(`Authorization: Bearer ${FAKE.ghp}`).hits, { 'github-token': 1 });
  // a service-account key: the private key inside it is not counted twice
  assert.deepEqual(d.mask(serviceAccountJson).hits, { 'gcp-service-account-key': 1 });
});

// SECURITY.md, Masking: "Environment values, ConfigMap values and status messages carrying
// credentials (cloud keys, postgres://user:pass@host, bearer tokens, private keys) → masked by
// value detectors."
test('credentials in env values, ConfigMap values and status messages are masked', () => {
  const d = createDetectors();
  const configMapValue = [
    '[default]',
    `aws_access_key_id = ${FAKE.awsKeyId}`,
    `aws_secret_access_key = ${FAKE.awsSecret}`,
    'database: postgres://orders:fake-db-pass@db.prod.svc:5432/orders',
    pem('RSA PRIVATE KEY'),
  ].join('\n');
  const r = d.mask(configMapValue);
  for (const secret of [FAKE.awsKeyId, FAKE.awsSecret, 'fake-db-pass', PEM_BODY[0]!]) assert.ok(!r.text.includes(secret), secret);
  assert.deepEqual(r.hits, { 'aws-access-key-id': 1, 'aws-secret-access-key': 1, 'connection-string-password': 1, 'private-key-block': 1 });
  const status = `Back-off pulling image: failed to authorize: Get "https://registry.example.com/token": Authorization: Bearer ${FAKE.ghp}`;
  assert.ok(!d.mask(status).text.includes(FAKE.ghp));
  const envValue = FAKE.jwt; // a service-account token in an env value
  assert.equal(d.mask(envValue).text, '[MASKED:jwt]');
});

test('custom rules: named, masked as custom:<name>, flags used as given', () => {
  const d = createDetectors({
    custom: [
      { name: 'employee-id', pattern: 'EMP-\\d{6}' },
      { name: 'internal_token', pattern: 'itk_[a-z0-9]{8}', flags: 'i' },
    ],
  });
  assert.ok(d.names.includes('custom:employee-id') && d.names.includes('custom:internal_token'));
  assert.deepEqual(d.mask('by EMP-123456 and emp-654321 with ITK_ABCD1234'), {
    text: 'by [MASKED:custom:employee-id] and emp-654321 with [MASKED:custom:internal_token]',
    hits: { 'custom:employee-id': 1, 'custom:internal_token': 1 },
  });
  assert.equal(d.maybe('EMP-123456'), true);
  assert.equal(d.maybe('nothing here at all'), false);
  // m is not added unless given: ^ anchors at the start of the string only
  const anchored = createDetectors({ custom: [{ name: 'line-start', pattern: '^SECRET-\\d{2}' }] });
  assert.equal(anchored.mask('x\nSECRET-12').text, 'x\nSECRET-12');
  const multiline = createDetectors({ custom: [{ name: 'line-start', pattern: '^SECRET-\\d{2}', flags: 'm' }] });
  assert.equal(multiline.mask('x\nSECRET-12').text, 'x\n[MASKED:custom:line-start]');
  // an operator rule can be disabled by name like the built-ins
  assert.ok(!createDetectors({ custom: [{ name: 'a', pattern: 'abc' }], disable: ['custom:a'] }).names.includes('custom:a'));
});

test('custom rules that are broken are refused with an error naming the rule', () => {
  const refuses = (rule: { name: string; pattern: string; flags?: string }, why: RegExp): void => {
    assert.throws(
      () => createDetectors({ custom: [rule] }),
      (e: unknown) => isSluiceError(e) && e.code === 'CONFIG_INVALID' && e.message.includes(`"${rule.name}"`) && why.test(e.message),
      JSON.stringify(rule),
    );
  };
  refuses({ name: 'bad', pattern: '([a-z]+' }, /does not compile/);
  refuses({ name: 'empty-alt', pattern: 'abc|' }, /empty string/);
  refuses({ name: 'star', pattern: '\\d*' }, /empty string/);
  refuses({ name: 'lookahead-only', pattern: '(?=abc)' }, /empty string/);
  refuses({ name: 'anchors', pattern: '^$', flags: 'm' }, /empty string/);
  refuses({ name: 'redos', pattern: '(a+)+b' }, /nests unbounded quantifiers/);
  refuses({ name: 'redos2', pattern: '(?:\\w+\\s?)*!' }, /nests unbounded quantifiers/);
  refuses({ name: 'global', pattern: 'abc', flags: 'g' }, /flags/);
  refuses({ name: 'sticky', pattern: 'abc', flags: 'iy' }, /flags/);
  refuses({ name: 'twice', pattern: 'abc', flags: 'ii' }, /flags/);
  refuses({ name: 'has space', pattern: 'abc' }, /name/);
  refuses({ name: 'no]bracket', pattern: 'abc' }, /name/);
  refuses({ name: 'empty-pattern', pattern: '' }, /empty/);
  assert.throws(
    () =>
      createDetectors({
        custom: [
          { name: 'x', pattern: 'a' },
          { name: 'x', pattern: 'b' },
        ],
      }),
    (e: unknown) => isSluiceError(e) && e.code === 'CONFIG_INVALID' && /"x" is defined twice/.test(e.message),
  );
  // bounded inner quantifiers are fine
  assert.doesNotThrow(() => createDetectors({ custom: [{ name: 'domain', pattern: '(?:[a-z0-9]{1,63}\\.)+example\\.com' }] }));
});

test('disable turns detectors off by name; an unknown name is an error', () => {
  const d = createDetectors({ disable: ['jwt', 'credit-card'] });
  assert.ok(!d.names.includes('jwt') && !d.names.includes('credit-card'));
  assert.equal(d.mask(`t=${FAKE.jwt} 4111111111111111`).text, `t=${FAKE.jwt} 4111111111111111`);
  // disable wins over a PII toggle
  assert.ok(!createDetectors({ pii: { email: true }, disable: ['email'] }).names.includes('email'));
  assert.throws(
    () => createDetectors({ disable: ['jtw'] }),
    (e: unknown) => isSluiceError(e) && e.code === 'CONFIG_INVALID' && e.message.includes('"jtw"'),
  );
  // nothing on: nothing masked, maybe() always false
  const none = createDetectors({ disable: [...createDetectors().names] });
  assert.deepEqual(none.names, []);
  assert.equal(none.maybe(`x ${FAKE.awsKeyId}`), false);
  assert.equal(none.mask(`x ${FAKE.awsKeyId}`).text, `x ${FAKE.awsKeyId}`);
});

test('maxMatchLength: finite for the built-ins, a window that finds every match; Infinity with an unbounded rule', () => {
  const d = createDetectors({ pii: { email: true, phone: true } });
  assert.ok(Number.isFinite(d.maxMatchLength) && d.maxMatchLength >= 32 * 1024, String(d.maxMatchLength));
  assert.ok(d.maxMatchLength < 256 * 1024);
  // Every true positive, inside a long string, is found the same in the window of maxMatchLength
  // around it — what a line-based stream that keeps that much overlap sees of it.
  const filler = 'lorem ipsum dolor sit amet, 2024-05-01T12:00:00Z level=info path=/api/v1 '.repeat(4000);
  for (const c of CASES) {
    for (const { text } of c.positives) {
      if (text.includes('BEGIN') && !text.includes('END')) continue; // a cut key block runs on into what follows
      const s = filler + text + '\n' + filler;
      const at = filler.length;
      const expected = d.mask(text).text;
      assert.ok(d.mask(s).text.includes(expected), c.detector);
      const window = s.slice(Math.max(0, at + text.length - d.maxMatchLength), Math.min(s.length, at + d.maxMatchLength));
      assert.ok(d.mask(window).text.includes(expected), c.detector);
    }
  }
  // operator rules: bounded → their length counts; unbounded → Infinity (streams cut at line ends)
  assert.equal(createDetectors({ disable: [...d.names], custom: [{ name: 'b', pattern: 'x{1,300000}' }] }).maxMatchLength, 300000);
  assert.equal(createDetectors({ custom: [{ name: 'u', pattern: 'token=\\w+' }] }).maxMatchLength, Infinity);
});

/** The reference result: every detector's own scan() over the whole string, merged as mask() merges. */
function referenceMask(d: DetectorSetWithDetectors, s: string): string {
  const found = d.detectors.flatMap((det, k) => det.scan(s).map((m) => ({ ...m, k })));
  found.sort((a, b) => a.start - b.start || a.k - b.k || b.end - a.end);
  let out = '';
  let last = 0;
  let cur = null as { start: number; end: number; detector: string } | null;
  const flush = (): void => {
    if (cur === null) return;
    out += s.slice(last, cur.start) + maskMarker(cur.detector);
    last = cur.end;
  };
  for (const f of found) {
    if (cur !== null && f.start < cur.end) {
      cur = { ...cur, end: Math.max(cur.end, f.end) };
      continue;
    }
    flush();
    cur = f;
  }
  flush();
  return out + s.slice(last);
}

test('the prefilter and the windows miss nothing: mask() equals every detector scanning the whole string', () => {
  const d = createDetectors({ pii: { email: true, phone: true } });
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [
    ...CASES.flatMap((c) => [...c.positives.map((p) => p.text), ...c.negatives]),
    ...[' ', '\n', 'level=info ', '"', ':', '=', '@', '-----', 'Bearer ', 'password=', '://', '4111 ', '+1 ', 'eyJ', '_', '.', 'key'],
  ];
  for (let round = 0; round < 300; round++) {
    let s = '';
    const n = 1 + rnd(40);
    for (let k = 0; k < n; k++) s += pieces[rnd(pieces.length)];
    const got = d.mask(s).text;
    assert.equal(got, referenceMask(d, s), JSON.stringify(s));
    if (got !== s) assert.equal(d.maybe(s), true);
  }
  // one long string (detectors run in windows around triggers) with findings far apart
  const big = Array.from({ length: 2000 }, (_, k) => pieces[(k * 7919) % pieces.length]).join(' filler text 12345 ');
  assert.equal(d.mask(big).text, referenceMask(d, big));
});

test('adversarial input: 1 MB shaped against each detector finishes', { timeout: 300_000 }, () => {
  const d = createDetectors({ pii: { email: true, phone: true }, custom: [{ name: 'c', pattern: '[a-z]{1,64}@[a-z]{1,64}\\.example' }] });
  const MB = 1 << 20;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  const shaped: Record<string, string[]> = {
    jwt: ['eyJ' + fill('a'), fill('eyJ'), fill('eyJaaaaaaaaaaaaaa.'), fill('eyJaaaaaaaaaaaaaa.b.')],
    'bearer-token': [fill('Bearer '), 'Bearer ' + fill('a'), fill('bearer a'), fill('r ')],
    'aws-access-key-id': [fill('AKIA'), fill('A')],
    'aws-secret-access-key': [fill('aws_secret_access_key='), fill('SecretAccessKey'), 'secret_access_key=' + fill('a'), fill('key ')],
    'gcp-service-account-key': ['"private_key": "-----BEGIN PRIVATE KEY-----' + fill('A'), fill('"private_key":"')],
    'gcp-api-key': [fill('AIza'), 'AIza' + fill('a')],
    'azure-connection-string': [fill('AccountKey='), 'AccountKey=' + fill('A')],
    'azure-storage-key': [fill('storageAccountKey: '), 'azurestorageaccountkey: ' + fill('A')],
    'github-token': [fill('ghp_'), fill('github_'), 'ghp_' + fill('a')],
    'gitlab-token': [fill('glpat-'), 'glpat-' + fill('a'), fill('glpat-aaaaaaaaaaaaaaaaaaaaaa.')],
    'slack-token': [fill('xoxb-1'), 'xoxb-1' + fill('a')],
    'slack-webhook-url': [fill('hooks.slack.com/services/'), 'hooks.slack.com/services/' + fill('T')],
    'private-key-block': ['-----BEGIN PRIVATE KEY-----' + fill('A'), fill('-----BEGIN RSA PRIVATE KEY-----'), fill('-----BEGIN PRIVATE KEY-----\n-'), fill('-')],
    'connection-string-password': [fill('a://'), 'a://b:' + fill('c'), fill('a://a:a'), fill('://a:a@'), fill('password='), fill(';pwd='), 'password=' + fill('x'), 'x://u:' + fill('a@'), fill('@')],
    'credit-card': [fill('4111 '), fill('4111-'), fill('4111111111111111 '), fill('4'), fill('5')],
    'npm-token': [fill('npm_'), 'npm_' + fill('a')],
    'stripe-key': [fill('sk_live_'), 'sk_live_' + fill('a')],
    'vault-token': [fill('hvs.'), 'hvs.' + fill('a')],
    'anthropic-api-key': [fill('sk-ant-'), fill('sk-ant-api03-'), 'sk-ant-api03-' + fill('a')],
    'openai-api-key': [fill('sk-'), 'sk-' + fill('a'), fill(OPENAI_MARK), 'sk-' + fill(`aaaaaaaaaaaaaaaaaaaa${OPENAI_MARK}`), fill(`sk-aaaaaaaaaaaaaaaaaaaa${OPENAI_MARK}`)],
    'sendgrid-api-key': [fill('SG.'), 'SG.' + fill('a'), fill('SG.aaaaaaaaaaaaaaaaaaaaaa.'), fill('G.')],
    'shopify-token': [fill('shpat_'), 'shpat_' + fill('a')],
    'linear-api-key': [fill('lin_api_'), 'lin_api_' + fill('a')],
    '1password-service-account-token': [fill('ops_eyJ'), 'ops_eyJ' + fill('a'), 'ops_eyJ' + fill('a=')],
    'npmrc-auth-token': [fill('_authToken='), '_authToken=' + fill('a'), fill('_auth ='), fill(':_auth=a ')],
    'x-oauth-basic-token': [fill(':x-oauth-basic@'), '//' + fill('a') + ':x-oauth-basic@', fill('//a:x-oauth-basic@'), '//' + fill('a:x-oauth-basic@')],
    email: [fill('a@'), fill('a@b.'), fill('a.'), fill('a') + '@', fill('a@a-'), '@' + fill('a.')],
    phone: [fill('+1 '), fill('+1('), '+1' + fill('2'), fill('+')],
    'custom:c': [fill('a@'), fill('a') + '@' + fill('a')],
  };
  const generic = [fill(' '), fill('_'), fill('='), fill('=='), fill('/+'), Buffer.from(fill('\u00ff')).toString('base64').slice(0, MB)];
  for (const det of d.detectors) {
    const inputs = shaped[det.name];
    assert.ok(inputs, `adversarial inputs for ${det.name}`);
    for (const s of inputs) {
      det.scan(s); // the detector alone, over the whole input
      assert.equal(typeof d.mask(s).text, 'string'); // and the set (prefilter, windows)
    }
  }
  for (const s of generic) d.mask(s);
});

test('luhnValid', () => {
  assert.equal(luhnValid('79927398713'), true); // the classic example
  assert.equal(luhnValid('79927398710'), false);
  assert.equal(luhnValid('4111111111111111'), true);
  assert.equal(luhnValid('4111111111111112'), false);
  assert.equal(luhnValid('378282246310005'), true);
  assert.equal(luhnValid('0'), false);
  assert.equal(luhnValid(''), false);
  assert.equal(luhnValid('4111-1111'), false);
});

test('regexBounds: shortest and longest match, lookaround context, nested quantifiers', () => {
  assert.deepEqual(regexBounds('x{2,5}y?'), { min: 2, matchMax: 6, lookaroundMax: 0, max: 6, nestedUnbounded: false });
  assert.equal(regexBounds('a|').min, 0);
  assert.equal(regexBounds('(?<![a-z])abc(?=d{1,4})').max, 3 + 2 * 4);
  assert.equal(regexBounds('a(?<=(?<!x)b{0,31}a)').lookaroundMax, 33); // a nested lookbehind widens the outer one
  assert.equal(regexBounds('(a)\\1').matchMax, Infinity);
  assert.equal(regexBounds('.', 'u').matchMax, 2); // an astral code point is two code units
  assert.equal(regexBounds('a{').min, 2); // `{` without a quantifier is a literal
  assert.equal(regexBounds('[a-z]{1,63}(?:\\.[a-z]{1,63}){0,3}').matchMax, 63 + 3 * 64);
  assert.equal(regexBounds('(a+)+').nestedUnbounded, true);
  assert.equal(regexBounds('(?:ab){1,5}c+').nestedUnbounded, false);
});
