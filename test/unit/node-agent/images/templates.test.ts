// Covers src/node-agent/images/templates.ts: golden renderings of LXD-style image templates
// (test/testdata/node-agent/templates/*.tpl with their .json inputs and .out expectations;
// REWRITE=1 rewrites the .out files) and the errors for malformed templates.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lxdTemplateContext, renderTemplate, type LxdTemplateInput } from '../../../../src/node-agent/images/templates.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

const DIR = join(import.meta.dirname, '../../../testdata/node-agent/templates');

describe('src/node-agent/images/templates', () => {
  describe('renderTemplate (golden)', () => {
    for (const tpl of readdirSync(DIR).filter((f) => f.endsWith('.tpl')).sort()) {
      const base = tpl.slice(0, -4);
      it(`renders ${base}`, () => {
        const input = JSON.parse(readFileSync(join(DIR, `${base}.json`), 'utf8')) as LxdTemplateInput;
        const got = renderTemplate(readFileSync(join(DIR, tpl), 'utf8'), lxdTemplateContext(input), tpl);
        if (process.env['REWRITE'] === '1') writeFileSync(join(DIR, `${base}.out`), got);
        assert.equal(got, readFileSync(join(DIR, `${base}.out`), 'utf8'));
      });
    }
  });

  describe('renderTemplate', () => {
    it('renders nil as empty and booleans as pongo2 does', () => {
      assert.equal(renderTemplate('[{{ nothing }}|{{ yes }}|{{ 3 }}|{{ list }}]', { yes: true, list: ['a', 'b'] }), '[|True|3|[a b]]');
    });

    it('trims whitespace around {%- and -%}', () => {
      assert.equal(renderTemplate('a  \n{%- if true -%}\n  b  \n{%- endif %}', {}), 'ab');
    });

    const bad: [string, string, RegExp][] = [
      ['an unclosed tag', 'x {% if a %', /line 1: unclosed "\{%"/],
      ['a missing endif', 'a\n{% if a %}x', /line 2: missing "\{% endif %\}"/],
      ['an unknown tag', '{% include "x" %}', /unknown tag "include"/],
      ['an unknown filter', '{{ a|shout }}', /unknown filter "shout"/],
      ['a stray endfor', '{% endfor %}', /unexpected "\{% endfor %\}"/],
      ['a malformed expression', '{{ a == }}', /unexpected end/],
      ['a call of a non-function', '{{ name() }}', /not a function/],
    ];
    for (const [what, src, message] of bad) {
      it(`rejects ${what} with INVALID_ARGUMENT naming the template`, () => {
        assert.throws(
          () => renderTemplate(src, { name: 'x' }, 'bad.tpl'),
          (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && /^Template "bad\.tpl"/.test(err.message) && message.test(err.message),
        );
      });
    }
  });
});
