import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProgressBar, type ProgressStream } from '../src/cli/progress-bar.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { CLI } from './helpers/gatehouse.js';

function stream(isTTY: boolean, columns = 80): ProgressStream & { text: string } {
  const captured = {
    text: '',
    isTTY,
    columns,
    write(chunk: string) {
      captured.text += chunk;
      return true;
    },
  };
  return captured;
}

describe('progress bar', () => {
  test('on a terminal: the step with a bar and its percentage, redrawn in place; lines go above it; stop clears it', () => {
    const out = stream(true);
    const bar = new ProgressBar(out, () => 42, 60_000);
    bar.start('stage.caaspp');
    assert.ok(out.text.startsWith(`\rstage.caaspp [${'#'.repeat(13)}${'.'.repeat(17)}]  42%  0.`), JSON.stringify(out.text));
    assert.ok(out.text.endsWith(' s\x1b[K'), JSON.stringify(out.text));
    out.text = '';
    bar.line('  stage.caaspp: 909,185 rows (18.8 s)');
    assert.ok(out.text.startsWith('\r\x1b[K  stage.caaspp: 909,185 rows (18.8 s)\n\rstage.caaspp ['), JSON.stringify(out.text));
    out.text = '';
    bar.stop();
    assert.equal(out.text, '\r\x1b[K');
    out.text = '';
    bar.line('after');
    assert.equal(out.text, 'after\n', 'no bar is drawn again after stop');
  });

  test('an unknown percentage shows the step and the time only; a line wider than the terminal is cut', () => {
    const out = stream(true, 30);
    new ProgressBar(out, () => undefined, 60_000).start('a step with a rather long label that goes on');
    const drawn = out.text.replace('\r', '').replace('\x1b[K', '');
    assert.equal(drawn.length, 29);
    assert.ok(!drawn.includes('['));
  });

  test('tick redraws at most once per interval', () => {
    const out = stream(true);
    let percent = 10;
    const bar = new ProgressBar(out, () => percent, 60_000);
    bar.start('writing files');
    percent = 90;
    bar.tick();
    assert.doesNotMatch(out.text, /90%/, 'drawn a moment ago: not redrawn');
    bar.stop();
  });

  test('not a terminal: only the lines, no bar and no escape codes', () => {
    const out = stream(false);
    const bar = new ProgressBar(out, () => 50, 10);
    bar.start('raw caaspp');
    bar.tick();
    bar.line('  raw caaspp: 10 rows in 0.1 s');
    bar.stop();
    assert.equal(out.text, '  raw caaspp: 10 rows in 0.1 s\n');
  });
});

test('DuckDB reports how far a long statement is, and nothing while idle', async () => {
  const engine = await openEngine({ engine: 'duckdb', database: ':memory:', threads: 1, trackProgress: true });
  try {
    assert.equal(engine.progress(), undefined, 'idle');
    const seen: number[] = [];
    const poll = setInterval(() => {
      const percent = engine.progress();
      if (percent !== undefined) seen.push(percent);
    }, 25);
    try {
      // A table scan (a range() alone reports no progress), over a second on one thread: tracked after 500 ms, polled many times.
      await engine.exec('CREATE TABLE t AS SELECT range AS i FROM range(3000000)');
      await engine.query('SELECT count(DISTINCT md5(i::VARCHAR)) AS n FROM t');
    } finally {
      clearInterval(poll);
    }
    assert.ok(seen.length > 0, 'a percentage while it ran');
    assert.ok(seen.every((percent) => percent >= 0 && percent <= 100), seen.join(', '));
    assert.ok(seen.some((percent) => percent > 0 && percent < 100), `a value between the ends: ${seen.slice(0, 10).join(', ')}`);
  } finally {
    await engine.close();
  }
});

test('DuckDB tracks no progress unless asked (it costs CPU on every task)', async () => {
  const engine = await openEngine({ engine: 'duckdb', database: ':memory:', threads: 1 });
  try {
    const [row] = await engine.query("SELECT current_setting('enable_progress_bar') AS tracked");
    assert.equal(row!.tracked, false);
    assert.equal(engine.progress(), undefined);
  } finally {
    await engine.close();
  }
});

test('gatehouse pipeline generate draws its bar on a terminal (a pseudo-terminal from script(1))', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'gatehouse-progress-'));
  try {
    const command = [process.execPath, CLI, 'pipeline', 'generate', '--rows', '100000', '--seed', '3', '--out', out].map((arg) => `'${arg}'`).join(' ');
    const typescript = execFileSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
    assert.match(typescript, /\rwriting files \[#*\.*\]\s+\d+%/, 'a bar with a percentage');
    assert.match(typescript, /wrote cdenroll\d+\.txt/);
    assert.match(typescript, /generated [\d,]+ rows/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
