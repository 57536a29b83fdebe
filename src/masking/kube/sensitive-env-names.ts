/**
 * Env vars masked by their name: a container env entry `{"name": "POSTGRES_PASSWORD", "value":
 * "…"}` holds a credential because of its name, which the value detectors never see (they look
 * at the value alone). When the name matches the pattern below, the value is replaced by the
 * marker, counted under `<label of the env rule> (sensitive name)` — `env value (sensitive name)`
 * with the default rules —, and the detectors do not run on it. Values that hide nothing stay as
 * they are and go through the detectors like any env value: an empty string, `null`, and
 * references to other variables (`$(DB_PASSWORD)`, expanded by the kubelet, not a secret).
 * Any other value (a number, an object: not valid in a pod, possible in any JSON) is replaced.
 *
 * Where: every rule path that ends in `env[*].value` and whose strongest action at the value is
 * `detectors` — the default rules for Pod, PodTemplate, ReplicationController, Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job and CronJob, and an operator's rule written the same
 * way for a CRD with a pod template. The name is the entry's `name` member (the object the
 * `value` is in); the order of the two members in the JSON does not matter.
 *
 * The pattern (case-insensitive, on the whole name; `_`, `-` and `.` separate words):
 * - anywhere in the name: PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN (not TOKENIZER),
 *   CREDENTIAL, API_KEY / APIKEY, ACCESS_KEY, PRIVATE_KEY, ENCRYPTION_KEY, SIGNING_KEY,
 *   MASTER_KEY, CONNECTION_STRING (separators optional: `apiKey`, `dbPassword`,
 *   `ConnectionStrings__Default` match);
 * - as a whole word: AUTH, AUTHORIZATION, CREDS, DSN, CONN_STR (`BASIC_AUTH`, `AUTH_TOKEN`,
 *   `SENTRY_DSN`; not `AUTHOR`, `OAUTH_ISSUER`);
 * - as the last word: PASS (`SMTP_PASS`, not `PASS_THROUGH`), PWD after another word (`DB_PWD`;
 *   not `PWD`, the shell's working directory);
 * - unless the last word says the value is about a credential, not one: FILE(S), PATH, DIR,
 *   URL, URI, ENDPOINT, HOST, PORT, NAME, USER, USERNAME, ENABLED, DISABLED, ENABLE, DISABLE,
 *   REQUIRED, TTL, EXPIRY, EXPIRES, EXPIRATION, TIMEOUT, INTERVAL, LIFETIME, AGE, LENGTH, SIZE,
 *   COUNT, LIMIT, MODE, TYPE, METHOD, PROVIDER, ALGORITHM, ISSUER, AUDIENCE, SCOPE(S), VERSION
 *   (`PASSWORD_FILE=/run/secrets/pw`, `TOKEN_PATH`, `AUTH_ENABLED`, `TOKEN_TTL`, `SECRET_NAME`,
 *   `PASSWORD_MIN_LENGTH`). A URL with credentials in it is still caught by the detectors.
 * `AWS_ACCESS_KEY_ID` matches (ACCESS_KEY): the id is half of the credential pair, and masking
 * too much beats leaking. The pattern is an option (`createKubeMasking({ sensitiveEnvNames })`):
 * a RegExp of the caller's, tested against the name, or `false` for none.
 */

const SEP = '[_.-]';

const NOT_ABOUT =
  'FILES?|PATH|DIR|URL|URI|ENDPOINT|HOST|PORT|NAME|USER|USERNAME|ENABLED|DISABLED|ENABLE|DISABLE|REQUIRED|TTL|EXPIRY|EXPIRES|EXPIRATION|TIMEOUT|INTERVAL|LIFETIME|AGE|LENGTH|SIZE|COUNT|LIMIT|MODE|TYPE|METHOD|PROVIDER|ALGORITHM|ISSUER|AUDIENCE|SCOPES?|VERSION';

const ANYWHERE = `PASSW(?:OR)?D|PASSPHRASE|SECRET|TOKEN(?!IZ)|CREDENTIAL|(?:API|ACCESS|PRIVATE|ENCRYPTION|SIGNING|MASTER)${SEP}?KEY|CONNECTION${SEP}?STRING`;
const WORD = `(?:^|${SEP})(?:AUTH|AUTHORIZATION|CREDS|DSN|CONN${SEP}?STR)(?:${SEP}|$)`;
const LAST = `(?:^|${SEP})PASS$|${SEP}PWD$`;

/** The default pattern of env var names whose values are credentials (see the module header). */
export const DEFAULT_SENSITIVE_ENV_NAMES: RegExp = new RegExp(`^(?!.*${SEP}(?:${NOT_ABOUT})$).*?(?:${ANYWHERE}|${WORD}|${LAST})`, 'is');

/** `$(VAR)` (one or more, nothing else): references the kubelet expands, not values. */
const REFERENCES = /^(?:\$\([A-Za-z_][A-Za-z0-9_.-]*\))+$/;

/** Whether an env value hides nothing even under a sensitive name: `null`, `''`, `$(VAR)`. */
export function keepsEnvValue(v: unknown): boolean {
  return v === null || v === '' || (typeof v === 'string' && v.charCodeAt(0) === 36 && REFERENCES.test(v));
}

const CACHE_MAX = 4096;

/**
 * `test(name)` of the pattern, remembered per name (a list of pods repeats the same few dozen
 * names thousands of times). A global or sticky pattern is copied without those flags, so the
 * answer does not depend on the previous call.
 */
export function sensitiveNameTest(pattern: RegExp | false): ((name: string) => boolean) | null {
  if (pattern === false) return null;
  const re = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
  const seen = new Map<string, boolean>();
  return (name) => {
    let yes = seen.get(name);
    if (yes === undefined) {
      yes = re.test(name);
      if (seen.size >= CACHE_MAX) seen.clear();
      seen.set(name, yes);
    }
    return yes;
  };
}
