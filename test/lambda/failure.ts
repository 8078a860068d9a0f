import { ImportError } from '../../lambda/errors';

/** The ImportError a handler call rejects with; fails the test if it resolves or rejects otherwise. */
export async function failure(p: Promise<unknown>): Promise<ImportError> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(ImportError);
  return e as ImportError;
}
