/**
 * Masking rules compiled for matching while walking an object: the rules that apply to one
 * kind + API group merged into a trie of path steps (one lookup per member visited), cached per
 * kind. A kind that is unknown (an object without `kind` and no hint) gets every rule, whatever
 * its kind: masking too much beats leaking. An unknown group matches rules of any group.
 *
 * The trie is walked the same way by the object masker (mask-object.ts) and by the streaming
 * masker's scanner (kube-json-masker.ts), with the helpers below.
 *
 * With env names on (`envNames`, sensitive-env-names.ts), the node of a path ending in
 * `env[*].value` whose action is `detectors` carries a second label (`env value (sensitive
 * name)`), and its parent, the env entry, a flag: both walkers look at the entry's `name` there.
 */
import { parseRulePath, type PathStep } from './rule-path.ts';
import { KubeMaskError, type MaskAction, type MaskRule } from './types.ts';

/** One position in the trie: where to go next, and what to do with a value that ends here. */
export interface RuleNode {
  keys: Map<string, RuleNode> | null;
  /**
   * The lengths of the names in `keys`, as bits (`lengthBit`): a scanner that sees a key of
   * another length knows it is not there without decoding it.
   */
  keyLengths: number;
  anyKey: RuleNode | null;
  anyElement: RuleNode | null;
  action: MaskAction | null;
  label: string | null;
  /**
   * At the `value` of an env entry (a path ending in `env[*].value`) whose action is `detectors`,
   * with names masked (sensitive-env-names.ts): the label a value gets when the entry's `name`
   * is sensitive. null everywhere else.
   */
  nameLabel: string | null;
  /** At an env entry (`env[*]`): one of its `value` positions has a `nameLabel`; its `name` matters. */
  nameEntry: boolean;
  /** `[this]`, so that following one node allocates nothing. */
  only: RuleNode[];
}

/** When rules meet at one value, the stronger action wins (a marker reveals least). */
export const STRENGTH: Record<MaskAction, number> = { detectors: 1, json: 2, hash: 3, marker: 4 };
const ACTIONS = new Set<MaskAction>(['marker', 'hash', 'detectors', 'json']);
const CACHE_MAX = 1024;

export interface CompiledMaskRules {
  readonly rules: readonly MaskRule[];
  /** The trie of the rules that apply to objects of this kind and group (either may be unknown). */
  forKind(kind: string | undefined, apiGroup: string | undefined): RuleNode;
  /** Whether a rule hashes (then a hash key is required). */
  readonly hashes: boolean;
}

export interface CompileOptions {
  /** Mark the values of env entries for masking by name (see RuleNode.nameLabel). */
  envNames?: boolean;
}

/** Appended to the label of the env rule for values masked because of their entry's name. */
export const SENSITIVE_NAME_SUFFIX = ' (sensitive name)';

interface ParsedRule {
  rule: MaskRule;
  paths: { text: string; steps: PathStep[] }[];
}

function newNode(): RuleNode {
  const node: RuleNode = { keys: null, keyLengths: 0, anyKey: null, anyElement: null, action: null, label: null, nameLabel: null, nameEntry: false, only: [] };
  node.only.push(node);
  return node;
}

/** `…env[*].value`: the value of a container env entry (`{name, value}`). */
function isEnvValue(steps: PathStep[]): boolean {
  const n = steps.length;
  if (n < 3) return false;
  const [env, element, value] = [steps[n - 3]!, steps[n - 2]!, steps[n - 1]!];
  return env.type === 'key' && env.key === 'env' && element.type === 'anyElement' && value.type === 'key' && value.key === 'value';
}

function insert(root: RuleNode, steps: PathStep[], action: MaskAction, label: string, envNames: boolean): void {
  let node = root;
  let parent = root;
  for (const step of steps) {
    parent = node;
    if (step.type === 'key') {
      node.keys ??= new Map();
      let next = node.keys.get(step.key);
      if (!next) node.keys.set(step.key, (next = newNode()));
      node.keyLengths |= lengthBit(step.key.length);
      node = next;
    } else if (step.type === 'anyKey') node = node.anyKey ??= newNode();
    else node = node.anyElement ??= newNode();
  }
  if (node.action === null || STRENGTH[action] > STRENGTH[node.action]) {
    node.action = action;
    node.label = label;
  }
  // Every path to one node has the same steps: an env value's node sees only env-value rules.
  if (envNames && isEnvValue(steps)) {
    node.nameLabel = node.action === 'detectors' ? `${node.label}${SENSITIVE_NAME_SUFFIX}` : null;
    parent.nameEntry = true;
  }
}

function applies(rule: MaskRule, kind: string | undefined, apiGroup: string | undefined): boolean {
  if (kind !== undefined && rule.kind !== '*' && rule.kind !== kind) return false;
  return apiGroup === undefined || rule.apiGroup === undefined || rule.apiGroup === apiGroup;
}

export function compileMaskRules(rules: readonly MaskRule[], opts: CompileOptions = {}): CompiledMaskRules {
  const envNames = opts.envNames ?? false;
  const parsed: ParsedRule[] = rules.map((rule) => {
    if (typeof rule.kind !== 'string' || rule.kind === '') throw new KubeMaskError('MASK_RULE_INVALID', 'a masking rule needs a kind (or "*")');
    if (!ACTIONS.has(rule.action)) throw new KubeMaskError('MASK_RULE_INVALID', `masking rule for ${rule.kind}: unknown action ${JSON.stringify(rule.action)}`);
    if (!Array.isArray(rule.paths) || rule.paths.length === 0) throw new KubeMaskError('MASK_RULE_INVALID', `masking rule for ${rule.kind}: no paths`);
    return { rule, paths: rule.paths.map((text) => ({ text, steps: parseRulePath(text) })) };
  });

  const tries = new Map<string, RuleNode>();
  const cacheKey = (kind: string | undefined, apiGroup: string | undefined): string => `${apiGroup ?? '\u0000'}\u0001${kind ?? '\u0000'}`;

  return {
    rules,
    hashes: rules.some((r) => r.action === 'hash'),
    forKind(kind, apiGroup) {
      const key = cacheKey(kind, apiGroup);
      let root = tries.get(key);
      if (root) return root;
      root = newNode();
      for (const { rule, paths } of parsed) {
        if (!applies(rule, kind, apiGroup)) continue;
        for (const p of paths) insert(root, p.steps, rule.action, rule.name ?? `${rule.kind} ${p.text}`, envNames);
      }
      if (tries.size >= CACHE_MAX) tries.clear();
      tries.set(key, root);
      return root;
    },
  };
}

export const NO_NODES: RuleNode[] = [];

/** The bit of a key length in RuleNode.keyLengths: one per length up to 30, one for all longer ones. */
export function lengthBit(length: number): number {
  return 1 << (length < 31 ? length : 31);
}

/** The trie positions of member `key` of an object at `nodes`. */
export function childNodes(nodes: RuleNode[], key: string): RuleNode[] {
  if (nodes.length === 1) {
    const n = nodes[0]!;
    const k = n.keys?.get(key);
    if (n.anyKey === null) return k ? k.only : NO_NODES;
    if (!k) return n.anyKey.only;
  }
  let out: RuleNode[] | null = null;
  for (const n of nodes) {
    const k = n.keys?.get(key);
    if (k) (out ??= []).push(k);
    if (n.anyKey) (out ??= []).push(n.anyKey);
  }
  return out ?? NO_NODES;
}

/** The trie positions of the elements of an array at `nodes`. */
export function elementNodes(nodes: RuleNode[]): RuleNode[] {
  if (nodes.length === 1) return nodes[0]!.anyElement?.only ?? NO_NODES;
  let out: RuleNode[] | null = null;
  for (const n of nodes) if (n.anyElement) (out ??= []).push(n.anyElement);
  return out ?? NO_NODES;
}

/** Whether an object at these positions is an env entry whose `name` decides about its `value`. */
export function isNameEntry(nodes: RuleNode[]): boolean {
  for (const n of nodes) if (n.nameEntry) return true;
  return false;
}

/** The strongest action of the rules ending at these positions, with its label. */
export function strongest(nodes: RuleNode[]): RuleNode | null {
  let best: RuleNode | null = null;
  for (const n of nodes) if (n.action !== null && (best === null || STRENGTH[n.action] > STRENGTH[best.action!])) best = n;
  return best;
}
