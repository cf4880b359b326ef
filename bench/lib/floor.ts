/**
 * The floor of figures 3 and 6: what any receiver must do per event, and nothing else —
 * HMAC-SHA256 over the body, JSON.parse, and one POST of a body the size of the handler's CRM
 * payload over an undici keep-alive Agent with the CRM client's connection settings
 * (lambda/adapters/crm-client.ts). One definition for per-event.ts, throughput-server.ts and
 * profile-child.ts; the parts are named functions so they show up by name in CPU profiles.
 */
import { createHmac } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';

/** A JSON body of exactly `bytes` bytes, so the floor's POST is the size of the handler's. */
function paddedJson(bytes: number): string {
  return `{"p":"${'x'.repeat(Math.max(0, bytes - 8))}"}`;
}

export interface Floor {
  /** Does the floor's work for one signed body; the result keeps the work observable. */
  run(body: string, signatureHeader: string): Promise<{ statusCode: number; type: string; digestLength: number }>;
  close(): Promise<void>;
}

export function createFloor(secret: string, crmUrl: string, crmPayloadBytes: number): Floor {
  const agent = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections: 32 });
  const crmBody = paddedJson(crmPayloadBytes);

  function floorHmac(signatureHeader: string, body: string): string {
    const t = signatureHeader.slice(2, signatureHeader.indexOf(','));
    return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  }
  function floorParse(body: string): { type: string } {
    return JSON.parse(body) as { type: string };
  }
  async function floorPost(): Promise<number> {
    const response = await request(crmUrl, {
      method: 'POST',
      dispatcher: agent as Dispatcher,
      headers: { 'content-type': 'application/json', 'user-agent': 'bench-floor/1' },
      body: crmBody,
    });
    await response.body.dump();
    return response.statusCode;
  }

  return {
    async run(body, signatureHeader) {
      const digest = floorHmac(signatureHeader, body);
      const parsed = floorParse(body);
      const statusCode = await floorPost();
      return { statusCode, type: parsed.type, digestLength: digest.length };
    },
    close: () => agent.close(),
  };
}
