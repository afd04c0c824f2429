import { test } from 'node:test';

/**
 * The `it` of a contract suite: each test gets a fresh fixture from `open`, closed however the
 * test ends, so that every adapter runs the same body on an empty store.
 */
export function fixtureTest<F extends { close(): Promise<void> }>(open: () => Promise<F>): (title: string, body: (fixture: F) => Promise<void>) => void {
  return (title, body) => {
    test(title, async () => {
      const fixture = await open();
      try {
        await body(fixture);
      } finally {
        await fixture.close();
      }
    });
  };
}
