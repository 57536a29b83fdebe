/**
 * Names shared by the identity provider (./provider.ts) and its relying parties
 * (./login-flow.ts, ./client-credentials.ts). Kept apart so that a relying party never loads
 * oidc-provider itself (the `sluice demo token` exec plugin stays small and quiet).
 */

/** Scopes the public client may ask for. `groups` puts the groups claim into ID tokens. */
export const PERSON_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'] as const;

/** Redirect URI registered for the public client; any loopback port is accepted (native app, RFC 8252 §7.3). */
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/callback';

/** Default client_id of the first-party public client used by people. */
export const DEFAULT_PUBLIC_CLIENT_ID = 'sluice-cli';

/** Default audience of access tokens (what kube-apiserver calls --oidc-client-id). */
export const DEFAULT_AUDIENCE = 'sluice';

/** Tokens as the relying-party helpers return them. */
export interface TokenSet {
  /** JWT access token (RFC 9068 style) for the requested audience. */
  accessToken: string;
  /** OpenID Connect ID token (people only). */
  idToken?: string;
  /** Refresh token (people, when offline access was asked for). */
  refreshToken?: string;
  /** When the access token expires. */
  expiresAt: Date;
  /** Granted scope, as the token endpoint reported it. */
  scope?: string;
}
