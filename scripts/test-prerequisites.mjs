// `npm test`'s pretest step: the system packages some suites need (Debian chromium for the /mesh page test), installed
// with apt-get when missing and running as root; otherwise it stops with the command to run. Add a suite's needs here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → a file it installs (present means installed). */
const NEEDED = { chromium: '/usr/bin/chromium' };

const missing = Object.entries(NEEDED)
  .filter(([, file]) => !existsSync(file))
  .map(([name]) => name);
if (missing.length > 0) {
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      `npm test needs these Debian packages: ${missing.join(', ')}. Install them (sudo ${command}) and run it again.\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`pretest: installing ${missing.join(', ')} (${command})\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}
