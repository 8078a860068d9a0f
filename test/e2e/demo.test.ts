import { runDemo } from '../../bin/demo';

test('the demo imports the secret\'s material end to end and proves it with a round trip', async () => {
  const lines: string[] = [];
  const result = await runDemo((l) => lines.push(l));
  expect(result).toMatchObject({ keyState: 'Enabled', materialMatches: true, roundTrip: true });
  expect(lines).toContainEqual(expect.stringMatching(/^KeyArn: arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36}$/));
  expect(lines).toContainEqual(expect.stringMatching(/^Encrypt\/Decrypt round trip: OK .* equals the secret's material$/));
});
