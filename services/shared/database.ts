/**
 * Each example service keeps its state in its own SQLite file
 * (`<DATA_DIR>/<service>.db`) through better-sqlite3: a real embedded
 * database, so a restarted service loses nothing, and synchronous
 * transactions, so a check-then-update (stock, idempotency keys) is atomic.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { dataDir } from './env.js';

/** An open service database. */
export type ServiceDatabase = Database.Database;

/**
 * Opens (creating if needed) `<DATA_DIR>/<service>.db` and brings its schema
 * up to date. `migrations[i]` is applied once, in a transaction, when the
 * file's `user_version` is `i`; never edit a shipped migration, append one.
 *
 * WAL journal (readers never block the writer), `synchronous=NORMAL` (a
 * process crash loses nothing; only an OS crash may lose the last commits),
 * and a 5 s busy timeout so several processes may share one file (two
 * inventory instances do in the tests): writers then queue on SQLite's lock.
 */
export function openDatabase(
  service: string,
  migrations: readonly string[],
  directory: string = dataDir(),
): ServiceDatabase {
  mkdirSync(directory, { recursive: true });
  const db = new Database(join(directory, `${service}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const migrate = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let next = version; next < migrations.length; next++) {
      db.exec(migrations[next]!);
      db.pragma(`user_version = ${next + 1}`);
    }
  });
  migrate.immediate();
  return db;
}
