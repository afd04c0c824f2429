/**
 * Advances a projection chunk by chunk while it is `behind()`: each `step(limit)` is one
 * transaction that projects at most `limit` further events and answers how many it advanced.
 * Stops after `maxEvents`, or when a step advances none. Returns how many it advanced. The runs
 * adapters share this; their SQL differs, their chunking does not.
 */
export async function catchUp(
  behind: () => boolean | Promise<boolean>,
  step: (limit: number) => number | Promise<number>,
  options: { maxEvents: number; chunk: number },
): Promise<number> {
  let done = 0;
  while (done < options.maxEvents && (await behind())) {
    const advanced = await step(Math.min(options.chunk, options.maxEvents - done));
    if (advanced === 0) break;
    done += advanced;
  }
  return done;
}
