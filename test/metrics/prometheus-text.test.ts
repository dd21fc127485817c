import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

// The test parser is strict on purpose: these pin what it refuses, so that a scrape it
// accepts is well-formed.
describe('parsePrometheusText (test helper)', () => {
  it('reads families, labels with escapes, and special values', () => {
    const families = parsePrometheusText(
      [
        '# HELP a_total Things\\nand more \\\\ here',
        '# TYPE a_total counter',
        'a_total{q="x\\"y\\\\z\\n",t="b"} 3',
        'a_total{q="w",} 1 1700000000000',
        '# TYPE h histogram',
        'h_bucket{le="0.5"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 1.5e0',
        'h_count 2',
        '# a comment',
        'g NaN',
        '',
      ].join('\n'),
    );
    assert.equal(families.get('a_total')!.help, 'Things\nand more \\ here');
    assert.equal(sampleValue(families, 'a_total', { q: 'x"y\\z\n', t: 'b' }), 3);
    assert.equal(sampleValue(families, 'a_total', { q: 'w' }), 1);
    assert.equal(sampleValue(families, 'h_bucket', { le: '+Inf' }), 2);
    assert.equal(sampleValue(families, 'h_sum'), 1.5);
    assert.ok(Number.isNaN(sampleValue(families, 'g')));
    assert.equal(families.get('g')!.type, 'untyped');
  });

  for (const [what, text] of [
    ['a series twice', 'a 1\na 2\n'],
    ['a split family', 'a{x="1"} 1\nb 1\na{x="2"} 1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['two TYPE lines', '# TYPE a gauge\n# TYPE a gauge\na 1\n'],
    ['an unknown type', '# TYPE a thing\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['an unterminated label', 'a{x="1} 1\n'],
    ['a label given twice', 'a{x="1",x="2"} 1\n'],
    ['a bad value', 'a 1,5\n'],
    ['a missing newline at the end', 'a 1'],
    ['a histogram bucket without le', '# TYPE h histogram\nh_bucket 1\n'],
    ['le outside a bucket', '# TYPE h histogram\nh_sum{le="1"} 1\n'],
    ['a stray histogram sample', '# TYPE h histogram\nh 1\n'],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parsePrometheusText(text), /exposition line/);
    });
  }
});
