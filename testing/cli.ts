#!/usr/bin/env node
/**
 * `cdk-kms-byok-emulator`: the KMS emulator as a standalone server on 127.0.0.1, for any SDK or
 * the AWS CLI (`--endpoint-url`, `AWS_ENDPOINT_URL_KMS`). It prints exactly one line on stdout,
 * `listening on http://127.0.0.1:PORT`, once requests are accepted (so scripts can wait for it
 * and read the port when `--port 0` picked one), and stops cleanly on SIGTERM or SIGINT.
 * Exit codes: 0 stopped by a signal or --help, 1 could not start, 2 bad command line.
 */
import { EmulatorClock, KmsEmulator } from './emulator';

const NAME = 'cdk-kms-byok-emulator';

const USAGE = `Usage: ${NAME} [--port 4599] [--region us-east-1] [--account 111122223333] [--clock 2027-01-01T00:00:00Z]

A local AWS KMS endpoint (JSON 1.1 protocol) on 127.0.0.1 that imports key material like KMS does.

Options:
  --port N         TCP port on 127.0.0.1; 0 picks a free one (default 4599)
  --region R       Region of requests whose signature names none (default us-east-1);
                   signed requests use the Region of their credential scope
  --account ID     12-digit account id of every caller (default 111122223333)
  --clock TIME     start the emulator's clock at this ISO 8601 time; it keeps running from
                   there (import tokens and ValidTo expire against it) (default: real time)
  --quotas on|off  throttle like KMS's default request quotas per account, Region and
                   operation, e.g. GetParametersForImport once every 4 s (default on)
  -h, --help       print this help

Prints "listening on http://127.0.0.1:PORT" when ready; stops on SIGTERM or SIGINT.
Example:
  ${NAME} --port 4599 &
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws kms create-key --origin EXTERNAL \\
    --endpoint-url http://127.0.0.1:4599 --region us-east-1
`;

interface CliOptions {
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  readonly clock?: Date;
  readonly quotas: boolean;
  readonly help: boolean;
}

class UsageError extends Error {}

const FLAGS = ['--port', '--region', '--account', '--clock', '--quotas'] as const;
type Flag = (typeof FLAGS)[number];

function parseArgs(argv: readonly string[]): CliOptions {
  const values: Partial<Record<Flag, string>> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!(FLAGS as readonly string[]).includes(name)) throw new UsageError(arg.startsWith('-') ? `unknown option '${name}'` : `unexpected argument '${arg}'`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`option '${name}' needs a value`);
    values[name as Flag] = value;
  }

  const portText = values['--port'] ?? '4599';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port '${portText}' is not a port number (0-65535)`);
  const region = values['--region'] ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region '${region}' is not an AWS Region name, e.g. us-east-1`);
  const accountId = values['--account'] ?? '111122223333';
  if (!/^\d{12}$/.test(accountId)) throw new UsageError(`--account '${accountId}' is not a 12-digit AWS account id`);
  let clock: Date | undefined;
  if (values['--clock'] !== undefined) {
    clock = new Date(values['--clock']);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values['--clock']) || Number.isNaN(clock.getTime())) {
      throw new UsageError(`--clock '${values['--clock']}' is not an ISO 8601 time, e.g. 2027-01-01T00:00:00Z`);
    }
  }
  const quotas = values['--quotas'] ?? 'on';
  if (quotas !== 'on' && quotas !== 'off') throw new UsageError(`--quotas '${quotas}' is not 'on' or 'off'`);
  return { port, region, accountId, clock, quotas: quotas === 'on', help };
}

async function main(argv: readonly string[]): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${NAME}: ${e.message}\nTry '${NAME} --help'.\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  let emulator: KmsEmulator;
  try {
    emulator = await KmsEmulator.start({
      port: options.port,
      host: '127.0.0.1',
      region: options.region,
      accountId: options.accountId,
      clock: options.clock ? new EmulatorClock(options.clock) : undefined,
      quotas: { enabled: options.quotas },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.message;
    process.stderr.write(`${NAME}: cannot listen on 127.0.0.1:${options.port}: ${why}\n`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${NAME}: ${signal}, stopping\n`);
    emulator.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`${NAME}: error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`listening on ${emulator.endpoint}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${NAME}: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
