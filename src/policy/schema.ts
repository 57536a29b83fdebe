/**
 * The policy language (rules) and the policy test-case format, as zod schemas. Every field is
 * documented here where it is defined and explained with examples in docs/policy.md.
 * Structural checks live here; compile-rule.ts compiles globs and CEL conditions.
 */
import { DURATION_PATTERN, durationMs } from '../core/duration.ts';
export { durationMs };
import { z } from 'zod';

const EFFECTS = ['allow', 'deny', 'review'] as const;

/** A glob: `*` matches any run of characters (also none), `?` exactly one; everything else is literal. */
const glob = z.string().min(1, 'must not be empty').max(253);

const verb = z
  .string()
  .regex(/^(\*|[a-z][a-z-]*)$/, 'a verb is a lower-case word (get, list, create, …) or "*"')
  .describe('Kubernetes verb, lower-cased HTTP method for non-resource URLs, or `*`.');

const resource = z
  .string()
  .regex(/^[^/\s]+(\/[^/\s]+)?$/, 'a resource is `resource` or `resource/subresource` (globs allowed), e.g. pods, pods/log, */proxy, *')
  .describe('`pods` (no subresource), `pods/log`, `pods/*` (any subresource), `*/proxy`, `*` (everything).');

const nonResourceURL = z
  .string()
  .regex(/^(\*|\/[^*\s]*\*?)$/, 'a non-resource URL is a path starting with "/", optionally ending in "*" (prefix match)')
  .describe('A URL path such as `/version`, or a prefix ending in `*` such as `/apis/*`.');

const DURATION = DURATION_PATTERN;
const duration = z
  .string()
  .regex(DURATION, 'a duration such as 30s, 15m, 1h or 1h30m')
  .describe('Duration: hours, minutes and seconds, e.g. `90s`, `15m`, `1h30m`.');

export const SubjectsSchema = z
  .object({
    users: z.array(glob).min(1).optional().describe('Usernames (globs); `*` is every authenticated user.'),
    groups: z.array(glob).min(1).optional().describe('Group names (globs); a principal without groups never matches a group.'),
  })
  .strict()
  .refine((s) => s.users !== undefined || s.groups !== undefined, 'name at least one of users, groups');

export const ReviewSchema = z
  .object({
    approvers: z.array(glob).min(1).optional().describe('Groups whose members may approve; omitted: the default approvers.'),
    minApprovals: z.number().int().min(1).max(10).default(1).describe('Distinct approvers needed, never the requester.'),
    timeout: duration.optional().describe('How long the request waits before it is denied (for a role: how long the access request waits).'),
    requireReason: z
      .boolean()
      .default(false)
      .describe('Approvers are not asked until the requester gave a reason with `sluice approvals reason <id> "…"`.'),
  })
  .strict()
  .describe('Approval settings of a review rule (or of a role\'s access requests), carried in the decision.');

const MASK_SETTINGS = ['off', 'on'] as const;

const mask = z
  .enum(MASK_SETTINGS, { error: 'mask is "off" (responses of the requests this rule matches are not masked) or "on" (they stay masked)' })
  .describe(
    'Response masking for the requests the rule matches (allow and review rules only). Masking is on by default; `off` lifts it ' +
      '(the decision names the rule, and the audit record keeps it), `on` keeps it even when another matching rule says `off` ' +
      '(most restrictive wins).',
  );

const auditScope = z
  .enum(['self'], { error: 'auditScope is "self" (only the requester\'s own audit records); leave it out for every record the rule grants' })
  .describe(
    'For audit reads (connection `sluice`, apiGroup `audit.sluice.dev`, docs/policy.md "Reading the audit trail"): `self` narrows what the ' +
      'rule grants to the records whose principal is the requester (issuer and subject). Allow and review rules only; when another ' +
      'matching allow rule without `auditScope` grants the read too, the read is unrestricted.',
  );

const ruleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'an id is letters, digits and . _ : / - (at most 128 characters)')
  .describe('Unique id of the rule across all loaded files (rules and roles\' rules); decisions and audit records name it.');

/** The fields of a rule; role rules (RoleRuleSchema) are the same without `subjects`/`except` and never deny. */
const ruleFields = {
  id: ruleId,
  description: z.string().optional().describe('Free text for people reading the policy.'),
  effect: z.enum(EFFECTS).describe('`allow`, `deny` or `review` (held for approval).'),
  message: z.string().min(1).optional().describe('Shown to the client when this rule denies or holds the request.'),
  subjects: SubjectsSchema.optional().describe('Who the rule is for; omitted: everyone (deny rules only).'),
  except: SubjectsSchema.optional().describe('Who the rule is not for, even when `subjects` names them.'),
  connections: z.array(glob).min(1).optional().describe('Sluice connections (target clusters); omitted: all.'),
  verbs: z.array(verb).min(1).optional().describe('Verbs; omitted: all (deny rules only).'),
  apiGroups: z.array(z.string().max(253)).min(1).optional().describe('API groups (globs); `""` is the core group; omitted: all.'),
  resources: z.array(resource).min(1).optional().describe('Resources and subresources.'),
  namespaces: z.array(z.string().max(253)).min(1).optional().describe('Namespaces (globs); `""` is cluster-scoped and all-namespace requests; omitted: all.'),
  names: z.array(glob).min(1).optional().describe('Object names (globs); a request without a name never matches.'),
  nonResourceURLs: z.array(nonResourceURL).min(1).optional().describe('Non-resource URL paths; the rule then matches only non-resource requests.'),
  condition: z.string().min(1).max(4096).optional().describe('CEL expression over `request`, `object`, `principal`; must be true for the rule to match.'),
  review: ReviewSchema.optional().describe('Approval settings (review rules only).'),
  mask: mask.optional(),
  auditScope: auditScope.optional(),
};

type RuleFields = { [K in keyof typeof ruleFields]?: unknown } & { effect: string; subjects?: unknown };

/** Checks across fields, shared by rules and role rules (`inRole`: the grantee is the subject). */
function checkRule(r: RuleFields, ctx: z.RefinementCtx, inRole: boolean): void {
  const need = (ok: boolean, path: string, message: string) => {
    if (!ok) ctx.addIssue({ code: 'custom', path: [path], message });
  };
  if (r.effect !== 'deny') {
    if (!inRole) need(r.subjects !== undefined, 'effect', `an ${r.effect} rule must name its subjects (use users: ["*"] for every authenticated user)`);
    need(r.verbs !== undefined, 'effect', `an ${r.effect} rule must list its verbs`);
    need(r.resources !== undefined || r.nonResourceURLs !== undefined, 'effect', `an ${r.effect} rule must list resources or nonResourceURLs`);
  }
  if (r.nonResourceURLs) {
    for (const k of ['apiGroups', 'resources', 'namespaces', 'names'] as const) {
      need(r[k] === undefined, k, `${k} cannot be combined with nonResourceURLs (a request is either a resource or a non-resource request)`);
    }
  }
  need(r.review === undefined || r.effect === 'review', 'review', 'the review block belongs to review rules');
  need(r.message === undefined || r.effect !== 'allow', 'message', 'message is shown only for deny and review rules');
  need(r.mask === undefined || r.effect !== 'deny', 'mask', 'mask belongs to allow and review rules: a denied request has no response to mask');
  need(r.auditScope === undefined || r.effect !== 'deny', 'auditScope', 'auditScope belongs to allow and review rules: it narrows what a rule grants');
}

export const RuleSchema = z
  .object(ruleFields)
  .strict()
  .superRefine((r, ctx) => checkRule(r, ctx, false));

/**
 * A rule inside a role: what a grant of the role allows (or holds for review). It has no
 * `subjects` or `except` — it applies to whoever holds an active grant of the role — and no
 * `deny` effect: a role adds access, and deny rules belong among the ordinary rules, for everyone.
 */
export const RoleRuleSchema = z
  .object({
    ...ruleFields,
    effect: z
      .enum(['allow', 'review'], { error: 'a role rule is allow or review: a role grants access (write deny rules as ordinary rules, they apply to grantees too)' })
      .describe('`allow` or `review`; deny rules belong among the ordinary rules.'),
    subjects: z
      .never({ error: 'a role rule has no subjects: it applies to whoever holds an active grant of the role (requestableBy says who may ask)' })
      .optional(),
    except: z.never({ error: 'a role rule has no except: it applies to whoever holds an active grant of the role' }).optional(),
  })
  .strict()
  .superRefine((r, ctx) => checkRule(r, ctx, true));

/**
 * A role: a set of rules that an approved access request (a grant) adds to the requester for a
 * while (`sluice approvals request prod-write --for 30m`). Rule ids are checked by the loader.
 */
export const RoleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a role name is lower-case letters, digits and - (at most 63 characters), e.g. prod-write')
      .describe('Unique name of the role across all loaded files; access requests and grants name it.'),
    description: z.string().optional().describe('Free text: what the role is for; shown to requesters and approvers.'),
    requestableBy: SubjectsSchema.describe('Who may ask for the role (users and groups, globs).'),
    maxDuration: duration
      .refine((d) => !DURATION.test(d) || durationMs(d) > 0, 'maxDuration must be longer than 0s')
      .describe('The longest a grant may last; requests for longer are refused.'),
    review: ReviewSchema.optional().describe('Who approves an access request (omitted: the default approvers, one approval); `timeout` is how long the request waits.'),
    rules: z.array(z.unknown()).min(1, 'a role needs at least one rule').describe('Rules (RoleRuleSchema) that apply to the grantee while the grant is active.'),
  })
  .strict();


export type PolicyRule = z.infer<typeof RuleSchema>;
export type RoleRule = z.infer<typeof RoleRuleSchema>;
export type RoleInput = z.infer<typeof RoleSchema>;
export type ReviewSettings = z.infer<typeof ReviewSchema>;

/** A policy file: a list of rules, or a map with `rules:` and/or `roles:`. */
export const PolicyDocumentSchema = z
  .object({
    rules: z.array(z.unknown()).optional().describe('Rules (RuleSchema).'),
    roles: z.array(z.unknown()).optional().describe('Roles (RoleSchema) that access requests ask for.'),
  })
  .strict()
  .refine((d) => d.rules !== undefined || d.roles !== undefined, 'a policy file is a list of rules, or a map with rules: and/or roles:');

const TestPrincipalSchema = z
  .object({
    username: z.string().min(1),
    groups: z.array(z.string()).default([]),
    issuer: z.string().default('https://issuer.test'),
    subject: z.string().optional(),
    kind: z.enum(['person', 'machine']).optional(),
  })
  .strict();

const TestRequestSchema = z
  .object({
    connection: z.string().default('default'),
    verb: z.string().min(1),
    apiGroup: z.string().default(''),
    apiVersion: z.string().optional(),
    resource: z.string().optional().describe('`pods`, or `pods/exec` as a shorthand for resource + subresource.'),
    subresource: z.string().default(''),
    namespace: z.string().default(''),
    name: z.string().default(''),
    path: z.string().optional(),
    isResourceRequest: z.boolean().optional(),
    object: z.unknown().optional(),
  })
  .strict();

export const TestCaseSchema = z
  .object({
    name: z.string().optional(),
    principal: TestPrincipalSchema,
    request: TestRequestSchema,
    expect: z.enum(EFFECTS),
    expectRules: z.array(z.string()).optional().describe('Exactly the ids of the rules that decided (order ignored).'),
    expectMask: z
      .enum(['masked', 'lifted'], { error: 'expectMask is "masked" (the response stays masked) or "lifted" (a mask: off rule lifts masking)' })
      .optional()
      .describe('Whether the response stays masked (`masked`, the default of every decision) or a `mask: off` rule lifts masking (`lifted`).'),
    expectAuditScope: z
      .enum(['self', 'all'], { error: 'expectAuditScope is "self" (only the requester\'s own audit records) or "all" (unrestricted)' })
      .optional()
      .describe('For audit reads: whether the allow is narrowed to the requester\'s own records (`self`, every deciding rule says `auditScope: self`) or not (`all`).'),
    grants: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Roles the principal holds an active grant of (approved access requests); each must be defined in the policy.'),
  })
  .strict();

export const TestCaseFileSchema = z
  .object({
    description: z.string().optional(),
    cases: z.array(z.unknown()),
  })
  .strict();

export type TestCaseInput = z.infer<typeof TestCaseSchema>;
