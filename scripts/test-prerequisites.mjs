// `npm test`'s pretest step, so the README's one test command passes by itself on a fresh machine:
// - the system packages some suites need (Debian chromium for the /mesh page and Connect browser tests; RabbitMQ and
//   its rabbitmqctl for every broker suite), installed with apt-get when missing and running as root, otherwise it
//   stops with the command to run. Add a suite's needs here.
// - a local RabbitMQ that is installed but not running is started (`rabbitmq-server -detached`) and awaited. A running
//   broker is never touched; with AMQP_URL pointing elsewhere nothing is started.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → a file it installs (present means installed). */
const NEEDED = { chromium: '/usr/bin/chromium', 'rabbitmq-server': '/usr/sbin/rabbitmqctl' };

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

const url = process.env['AMQP_URL'] ?? '';
const local = url === '' || /@(localhost|127\.0\.0\.1)(:5672)?(\/|$)/.test(url);
if (local && !answers()) {
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'npm test needs RabbitMQ on localhost:5672: start it (sudo rabbitmq-server -detached) and run it again.\n',
    );
    process.exit(1);
  }
  process.stderr.write('pretest: RabbitMQ is not running; starting it (rabbitmq-server -detached)\n');
  execFileSync('rabbitmq-server', ['-detached'], { stdio: 'inherit' });
  execFileSync('rabbitmqctl', ['-q', 'await_startup', '--timeout', '120'], { stdio: 'inherit' });
}

/** True when the local node answers `rabbitmqctl status`. */
function answers() {
  try {
    execFileSync('rabbitmqctl', ['-q', 'status'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
