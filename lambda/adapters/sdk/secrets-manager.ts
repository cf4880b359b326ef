/** The parts of the Secrets Manager client the adapters use; see `sdk/s3.ts` for why this module exists. */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
