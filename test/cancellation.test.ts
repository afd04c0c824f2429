import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallCancellation, cancellationOf } from '../src/core/cancellation.js';

// A call's cancellation (src/core/cancellation.ts) aborts as an AbortController does, and makes
// its AbortSignal only when asked.

test('a call cancellation aborts once, tells its listeners, and its signal, made before or after, aborts with the same reason', () => {
  const early = new CallCancellation();
  const signal = early.signal;
  const heard: unknown[] = [];
  early.onAbort((reason) => heard.push(reason));
  const stop = early.onAbort(() => heard.push('stopped listener'));
  stop();
  let signalled: unknown;
  signal.addEventListener('abort', () => (signalled = signal.reason));
  early.abort('the agent cancelled');
  early.abort('a second abort changes nothing');
  assert.deepEqual([early.aborted, early.reason, heard, signalled], [true, 'the agent cancelled', ['the agent cancelled'], 'the agent cancelled']);
  assert.equal(early.signal, signal, 'one signal');

  const late = new CallCancellation();
  late.abort();
  const reference = new AbortController();
  reference.abort();
  assert.ok(late.reason instanceof DOMException);
  assert.deepEqual([(late.reason as DOMException).name, (late.reason as DOMException).message], [(reference.signal.reason as DOMException).name, (reference.signal.reason as DOMException).message], 'no reason: an AbortError, as AbortController gives');
  assert.equal(late.signal.aborted, true, 'a signal made after the abort is aborted');
  assert.equal(late.signal.reason, late.reason);
  let calledLate = false;
  late.onAbort(() => (calledLate = true))();
  assert.equal(calledLate, false, 'listening after the abort hears nothing');
});

test('a cancellation that follows an AbortSignal reads it and listens to it', () => {
  const controller = new AbortController();
  const followed = cancellationOf(controller.signal);
  const heard: unknown[] = [];
  followed.onAbort((reason) => heard.push(reason));
  const stop = followed.onAbort(() => heard.push('stopped listener'));
  stop();
  assert.equal(followed.aborted, false);
  controller.abort('bye');
  assert.deepEqual([followed.aborted, followed.reason, heard, followed.signal], [true, 'bye', ['bye'], controller.signal]);
});
