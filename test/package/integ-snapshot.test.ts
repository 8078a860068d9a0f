/**
 * The integration tests' committed snapshots are current: each test/integ.*.ts is synthesized
 * again, as integ-runner does (scripts/integ-snapshot.js), and every template must equal the one
 * in test/integ.*.ts.snapshot/. Like integ-runner (without `diffAssets`), asset hashes are not
 * compared, so a change to the handler's code alone does not need a new snapshot; nor is the
 * assertion custom resources' `salt`, which integ-tests-alpha sets from the clock at every synth.
 *
 * When this fails because the stacks changed on purpose: `npm run integ:snapshot`, and commit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const { synthIntegApp, integApps } = require('../../scripts/integ-snapshot') as {
  synthIntegApp(file: string, outdir: string): string;
  integApps(): string[];
};

const ROOT = path.join(__dirname, '..', '..');
const UPDATE = 'run `npm run integ:snapshot` and commit the snapshot if the change is intended';

/** A template as text, with what differs between two synths of the same source made uniform. */
function normalized(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8')
    .replace(/[0-9a-f]{64}/g, '<asset-hash>')
    .replace(/"salt": "\d+"/g, '"salt": "<salt>"');
  return JSON.parse(text);
}

const templatesOf = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.template.json')).sort();

describe.each(integApps())('the integ snapshot of %s', (app) => {
  const snapshot = path.join(ROOT, `${app}.snapshot`);
  let fresh: string;

  beforeAll(() => {
    fresh = synthIntegApp(app, fs.mkdtempSync(path.join(os.tmpdir(), 'byok-integ-')));
  }, 120_000);

  afterAll(() => {
    if (fresh) fs.rmSync(fresh, { recursive: true, force: true });
  });

  test('is committed', () => {
    expect(fs.existsSync(path.join(snapshot, 'integ.json'))).toBe(true);
  });

  test('has the same stacks and test cases as the app synthesizes now', () => {
    expect({ stacks: templatesOf(fresh), why: UPDATE }).toEqual({ stacks: templatesOf(snapshot), why: UPDATE });
    expect(JSON.parse(fs.readFileSync(path.join(fresh, 'integ.json'), 'utf8')))
      .toEqual(JSON.parse(fs.readFileSync(path.join(snapshot, 'integ.json'), 'utf8')));
  });

  test('has the same templates as the app synthesizes now (asset hashes and salts aside)', () => {
    const changed = templatesOf(fresh).filter((t) => fs.existsSync(path.join(snapshot, t))
      && JSON.stringify(normalized(path.join(fresh, t))) !== JSON.stringify(normalized(path.join(snapshot, t))));
    for (const t of changed) {
      // The first differing template, in full, so that the diff shows what changed.
      expect({ template: t, why: UPDATE, content: normalized(path.join(fresh, t)) })
        .toEqual({ template: t, why: UPDATE, content: normalized(path.join(snapshot, t)) });
    }
    expect(changed).toEqual([]);
  });

  test('holds every file asset its own asset manifests name, so integ-runner can deploy it first', () => {
    const missing = fs.readdirSync(snapshot).filter((f) => f.endsWith('.assets.json')).flatMap((manifest) => {
      const files = JSON.parse(fs.readFileSync(path.join(snapshot, manifest), 'utf8')).files ?? {};
      return Object.values(files as Record<string, { source: { path: string } }>)
        .map((a) => a.source.path)
        .filter((p) => !fs.existsSync(path.join(snapshot, p)))
        .map((p) => `${manifest}: ${p}`);
    });
    expect(missing).toEqual([]);
  });
});
