/**
 * How the Kubernetes API emulator is told to trust the identity provider's JWTs, mirroring
 * kube-apiserver's --oidc-issuer-url, --oidc-client-id (the audience), --oidc-username-claim,
 * --oidc-username-prefix ("-" = no prefix), --oidc-groups-claim, --oidc-groups-prefix and
 * --oidc-ca-file. Usernames come out as the demo names ("bob"), groups as issued ("developers").
 */
import type { IdentityProvider } from '../oidc/provider.ts';

export interface EmulatorOidcOptions {
  issuer: string;
  audience: string;
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim: string;
  groupsPrefix: string;
  caCert: string;
}

export function emulatorOidcOptions(idp: Pick<IdentityProvider, 'issuer' | 'audience' | 'caCert'>): EmulatorOidcOptions {
  return {
    issuer: idp.issuer,
    audience: idp.audience,
    usernameClaim: 'sub',
    usernamePrefix: '-',
    groupsClaim: 'groups',
    groupsPrefix: '',
    caCert: idp.caCert,
  };
}
