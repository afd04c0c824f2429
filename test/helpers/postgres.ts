import { after, before } from 'node:test';
import { startPostgres, type PostgresCluster } from '../../bench/lib/postgres.js';

export { startPostgres, type PostgresCluster } from '../../bench/lib/postgres.js';

/**
 * A real PostgreSQL cluster for the calling test file: started before its first test and
 * stopped after its last (missing binaries fail the file: nothing is skipped). `freshDatabase`
 * creates an empty database on it and returns its connection string.
 */
export function postgresForThisFile(): { cluster: () => PostgresCluster; freshDatabase: () => Promise<string> } {
  let cluster: PostgresCluster | undefined;
  let databases = 0;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });
  const started = () => {
    if (!cluster) throw new Error('the PostgreSQL cluster did not start (see the before hook)');
    return cluster;
  };
  return {
    cluster: started,
    freshDatabase: () => started().createDatabase(`gatehouse_test_${process.pid}_${++databases}`),
  };
}
