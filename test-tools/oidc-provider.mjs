// A real OpenID Connect provider for the tests (node-oidc-provider, an OpenID-certified implementation) on a
// loopback port, started by geo_siac.testing.OidcProvider:
//   node oidc-provider.mjs '{"port": 41234, "clients": [...], "accounts": {"rosa": {"email": ..., "email_verified": true}}}'
// Its development login form takes any password for an account listed here; the signing key is new at each start.
// It prints "listening <issuer>" once it answers.
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const { port, clients, accounts } = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' }] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The provider refuses an authorization request without a PKCE challenge, so the tests show GeoSIAC sends one.
  pkce: { required: () => true },
  findAccount: async (ctx, id) => (accounts[id]
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
    : undefined),
  cookies: { keys: ['geo-siac-test-provider-only'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
