// The window's keyboard, its pure parts: which tab a key moves to (renderer/common/tab-keys)
// and where Space already means something, so that the replay's Space leaves it alone
// (renderer/replay/space-key).

import { describe, expect, it } from 'vitest';
import { tabAfterKey } from '../renderer/common/tab-keys';
import { spaceIsTaken, type KeyTarget } from '../renderer/replay/space-key';

describe('tabAfterKey', () => {
  it('moves by one round the ends with Left and Right, to the ends with Home and End', () => {
    expect(tabAfterKey('ArrowRight', 0, 3)).toBe(1);
    expect(tabAfterKey('ArrowRight', 2, 3)).toBe(0);
    expect(tabAfterKey('ArrowLeft', 0, 3)).toBe(2);
    expect(tabAfterKey('ArrowLeft', 2, 3)).toBe(1);
    expect(tabAfterKey('Home', 2, 3)).toBe(0);
    expect(tabAfterKey('End', 0, 3)).toBe(2);
  });

  it('leaves other keys, and an empty strip, alone', () => {
    expect(tabAfterKey('ArrowDown', 0, 3)).toBeUndefined();
    expect(tabAfterKey(' ', 0, 3)).toBeUndefined();
    expect(tabAfterKey('ArrowRight', 0, 0)).toBeUndefined();
  });
});

describe('spaceIsTaken', () => {
  const el = (tagName: string, over: Partial<KeyTarget> = {}): KeyTarget => ({ tagName, role: null, hasHref: false, editable: false, ...over });

  it('leaves Space to text fields, selects, buttons, links, check boxes and summaries', () => {
    for (const type of ['text', 'search', 'number', 'checkbox', 'radio', 'button', 'file']) expect(spaceIsTaken(el('INPUT', { type }))).toBe(true);
    for (const tag of ['TEXTAREA', 'SELECT', 'BUTTON', 'SUMMARY']) expect(spaceIsTaken(el(tag))).toBe(true);
    expect(spaceIsTaken(el('A', { hasHref: true }))).toBe(true);
    expect(spaceIsTaken(el('DIV', { editable: true }))).toBe(true);
    for (const role of ['button', 'tab', 'checkbox', 'link']) expect(spaceIsTaken(el('SPAN', { role }))).toBe(true);
  });

  it('takes Space on the page, the scrubber (a range), a canvas, an anchor without href', () => {
    expect(spaceIsTaken(el('BODY'))).toBe(false);
    expect(spaceIsTaken(el('INPUT', { type: 'range' }))).toBe(false);
    expect(spaceIsTaken(el('CANVAS'))).toBe(false);
    expect(spaceIsTaken(el('A'))).toBe(false);
    expect(spaceIsTaken(el('DIV', { role: 'group' }))).toBe(false);
  });
});
