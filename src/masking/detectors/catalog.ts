/**
 * The built-in value detectors, in precedence order (when two findings start at the same place,
 * the earlier detector names it). Each pattern cites the documented token format it follows;
 * none is copied from another scanner. Every quantifier is bounded, so a match is at most a
 * known length (maxMatchLength) and no pattern backtracks more than linearly per start.
 *
 * Names are stable identifiers (they appear in markers `[MASKED:<name>]`, counts and config):
 *   gcp-service-account-key  private-key-block  jwt  github-token  gitlab-token
 *   slack-webhook-url  slack-token  npm-token  stripe-key  vault-token  openai-api-key
 *   anthropic-api-key
 *   sendgrid-api-key  shopify-token  linear-api-key  1password-service-account-token
 *   gcp-api-key  aws-access-key-id  aws-secret-access-key  azure-storage-key
 *   azure-connection-string  npmrc-auth-token  x-oauth-basic-token
 *   connection-string-password  bearer-token  credit-card (PII, on)  email (PII, off)
 *   phone (PII, off)
 * Every credential kind that secretlint's recommended preset reports has a detector here;
 * test/unit/masking/detectors-secretlint.test.ts runs that preset as an oracle.
 * Operator rules (`custom:<name>`) come after the credentials and before e-mail and phone.
 *
 * Patterns start with literal text where they can (the regex engine then finds candidates
 * fast); context such as a word boundary or a URL's scheme is checked by lookbehinds placed
 * after that literal.
 */
import type { DetectorSpec } from './detector-spec.ts';
import { cardIssuerPlausible, luhnValid } from './luhn.ts';

export interface BuiltinSpec extends DetectorSpec {
  /** On unless configured otherwise (the PII toggles, `disable`). */
  defaultOn: boolean;
}

/** Case-insensitive regex source for a word, for triggers (their regex carries no `i` flag). */
function ci(word: string): string {
  let out = '';
  for (const c of word) out += /[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c;
  return out;
}

/** An optional quote around a name or a value, maybe escaped (JSON inside a JSON string). */
const QUOTE = String.raw`(?:\\?["'])?`;
/**
 * Between a name and its value: `NAME=v`, `name: v`, `"name": "v"`, `name = v`, `name => v`, and
 * a container env entry, as JSON (`{"name":"NAME","value":"v"}`) or YAML (`name: NAME⏎ value: v`).
 */
const ASSIGN =
  QUOTE +
  String.raw`[ \t]{0,8}(?:=>|[:=]|,\s{0,64}\\?["']value\\?["'][ \t]{0,8}:|\s{0,64}value[ \t]{0,8}:)[ \t]{0,8}` +
  QUOTE;

/**
 * Values of a password that are placeholders, not passwords; `x-oauth-basic` is the fixed
 * password of a URL whose user is a GitHub OAuth token (x-oauth-basic-token masks that token).
 */
const PLACEHOLDER = /^(?:\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|%s|\*+|<[^>]*>|x-oauth-basic)$/i;

/**
 * `PRIVATE KEY` after up to two upper-case words: RSA, DSA, EC, OPENSSH, ENCRYPTED, PGP … BLOCK,
 * and the labels other tools write (`TSS2 PRIVATE KEY` of the TPM 2.0 OpenSSL engine and
 * provider, `SM2 PRIVATE KEY`…).
 */
const PEM_LABEL = String.raw`(?:[A-Z][A-Z0-9]{1,15} ){0,2}PRIVATE KEY(?: BLOCK)?`;

const GITLAB_PREFIXES = 'gl(?:pat|oas|dt|rt|rtr|cbt|ptt|ft|imt|agent|soat|ffct)';

function refineBearer(s: string, start: number, end: number): readonly [number, number] | null {
  // A token has a digit, a capital or a symbol; `Bearer authentication-scheme` does not.
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || c === 45)) return [start, end];
  }
  return null;
}

function refinePassword(s: string, start: number, end: number): readonly [number, number] | null {
  return PLACEHOLDER.test(s.slice(start, end)) ? null : [start, end];
}

/**
 * The longest prefix of the digit groups (cut at a separator, or the whole) that is 13–19 digits,
 * starts like a card of that length and passes Luhn: `4111 1111 1111 1111 12` (a card and
 * something after it) masks the card.
 */
export function refineCard(s: string, start: number, end: number): readonly [number, number] | null {
  let digits = '';
  const cuts: number[] = []; // offsets where a group ends
  const counts: number[] = []; // digits before each cut
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += s[i];
    else {
      cuts.push(i);
      counts.push(digits.length);
    }
  }
  cuts.push(end);
  counts.push(digits.length);
  for (let k = cuts.length - 1; k >= 0; k--) {
    const n = counts[k]!;
    if (n < 13) break;
    if (n > 19) continue;
    const d = n === digits.length ? digits : digits.slice(0, n);
    if (cardIssuerPlausible(d) && luhnValid(d)) return [start, cuts[k]!];
  }
  return null;
}

/**
 * 8–15 digits (E.164). A longer run of groups (`+1 415 555 2671 4111 1111`) is cut at the last
 * separator that keeps 15 digits or fewer: the number is masked, not skipped for what follows.
 */
function refinePhone(s: string, start: number, end: number): readonly [number, number] | null {
  let n = 0;
  let cut = -1; // end of the longest prefix, at a group's end, with 8–15 digits
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++n > 15) break;
    } else if (n >= 8) cut = c === 41 ? i + 1 : i; // after `)`, else before the separator
  }
  if (n <= 15) return n >= 8 ? [start, end] : null;
  return cut < 0 ? null : [start, cut];
}

/** Fresh specs (their regexes carry `lastIndex`, so each detector set gets its own). */
export function builtinSpecs(): BuiltinSpec[] {
  return [
    {
      // Google Cloud IAM, "Create and delete service account keys": the JSON key file's
      // `private_key` holds a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", RFC 7468 §10), with its
      // line breaks escaped as `\n`. Masks the value (escaped, double-escaped or with real newlines).
      name: 'gcp-service-account-key',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(
        String.raw`private_key\\?["'][ \t]{0,8}:[ \t]{0,8}\\?["'](-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{1,16384}-----END PRIVATE KEY-----(?:\\{1,3}n)?)`,
        'gd',
      ),
      groups: [1],
      triggers: [{ pivot: '_', source: '_(?<=private_)key' }],
      back: 7,
    },
    {
      // PEM private keys: PKCS#8 "PRIVATE KEY" and "ENCRYPTED PRIVATE KEY" (RFC 7468 §10, §11),
      // OpenSSL's traditional "RSA/DSA/EC PRIVATE KEY" (with RFC 1421 Proc-Type/DEK-Info headers),
      // OpenSSH's "OPENSSH PRIVATE KEY" (PROTOCOL.key), OpenPGP's "PGP PRIVATE KEY BLOCK" (RFC 4880
      // §6.2), and any other upper-case label before "PRIVATE KEY" (PEM_LABEL). From BEGIN to END;
      // without an END (a cut or truncated block) up to 32 KiB of body, which stops at the next
      // run of five dashes.
      name: 'private-key-block',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(String.raw`-----BEGIN ${PEM_LABEL}-----(?:[^-]|-(?!----)){0,32768}(?:-----END ${PEM_LABEL}-----)?`, 'g'),
      triggers: [{ pivot: 'B', source: 'BEGIN (?<=-----BEGIN )' }],
      back: 5,
    },
    {
      // JWS/JWE compact serialization (RFC 7515 §7.1, RFC 7516 §7.1) of a JWT (RFC 7519): the
      // base64url of a JSON header, which starts `{"`, hence `eyJ`; at least 15 characters
      // (`{"alg":"…"}`), then 2 (JWS) or 4 (JWE) more dot-separated base64url parts.
      name: 'jwt',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{12,8192}\.[A-Za-z0-9_-]{0,32768}\.[A-Za-z0-9_-]{0,8192}(?:\.[A-Za-z0-9_-]{0,32768}\.[A-Za-z0-9_-]{0,1024})?/g,
      triggers: [{ pivot: 'J', source: 'J(?<=eyJ)' }],
      back: 2,
    },
    {
      // GitHub Docs, "About authentication to GitHub → GitHub's token formats", and the GitHub
      // blog "Behind GitHub's new authentication token formats" (2021): ghp_ (personal), gho_
      // (OAuth), ghu_ (user-to-server), ghs_ (server-to-server), ghr_ (refresh) + 36 base62
      // characters; github_pat_ (fine-grained) + 82; GitHub reserves growth to 255 characters.
      name: 'github-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])/g,
      triggers: [{ pivot: '_', source: '_(?<=gh[pousr]_|github_)' }],
      back: 6,
    },
    {
      // GitLab Docs, "GitLab token overview → Token prefixes": glpat- (personal/project/group
      // access), gloas- (OAuth application secret), gldt- (deploy), glrt-/glrtr- (runner),
      // glcbt- (CI/CD job), glptt- (pipeline trigger), glft- (feed), glimt- (incoming mail),
      // glagent- (agent), glsoat- (SCIM), glffct- (feature flags client); 20+ characters, and
      // the routable form's `.<version>.<check>` suffix.
      name: 'gitlab-token',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(String.raw`(?<![A-Za-z0-9_-])${GITLAB_PREFIXES}-[A-Za-z0-9_-]{20,255}(?:\.[A-Za-z0-9_-]{1,64}){0,2}(?![A-Za-z0-9_-])`, 'g'),
      triggers: [{ pivot: '-', source: `-(?<=${GITLAB_PREFIXES}-)` }],
      back: 7,
    },
    {
      // Slack API docs, "Sending messages using incoming webhooks" (hooks.slack.com/services/
      // T…/B…/secret) and workflow webhooks (/workflows/, /triggers/). Masks the path.
      name: 'slack-webhook-url',
      kind: 'credential',
      defaultOn: true,
      re: /hooks\.slack\.com\/(?:services|workflows|triggers)\/([A-Za-z0-9_/-]{16,256})/dg,
      groups: [1],
      triggers: [{ pivot: 'k', source: String.raw`ks\.slack\.com(?<=hooks\.slack\.com)` }],
      back: 3,
    },
    {
      // Slack API docs, "Token types": xoxb- (bot), xoxp- (user), xoxa-2 / xoxr- (workspace
      // access / refresh), xoxe.xoxp- and xoxe- (rotating), xapp- (app-level), legacy xoxo-/xoxs-.
      // All documented examples continue with a digit, which placeholders (`xoxb-your-token`) lack.
      name: 'slack-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])(?:xox[abposr]|xoxe(?:\.xox[bp])?|xapp)-\d[A-Za-z0-9-]{8,250}(?![A-Za-z0-9_-])/g,
      triggers: [{ pivot: '-', source: '-(?<=xox[abposre]-|xapp-)' }],
      back: 9,
    },
    {
      // npm Docs, "About access tokens": tokens start with `npm_` (36 base62 characters follow).
      name: 'npm-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g,
      triggers: [{ pivot: '_', source: '_(?<=npm_)' }],
      back: 3,
    },
    {
      // Stripe Docs, "API keys": secret keys sk_live_/sk_test_, restricted keys rk_live_/rk_test_
      // (publishable pk_ keys are public and not matched).
      name: 'stripe-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9_])/g,
      triggers: [{ pivot: '_', source: '_(?<=[sr]k_)(?:live|test)_' }],
      back: 2,
    },
    {
      // HashiCorp Vault docs, "Tokens → Token prefixes": hvs. (service), hvb. (batch), hvr.
      // (recovery), then at least 24 characters.
      name: 'vault-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{24,512}(?![A-Za-z0-9_-])/g,
      triggers: [{ pivot: 'v', source: String.raw`v[sbr]\.(?<=hv[sbr]\.)` }],
      back: 1,
    },
    {
      // OpenAI API keys (OpenAI docs, "API keys and service accounts": user, project, service
      // account and Admin API keys) as issued: `sk-` (legacy user keys), `sk-proj-`, `sk-svcacct-`,
      // `sk-admin-`, then base64url with the marker `T3BlbkFJ` (base64 of "OpenAI") inside. The
      // marker is not documented but in every format (secretlint's rule keys on it too), and it is
      // what makes `sk-` specific enough: `sk-` starts words and other vendors' keys.
      name: 'openai-api-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}(?![A-Za-z0-9_-])/g,
      triggers: [{ pivot: 'J', source: 'J(?<=T3BlbkFJ)' }],
      back: 3 + 200 + 7,
    },
    {
      // Anthropic API keys (Anthropic docs, "API keys" and the Admin API): `sk-ant-api03-` (API)
      // and `sk-ant-admin01-` (Admin), then base64url (95 characters as issued, ending `AA`);
      // the version digits and the length are accepted loosely, the `sk-ant-` prefix is specific.
      // Not in secretlint's preset; an AI gateway sees these in agents' configuration and logs.
      name: 'anthropic-api-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{32,256}(?![A-Za-z0-9_-])/g,
      triggers: [{ pivot: '-', source: '-(?<=sk-ant-)' }],
      back: 6,
    },
    {
      // Twilio SendGrid docs, "API Keys": keys are 69 characters; as issued, `SG.`, a 22-character
      // key id, `.` and a 43-character secret, both base64url. Bounds a little wider than that.
      name: 'sendgrid-api-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{32,64}(?![A-Za-z0-9_-])/g,
      // The pivot is the `G`: the `S` would stop the prefilter at every capital S.
      triggers: [{ pivot: 'G', source: String.raw`G\.(?<=SG\.)` }],
      back: 1,
    },
    {
      // Shopify developer changelog, "Length of the Shopify access token is increasing" (2020):
      // shpat_ (public apps), shpca_ (custom apps), shppa_ (legacy private apps), and "App secret
      // key length has increased": shpss_ (app shared secret); then 32 characters (hex), to
      // which longer tokens are allowed.
      name: 'shopify-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[A-Za-z0-9]{32,128}(?![A-Za-z0-9_])/g,
      triggers: [{ pivot: '_', source: '_(?<=shp(?:at|ca|pa|ss)_)' }],
      back: 5,
    },
    {
      // Linear personal API keys (Settings → Security & access → Personal API keys) start
      // `lin_api_`; 40 alphanumerics follow in issued keys.
      name: 'linear-api-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])lin_api_[A-Za-z0-9_]{32,128}(?![A-Za-z0-9_])/g,
      triggers: [{ pivot: '_', source: '_(?<=lin_api_)' }],
      back: 7,
    },
    {
      // 1Password Developer docs, "1Password Service Account security": a service account token
      // (OP_SERVICE_ACCOUNT_TOKEN) is `ops_` + the base64 of a JSON object (the account's sign-in
      // address, e-mail, Secret Key, SRP verifier and master unlock key), hence `ops_eyJ`.
      name: '1password-service-account-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_])ops_eyJ[A-Za-z0-9+/_-]{64,8192}={0,2}(?![A-Za-z0-9+/=_-])/g,
      triggers: [{ pivot: 'J', source: 'J(?<=ops_eyJ)' }],
      back: 6,
    },
    {
      // Google Cloud docs, "Manage API keys": keys are 39 characters starting `AIza`.
      name: 'gcp-api-key',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
      triggers: [{ pivot: 'A', source: 'AIza' }],
      back: 0,
    },
    {
      // AWS IAM User Guide, "IAM identifiers → Unique ID prefixes": AKIA (access key), ASIA
      // (temporary, STS), ABIA (STS service bearer token), ACCA (context-specific credential);
      // 20 upper-case alphanumerics in all. (Not AIDA/AROA/…: user and role ids are no secrets.)
      name: 'aws-access-key-id',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
      triggers: [{ pivot: 'A', source: 'A(?:KIA|SIA|BIA|CCA)' }],
      back: 0,
    },
    {
      // AWS secret access keys are 40 base64 characters (AWS docs, "Managing access keys",
      // example wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY). As any 40-character base64 string
      // could be one, only after an AWS-ish name: AWS_SECRET_ACCESS_KEY (CLI environment),
      // aws_secret_access_key (~/.aws/credentials), SecretAccessKey (STS/IAM JSON), aws_secret_key.
      name: 'aws-secret-access-key',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(
        String.raw`(?:aws[_.-]?secret[_.-]?(?:access[_.-]?)?key|secret[_.-]?access[_.-]?key)${ASSIGN}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
        'gid',
      ),
      groups: [1],
      triggers: [
        {
          pivot: 'yY',
          source: `[yY](?<=(?:${ci('secret')}[_.-]?${ci('access')}[_.-]?|${ci('aws')}[_.-]?${ci('secret')}[_.-]?(?:${ci('access')}[_.-]?)?)${ci('key')})`,
        },
      ],
      back: 24,
    },
    {
      // Azure Storage account keys are 512-bit, 88 base64 characters (Azure docs, "Manage
      // storage account access keys"). Only after a storage-key name: AZURE_STORAGE_KEY (Azure
      // CLI), azurestorageaccountkey (the Secret of Azure Files volumes in Kubernetes),
      // storageAccountKey, STORAGE_ACCOUNT_ACCESS_KEY.
      name: 'azure-storage-key',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(String.raw`storage[_.-]?(?:account[_.-]?)?(?:access[_.-]?)?key${ASSIGN}([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])`, 'gid'),
      groups: [1],
      triggers: [
        { pivot: 'yY', source: `[yY](?<=${ci('storage')}[_.-]?(?:${ci('account')}[_.-]?)?(?:${ci('access')}[_.-]?)?${ci('key')})` },
      ],
      back: 28,
    },
    {
      // Azure docs, "Configure Azure Storage connection strings" (…;AccountKey=<key>) and the
      // Service Bus / Event Hubs connection strings (…;SharedAccessKeyName=…;SharedAccessKey=<key>).
      // Masks the key.
      name: 'azure-connection-string',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9])(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{20,200}={0,2})/dgi,
      groups: [1],
      triggers: [{ pivot: '=', source: `=(?<=(?:${ci('account')}|${ci('sharedaccess')})${ci('key')}=)` }],
      back: 15,
    },
    {
      // npm Docs, "npmrc → Auth related configuration": `_authToken` (a bearer token for a
      // registry, `//registry.example.com/:_authToken=…`) and `_auth` (base64 of user:password).
      // The value of any registry's token (npm's `npm_…` is npm-token; GitHub Packages, Artifactory,
      // Nexus and older npm tokens have other formats). Not `${NPM_TOKEN}` or other placeholders;
      // up to a blank, a quote or a backslash (an escaped line break: .npmrc text in JSON).
      name: 'npmrc-auth-token',
      kind: 'credential',
      defaultOn: true,
      re: /_auth(?<=(?<![A-Za-z0-9])_auth)(?:Token)?[ \t]{0,4}=[ \t]{0,4}["']?([^\s"'\\$][^\s"'\\]{0,2047})/dg,
      groups: [1],
      triggers: [{ pivot: '_', source: String.raw`_auth(?:Token)?[ \t]{0,4}=` }],
      back: 0,
      refine: refinePassword,
    },
    {
      // GitHub blog, "Easier builds and deployments using Git over HTTPS and OAuth" (2012): an
      // OAuth token as the user of a URL, with the fixed password `x-oauth-basic`
      // (`https://<token>:x-oauth-basic@github.com/owner/repo.git`). Masks the token.
      name: 'x-oauth-basic-token',
      kind: 'credential',
      defaultOn: true,
      re: /\/\/([^\s:/?#@"'<>[\]]{1,256}):x-oauth-basic@/dgi,
      groups: [1],
      triggers: [{ pivot: '@', source: `@(?<=:${ci('x-oauth-basic')}@)` }],
      back: 2 + 256 + 14,
    },
    {
      // Passwords in connection strings; only the password is masked.
      // - URLs with userinfo (RFC 3986 §3.2.1 `user:password@host`; the WHATWG URL standard ends
      //   the userinfo at the last `@` before the path), any scheme: postgres(ql), mysql,
      //   mongodb(+srv), redis(s), amqp(s), sqlserver, http(s), ftp…
      // - Key/value strings: libpq's `password=` (PostgreSQL docs §32.1.1), ADO.NET/ODBC/JDBC
      //   `Password=`/`Pwd=` after a `;` (Microsoft docs, "Connection string syntax"), and a
      //   `password=` query parameter or assignment (`DB_PASSWORD=…`). Quoted values too.
      // Placeholders (`${VAR}`, `$(VAR)`, `{{ … }}`, `<password>`, `****`, `%s`) are not masked.
      name: 'connection-string-password',
      kind: 'credential',
      defaultOn: true,
      re: new RegExp(
        String.raw`:\/\/(?<=(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/)[^\s:\/?#@"'<>\[\]]{0,256}:([^\s\/?#"'<>]{1,256})@(?=[^\s\/?#@"'<>])` +
          String.raw`|(?:passw(?:or)?d|pwd)[ \t]{0,4}=(?<=(?:(?<![A-Za-z0-9])passw(?:or)?d|(?<=;[ \t]{0,4})pwd)[ \t]{0,4}=)[ \t]{0,4}(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|([^\s;&"'<>]{1,256}))`,
        'gid',
      ),
      groups: [1, 2, 3, 4],
      triggers: [
        // Only an `@` with `:password` before it (every `@` inside a match has): not the `@` of
        // image digests (`nginx@sha256:…`) or e-mail addresses, which made mask() run for nothing.
        { pivot: '@', source: String.raw`@(?<=:[^\s\/?#"'<>]{1,256}@)` },
        { pivot: '=', source: `=(?<=(?:${ci('passw')}(?:${ci('or')})?${ci('d')}|${ci('pwd')})[ \\t]{0,4}=)` },
      ],
      back: 3 + 256 + 1 + 256,
      refine: refinePassword,
    },
    {
      // RFC 6750 §2.1: `Bearer` 1*SP b64token (ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"
      // then "=" padding); the scheme is case-insensitive (RFC 9110 §11.1). Masks the token, which
      // must be 16+ characters with a digit, a capital or a symbol (not `Bearer authentication`).
      name: 'bearer-token',
      kind: 'credential',
      defaultOn: true,
      re: /(?<![A-Za-z0-9_-])bearer[ \t]{1,16}([A-Za-z0-9._~+/-]{16,8192}={0,4})/dgi,
      groups: [1],
      // The pivot is the `r` before the blank: a class of blanks alone would stop the prefilter at
      // every space (measured: the combined prefilter fell from ~1000 to ~150 MB/s).
      triggers: [{ pivot: 'rR', source: `[rR][ \\t](?<=${ci('bearer')}[ \\t])` }],
      back: 6,
      refine: refineBearer,
    },
    {
      // Payment card numbers (ISO/IEC 7812-1): 13–19 digits, contiguous or in groups separated by
      // a space or a dash, starting in a card network's issuer range (luhn.ts) and passing Luhn.
      // Not inside a longer number, a word, a decimal fraction or after `+` (phone numbers).
      name: 'credit-card',
      kind: 'pii',
      defaultOn: true,
      re: /(?<![0-9A-Za-z_.+])[2-6]\d{3}(?:[ -]?\d){9,15}(?!\d)/g,
      triggers: [{ source: String.raw`[2-6]\d{3}(?:[ -]?\d){9}` }],
      back: 0,
      refine: refineCard,
    },
    {
      // E-mail addresses: RFC 5322 §3.4.1 dot-atom local part (≤ 64, RFC 5321 §4.5.3.1) @ a DNS
      // name with a letter TLD. Not inside the password of a URL's userinfo (`scheme://user:p@ss@host`).
      name: 'email',
      kind: 'pii',
      defaultOn: false,
      re: /(?<![A-Za-z0-9._%+-])(?=[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9])(?<!:\/\/[^\s/:@]{0,256}:[^\s/]{0,256})[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,63}(?![A-Za-z0-9-])/g,
      triggers: [{ pivot: '@', source: '@' }],
      back: 64,
    },
    {
      // Phone numbers in international form (ITU-T E.164: `+`, a country code not starting with
      // 0, at most 15 digits in all; here 8–15), with spaces, dots, dashes or a parenthesised group.
      name: 'phone',
      kind: 'pii',
      defaultOn: false,
      re: /(?<![A-Za-z0-9_+])\+[1-9](?:[ .-]?(?:\(\d{1,4}\)|\d)){6,20}(?![0-9])/g,
      triggers: [{ pivot: '+', source: String.raw`\+[1-9]` }],
      back: 0,
      refine: refinePhone,
    },
  ];
}
