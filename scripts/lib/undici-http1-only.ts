/**
 * An esbuild plugin that leaves out the two parts of undici our agents can never reach (SPEC
 * §14: less to load on a cold start, in every bundle that carries undici).
 *
 * - `lib/dispatcher/client-h2.js`, undici's HTTP/2 client, and with it `node:http2`, which it
 *   loads at import (~3.5 ms on Node 24). undici speaks HTTP/2 only when TLS negotiates `h2`,
 *   and it offers `h2` in ALPN only when the agent sets `allowH2` (lib/core/connect.js); ours
 *   set `allowH2: false` themselves (adapters/crm-client.ts, adapters/elevenlabs-api.ts), so no
 *   future default can turn it on (crm-client.test.ts and read-adapters.test.ts hold each agent
 *   to it against a server that prefers h2).
 * - `lib/web/fetch/body.js` as the HTTP/1.1 and HTTP/2 clients require it: only to encode a
 *   `FormData` request body, which we never send (the CRM gets JSON, ElevenLabs only GETs). It
 *   pulls in most of undici's fetch (WebIDL, the multipart parser, data: URLs): ~45 KiB.
 *
 * Each is replaced by a module that throws if it is ever reached, naming why, rather than
 * failing later in a confusing way. Paths are undici 7's; if a release moves them, nothing
 * matches and the bundle simply carries them again (test/integration/bundle.test.ts notices).
 */
import type { Plugin } from 'esbuild';

const NAMESPACE = 'undici-http1-only';

const LEFT_OUT: { request: RegExp; importer: RegExp; name: string; contents: string }[] = [
  {
    request: /^\.\/client-h2\.js$/,
    importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    name: 'client-h2',
    contents:
      "module.exports = function connectH2() { throw new Error('undici negotiated HTTP/2, which this bundle leaves out: set allowH2: false on the agent (scripts/lib/undici-http1-only.ts)'); };",
  },
  {
    request: /^\.\.\/web\/fetch\/body\.js$/,
    importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h[12]\.js$/,
    name: 'fetch-body',
    contents:
      "module.exports = { extractBody() { throw new Error('a FormData request body, which this bundle leaves out (scripts/lib/undici-http1-only.ts)'); } };",
  },
];

export const undiciHttp1Only: Plugin = {
  name: NAMESPACE,
  setup(build) {
    for (const part of LEFT_OUT) {
      build.onResolve({ filter: part.request }, (args) =>
        part.importer.test(args.importer) ? { path: part.name, namespace: NAMESPACE } : undefined,
      );
    }
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const part = LEFT_OUT.find((p) => p.name === args.path);
      return part ? { contents: part.contents, loader: 'js' } : undefined;
    });
  },
};
