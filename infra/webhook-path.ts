/**
 * The route ElevenLabs posts to: the stack's HTTP API route, and the path `npm start`'s local
 * server and the test events use, so local and deployed URLs cannot drift apart. A module of
 * its own so support/ can import it without loading the CDK.
 */
export const WEBHOOK_PATH = '/webhooks/elevenlabs';
