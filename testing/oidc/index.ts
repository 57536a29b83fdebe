/**
 * The test/demo identity provider (a real OpenID Provider) and the relying-party helpers that
 * obtain tokens from it through real protocol flows. Relying-party code that must not load
 * oidc-provider (the exec credential plugin) imports ./login-flow.ts or
 * ./client-credentials.ts directly instead of this index.
 */
export { startIdentityProvider, type IdentityProvider, type IdentityProviderOptions, type MachineClient } from './provider.ts';
export { loginWithPassword, type PasswordLoginOptions } from './login-flow.ts';
export { fetchClientCredentialsToken, type ClientCredentialsOptions } from './client-credentials.ts';
export { resourceForAudience, audienceForResource } from './audience.ts';
export { DEFAULT_AUDIENCE, DEFAULT_PUBLIC_CLIENT_ID, LOOPBACK_REDIRECT_URI, PERSON_SCOPES, type TokenSet } from './constants.ts';
