/**
 * `--local` for the CLIs that act on a deployment (`backfill`, `replay`): the same work against a
 * running `npm start` instead — its embedded S3 (the archive and recordings), its DynamoDB, its
 * CRM sink (or CRM_WEBHOOK_URL) and its folder queues — found through its `server.json`.
 * Settings the user gives (.env or the environment: ELEVENLABS_API_KEY, CRM_* mapping) still apply.
 */
import { CliError } from './cli';
import { loadLocalConfig, loadLocalEnv, localPaths, shownPath } from './local-config';
import { isServerAlive, readServerRecord } from './server-record';

/** The environment to run with; also applied to process.env, where the AWS SDK reads endpoints and credentials. */
export async function localTargetEnv(): Promise<NodeJS.ProcessEnv> {
  let dataDir: string;
  let fileEnv: NodeJS.ProcessEnv;
  try {
    fileEnv = loadLocalEnv(process.env).env;
    dataDir = loadLocalConfig(fileEnv).dataDir;
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const record = readServerRecord(localPaths(dataDir).serverFile);
  if (!record || !(await isServerAlive(record))) {
    throw new CliError(
      `--local works against a running npm start (its bucket, CRM sink and queues), and none runs against ${shownPath(dataDir)}/: start it first (npm start), or set LOCAL_DATA_DIR to its folder`,
    );
  }
  if (!record.env) throw new CliError('the running npm start is from an older version; restart it, then try again');
  return Object.assign(process.env, fileEnv, record.env);
}
